#include "load/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "load/response_parser.h"
#include "net/http_message.h"

namespace chaosplus::load {

namespace {

// Calls fn(literal) and fn_var(name) for the pieces of "a${x}b".
template <typename Lit, typename Var>
void split_template(std::string_view text, Lit lit, Var var) {
  while (!text.empty()) {
    const auto open = text.find("${");
    if (open == std::string_view::npos) break;
    const auto close = text.find('}', open + 2);
    if (close == std::string_view::npos) break;
    if (open > 0) lit(text.substr(0, open));
    var(text.substr(open + 2, close - open - 2));
    text.remove_prefix(close + 1);
  }
  if (!text.empty()) lit(text);
}

bool has_variables(std::string_view text) { return text.find("${") != std::string_view::npos; }

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  fields.push_back(std::move(field));
  return fields;
}

std::string where(const YAML::Node& node) {
  const auto m = node.Mark();
  return "line " + std::to_string(m.line + 1) + ", column " + std::to_string(m.column + 1);
}

}  // namespace

// Appends the steps of one scenario; `where_list` says where the list should have been.
Status Scenario::parse_steps(const YAML::Node& steps, Duration default_think, const std::string& where_list,
                             Scenario& s) {
  if (!steps || !steps.IsSequence() || steps.size() == 0)
    return Error{"'steps' (" + where_list + ") must be a non-empty list"};
  if (steps.size() > 1000) return Error{"at most 1000 steps"};
  for (const auto& node : steps) {
    if (!node.IsMap()) return Error{"step (" + where(node) + "): expected a mapping"};
    ScenarioStep step;
    step.think = default_think;
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      const YAML::Node& v = kv.second;
      if (key == "name") step.name = v.as<std::string>();
      else if (key == "method") step.method = v.as<std::string>();
      else if (key == "path") step.target = v.as<std::string>();
      else if (key == "body") step.body = v.as<std::string>();
      else if (key == "think") {
        auto t = parse_duration(v.as<std::string>());
        if (!t) return Error{"think (" + where(v) + "): " + t.error()};
        step.think = *t;
      } else if (key == "headers") {
        if (!v.IsMap()) return Error{"headers (" + where(v) + "): expected a mapping"};
        for (const auto& h : v) step.headers.emplace_back(h.first.as<std::string>(), h.second.as<std::string>());
      } else if (key == "extract") {
        if (!v.IsMap())
          return Error{"extract (" + where(v) + "): expected a mapping of variable: {json|header|regex: ...}"};
        for (const auto& e : v) {
          Extraction x;
          x.variable = e.first.as<std::string>();
          const YAML::Node& how = e.second;
          if (!how.IsMap() || how.size() != 1)
            return Error{"extract " + x.variable + " (" + where(how) + "): expected one of json, header, regex"};
          const std::string kind = how.begin()->first.as<std::string>();
          x.expression = how.begin()->second.as<std::string>();
          if (kind == "json") x.from = Extraction::From::json;
          else if (kind == "header") x.from = Extraction::From::header;
          else if (kind == "regex") {
            x.from = Extraction::From::regex;
            try {
              std::regex check(x.expression);
              if (check.mark_count() < 1) return Error{"extract " + x.variable + ": the regex needs one (group)"};
            } catch (const std::regex_error& re) {
              return Error{"extract " + x.variable + " (" + where(how) + "): bad regex: " + re.what()};
            }
          } else {
            return Error{"extract " + x.variable + " (" + where(how) + "): unknown source '" + kind +
                         "' (json, header, regex)"};
          }
          step.extract.push_back(std::move(x));
        }
      } else {
        return Error{"step (" + where(kv.first) + "): unknown key '" + key +
                     "' (name, method, path, headers, body, think, extract)"};
      }
    }
    if (step.target.empty() || step.target[0] != '/')
      return Error{"step (" + where(node) + "): path must start with /"};
    s.steps_.push_back(std::move(step));
  }
  return ok_status();
}

std::shared_ptr<const Scenario> Scenario::single(std::string method, std::string target,
                                                 std::vector<std::pair<std::string, std::string>> headers,
                                                 std::string body, Duration think) {
  std::shared_ptr<Scenario> s(new Scenario());
  ScenarioStep step;
  step.method = std::move(method);
  step.target = std::move(target);
  step.headers = std::move(headers);
  step.body = std::move(body);
  step.think = think;
  s->steps_.push_back(std::move(step));
  s->flows_.push_back(ScenarioFlow{"default", 1, 0, 1});
  (void)s->finish();  // a fixed request has no variables to check
  return s;
}

