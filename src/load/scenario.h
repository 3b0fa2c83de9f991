#pragma once
// A user's session: a sequence of requests with think times, values extracted from responses
// into variables (${name}) used by later steps, and per-user data from a CSV file. Loaded from
// YAML; the load engine asks it for request bytes and hands it captured responses.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace YAML {
class Node;
}

namespace chaosplus::load {

struct ResponseCapture;

struct Extraction {
  enum class From { header, json, regex };
  std::string variable;
  From from = From::header;
  std::string expression;  // header name, JSON pointer ("/token"), or regex with one group
};

struct ScenarioStep {
  std::string name;
  std::string method = "GET";
  std::string target = "/";                                  // path and query, may contain ${var}
  std::vector<std::pair<std::string, std::string>> headers;  // values may contain ${var}
  std::string body;                                          // may contain ${var}
  Duration think{};
  std::vector<Extraction> extract;
};

// One scenario of a weighted mix: steps [first, first + count) of the Scenario.
struct ScenarioFlow {
  std::string name;
  double weight = 1;
  std::size_t first = 0;
  std::size_t count = 0;
};

class Scenario {
 public:
  // YAML:
  //   think: 1s                    # default think time after each step
  //   data: users.csv              # optional, header row names the columns (variables)
  //   steps:
  //     - name: login
  //       method: POST
  //       path: /login
  //       headers: {Content-Type: application/json}
  //       body: '{"user": "${user}"}'
  //       extract: {token: {json: /token}, session: {header: Set-Cookie}, id: {regex: 'id=(\d+)'}}
  //     - path: /orders?token=${token}
  //       think: 2s
  // or, instead of `steps`, a weighted mix (the draws follow `seed`, default 1):
  //   seed: 42
  //   scenarios:
  //     - {name: browse, weight: 3, steps: [{path: /}, {path: /items}]}
  //     - {name: buy, weight: 1, think: 2s, steps: [{method: POST, path: /checkout}]}
  // Every scenario of a mix shares the data file and the variables.
  // Relative data paths are taken from the scenario file's folder.
  static Result<std::shared_ptr<const Scenario>> load_file(const std::string& path);
  static Result<std::shared_ptr<const Scenario>> parse(std::string_view yaml, const std::string& base_dir = ".");
  // A one-step scenario (what `chaosplus load URL` sends).
  static std::shared_ptr<const Scenario> single(std::string method, std::string target,
                                                std::vector<std::pair<std::string, std::string>> headers,
                                                std::string body, Duration think);

  const std::vector<ScenarioStep>& steps() const { return steps_; }
  // One flow ("default") for a plain scenario, one per entry of a mix.
  const std::vector<ScenarioFlow>& flows() const { return flows_; }
  std::size_t flow_of(std::size_t step) const { return flow_of_step_[step]; }
  bool is_mix() const { return flows_.size() > 1; }
  std::uint64_t seed() const { return seed_; }
  // The flow of the `draw`-th pick of `stream` (a user, or a worker's arrivals): a deterministic
  // function of the three, distributed by the weights.
  std::size_t pick_flow(std::uint64_t seed, std::uint64_t stream, std::uint64_t draw) const;
  std::size_t variable_count() const { return variables_.size(); }
  const std::vector<std::string>& variables() const { return variables_; }
  bool step_is_static(std::size_t step) const;  // no ${var}: the bytes never change
  bool step_extracts(std::size_t step) const { return !steps_[step].extract.empty(); }

  // The variables a new user starts with (its CSV row, rows reused round-robin).
  void initial_variables(std::uint64_t user, std::vector<std::string>& vars) const;
  // Request bytes of `step` for a user with `vars`; `host` is the Host header value.
  void build_request(std::size_t step, const std::vector<std::string>& vars, std::string_view host,
                     std::string& out) const;
  // Sets the step's extracted variables from a response; a value not found leaves it unchanged
  // and counts as a miss (returned).
  int extract(std::size_t step, const ResponseCapture& response, std::vector<std::string>& vars) const;

 private:
  Scenario() = default;
  static Status parse_steps(const YAML::Node& steps, Duration default_think, const std::string& where_list,
                            Scenario& s);
  Status finish();  // collects variable names and flow tables, checks every ${var} is defined somewhere
  std::size_t variable_index(std::string_view name) const;

  std::vector<ScenarioStep> steps_;
  std::vector<ScenarioFlow> flows_;
  std::vector<std::uint32_t> flow_of_step_;
  std::vector<double> cumulative_;  // running sum of the weights
  double total_weight_ = 0;
  std::uint64_t seed_ = 1;
  std::vector<std::string> variables_;
  std::vector<std::string> csv_columns_;
  std::vector<std::vector<std::string>> csv_rows_;
};

}  // namespace chaosplus::load