Result<std::shared_ptr<const Scenario>> Scenario::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{"cannot read scenario file " + path};
  std::stringstream text;
  text << in.rdbuf();
  const auto slash = path.rfind('/');
  auto s = parse(text.str(), slash == std::string::npos ? "." : path.substr(0, slash));
  if (!s) return Error{path + ": " + s.error()};
  return s;
}

Result<std::shared_ptr<const Scenario>> Scenario::parse(std::string_view yaml, const std::string& base_dir) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return Error{std::string("invalid YAML: ") + e.what()};
  }
  if (!root.IsMap()) return Error{"a scenario is a mapping with 'steps'"};
  std::shared_ptr<Scenario> s(new Scenario());
  try {
    Duration default_think{};
    if (root["think"]) {
      auto t = parse_duration(root["think"].as<std::string>());
      if (!t) return Error{"think (" + where(root["think"]) + "): " + t.error()};
      default_think = *t;
    }
    if (root["data"]) {
      std::string path = root["data"].as<std::string>();
      if (!path.empty() && path[0] != '/') path = base_dir + "/" + path;
      std::ifstream in(path);
      if (!in) return Error{"data (" + where(root["data"]) + "): cannot read " + path};
      std::string line;
      bool header = true;
      while (std::getline(in, line)) {
        if (line.empty() || line == "\r") continue;
        auto fields = split_csv_line(line);
        if (header) {
          s->csv_columns_ = std::move(fields);
          header = false;
        } else {
          fields.resize(s->csv_columns_.size());
          s->csv_rows_.push_back(std::move(fields));
        }
      }
      if (s->csv_rows_.empty()) return Error{"data file " + path + " has no rows after its header"};
    }
    const YAML::Node steps = root["steps"];
    const YAML::Node mix = root["scenarios"];
    if (root["seed"]) s->seed_ = root["seed"].as<std::uint64_t>();
    if (steps && mix) return Error{"'steps' and 'scenarios' (" + where(mix) + "): expected one of them"};
    if (mix) {
      // A weighted mix: each user's pass (or each arrival) takes one scenario, drawn by weight.
      if (!mix.IsSequence() || mix.size() == 0) return Error{"'scenarios' must be a non-empty list"};
      if (mix.size() > 100) return Error{"at most 100 scenarios"};
      for (const auto& node : mix) {
        if (!node.IsMap()) return Error{"scenario (" + where(node) + "): expected a mapping with name, weight, steps"};
        ScenarioFlow flow;
        Duration think = default_think;
        for (const auto& kv : node) {
          const std::string key = kv.first.as<std::string>();
          if (key != "name" && key != "weight" && key != "think" && key != "steps")
            return Error{"scenario (" + where(kv.first) + "): unknown key '" + key + "' (name, weight, think, steps)"};
        }
        if (!node["name"]) return Error{"scenario (" + where(node) + "): a name is required"};
        flow.name = node["name"].as<std::string>();
        for (const auto& other : s->flows_)
          if (other.name == flow.name)
            return Error{"scenario '" + flow.name + "' (" + where(node) + "): the name is used twice"};
        if (node["weight"]) {
          flow.weight = node["weight"].as<double>();
          if (!(flow.weight > 0) || flow.weight > 1e9)
            return Error{"weight (" + where(node["weight"]) + "): expected a positive number"};
        }
        if (node["think"]) {
          auto t = parse_duration(node["think"].as<std::string>());
          if (!t) return Error{"think (" + where(node["think"]) + "): " + t.error()};
          think = *t;
        }
        flow.first = s->steps_.size();
        if (auto st = parse_steps(node["steps"], think, where(node), *s); !st) return Error{st.error()};
        flow.count = s->steps_.size() - flow.first;
        s->flows_.push_back(std::move(flow));
      }
    } else {
      if (auto st = parse_steps(steps, default_think, "the file", *s); !st) return Error{st.error()};
      s->flows_.push_back(ScenarioFlow{"default", 1, 0, s->steps_.size()});
    }
    if (s->steps_.size() > 10000) return Error{"at most 10000 steps in all"};
  } catch (const YAML::Exception& e) {
    return Error{std::string("scenario: ") + e.what()};
  }
  if (auto st = s->finish(); !st) return Error{st.error()};
  return std::shared_ptr<const Scenario>(std::move(s));
}

Status Scenario::finish() {
  flow_of_step_.assign(steps_.size(), 0);
  cumulative_.clear();
  total_weight_ = 0;
  for (std::size_t f = 0; f < flows_.size(); ++f) {
    for (std::size_t i = 0; i < flows_[f].count; ++i)
      flow_of_step_[flows_[f].first + i] = static_cast<std::uint32_t>(f);
    total_weight_ += flows_[f].weight;
    cumulative_.push_back(total_weight_);
  }
  for (const auto& c : csv_columns_) variables_.push_back(c);
  for (const auto& step : steps_) {
    for (const auto& x : step.extract) {
      if (variable_index(x.variable) == variables_.size()) variables_.push_back(x.variable);
    }
  }
  std::string missing;
  auto check = [&](std::string_view text) {
    split_template(
        text, [](std::string_view) {},
        [&](std::string_view name) {
          if (variable_index(name) == variables_.size() && missing.empty()) missing = std::string(name);
        });
  };
  for (const auto& step : steps_) {
    check(step.target);
    check(step.body);
    for (const auto& h : step.headers) check(h.second);
  }
  if (!missing.empty()) return Error{"${" + missing + "} is used but neither a data column nor extracted by any step"};
  return ok_status();
}

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace

std::size_t Scenario::pick_flow(std::uint64_t seed, std::uint64_t stream, std::uint64_t draw) const {
  if (flows_.size() == 1) return 0;
  // A hash of (seed, stream, draw), not a generator's state: the same user's n-th pass takes the
  // same scenario whichever thread or process runs it.
  const std::uint64_t h = splitmix64(splitmix64(splitmix64(seed) ^ stream) ^ draw);
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53 * total_weight_;
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return std::min<std::size_t>(static_cast<std::size_t>(it - cumulative_.begin()), flows_.size() - 1);
}

std::size_t Scenario::variable_index(std::string_view name) const {
  for (std::size_t i = 0; i < variables_.size(); ++i)
    if (variables_[i] == name) return i;
  return variables_.size();
}

bool Scenario::step_is_static(std::size_t step) const {
  const auto& s = steps_[step];
  if (has_variables(s.target) || has_variables(s.body)) return false;
  for (const auto& h : s.headers)
    if (has_variables(h.second)) return false;
  return true;
}

void Scenario::initial_variables(std::uint64_t user, std::vector<std::string>& vars) const {
  vars.assign(variables_.size(), std::string());
  if (csv_rows_.empty()) return;
  const auto& row = csv_rows_[user % csv_rows_.size()];
  for (std::size_t i = 0; i < csv_columns_.size(); ++i) vars[i] = row[i];
}

void Scenario::build_request(std::size_t step, const std::vector<std::string>& vars, std::string_view host,
                             std::string& out) const {
  const auto& s = steps_[step];
  auto expand = [&](std::string_view text) {
    split_template(
        text, [&](std::string_view lit) { out.append(lit); },
        [&](std::string_view name) {
          const auto i = variable_index(name);
          if (i < vars.size()) out.append(vars[i]);
        });
  };
  out.clear();
  out.append(s.method).append(" ");
  expand(s.target);
  out.append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n");
  for (const auto& [name, value] : s.headers) {
    out.append(name).append(": ");
    expand(value);
    out.append("\r\n");
  }
  if (!s.body.empty()) {
    std::string body;
    body.swap(out);
    expand(s.body);
    body.swap(out);  // `out` holds the head again, `body` the expanded body
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  } else {
    out.append("\r\n");
  }
}

int Scenario::extract(std::size_t step, const ResponseCapture& response, std::vector<std::string>& vars) const {
  int misses = 0;
  for (const auto& x : steps_[step].extract) {
    const auto i = variable_index(x.variable);
    if (i >= vars.size()) continue;
    bool found = false;
    switch (x.from) {
      case Extraction::From::header: {
        std::string_view head = response.head;
        // Skip the status line, then look at each "Name: value" line.
        auto pos = head.find('\n');
        while (pos != std::string_view::npos && pos + 1 < head.size()) {
          const auto next = head.find('\n', pos + 1);
          std::string_view line = head.substr(pos + 1, next == std::string_view::npos ? head.npos : next - pos - 1);
          if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
          const auto colon = line.find(':');
          if (colon != std::string_view::npos && net::iequals(line.substr(0, colon), x.expression)) {
            std::string_view v = line.substr(colon + 1);
            while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            vars[i] = std::string(v);
            found = true;
            break;
          }
          pos = next;
        }
        break;
      }
      case Extraction::From::json: {
        auto j = nlohmann::json::parse(response.body, nullptr, false);
        if (j.is_discarded()) break;
        try {
          const auto& v = j.at(nlohmann::json::json_pointer(x.expression));
          vars[i] = v.is_string() ? v.get<std::string>() : v.dump();
          found = true;
        } catch (const nlohmann::json::exception&) {
        }
        break;
      }
      case Extraction::From::regex: {
        std::smatch m;
        const std::regex re(x.expression);
        const std::string text = response.head + response.body;
        if (std::regex_search(text, m, re) && m.size() > 1) {
          vars[i] = m[1].str();
          found = true;
        }
        break;
      }
    }
    if (!found) ++misses;
  }
  return misses;
}

}  // namespace chaosplus::load
