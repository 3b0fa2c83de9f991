#include "spec/builder.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <span>

#include "spec/address.h"
#include "spec/fault_catalog.h"
#include "spec/interpolate.h"
#include "spec/kernel_params.h"
#include "spec/schema.h"
#include "spec/suggest.h"
#include "spec/text_rules.h"
#include "spec/yaml_tree.h"

namespace chaosplus::spec::reading {

std::optional<ActivitySpec> Builder::read_load_activity(const YamlNode& node, const std::string& phase,
                                                        const std::string& default_name) {
  auto load = read_load(node, phase, default_name);
  if (!load) return std::nullopt;
  ActivitySpec activity{Load::kKind, load->name, nullptr, node.mark};
  activity.config = std::make_shared<const Load>(std::move(*load));
  return activity;
}

std::optional<Load> Builder::read_load(const YamlNode& node, const std::string& phase,
                                       const std::string& default_name) {
  const std::string what = "load of " + phase;
  if (!check_map(node, what,
                 {"name", "url", "method", "headers", "body", "connections", "threads", "timeout", "rate", "stages",
                  "vus", "think", "scenario", "max_sessions", "seed", "tls", "thresholds", "generators", "on"},
                 "a load: a map with url and a model (connections, rate or stages, vus)")) {
    return std::nullopt;
  }
  const std::size_t before = issues.size();
  Load load;
  load.name = default_name;
  const YamlNode* name = get(node, "name");
  if (name) {
    if (auto text = read_text(*name, "name")) {
      if (is_identifier(*text)) load.name = *text;
      else report(*name, "name: found '" + *text + "', expected letters, digits, '.', '_' or '-'");
    }
  }
  // Declared even when the rest of the block has problems, so guardrails naming it are not
  // reported as well.
  if (!load.name.empty()) {
    if (std::find(declared_loads_.begin(), declared_loads_.end(), load.name) != declared_loads_.end()) {
      report(name ? *name : node, "load name '" + load.name + "' is used twice, expected unique names");
    }
    declared_loads_.push_back(load.name);
  }
  if (const YamlNode* n = require(node, "url", what, "a URL such as http://127.0.0.1:8080/checkout")) {
    if (auto url = read_url(*n, "url")) load.url = *url;
  }
  if (const YamlNode* n = get(node, "method")) {
    if (auto text = read_text(*n, "method")) {
      if (std::find(kHttpMethods.begin(), kHttpMethods.end(), *text) != kHttpMethods.end()) load.method = *text;
      else report(*n, "method: found '" + *text + "', expected one of " + comma_list(kHttpMethods));
    }
  }
  if (const YamlNode* n = get(node, "headers")) {
    load.headers = read_string_map(*n, "headers", is_header_name, "a header name (letters, digits and -)");
  }
  if (const YamlNode* n = get(node, "body")) {
    if (auto text = read_text(*n, "body", true)) load.body = *text;
  }
  if (const YamlNode* n = get(node, "connections")) {
    if (auto v = read_integer(*n, "connections", 1, 100000)) load.connections = static_cast<int>(*v);
  }
  if (const YamlNode* n = get(node, "threads")) {
    if (auto v = read_integer(*n, "threads", 1, 64)) load.threads = static_cast<int>(*v);
  }
  if (const YamlNode* n = get(node, "timeout")) {
    if (auto d = read_duration(*n, "timeout", true)) load.timeout = *d;
  }
  if (const YamlNode* n = get(node, "rate")) {
    if (auto text = read_text(*n, "rate")) {
      auto rate = parse_rate(*text);
      if (rate && *rate > 0) load.rate = *rate;
      else
        report(*n,
               "rate: " + (rate ? "'" + *text + "' is zero, expected a positive rate such as 200/s" : rate.error()));
    }
  }
  if (const YamlNode* n = get(node, "vus")) {
    if (auto v = read_integer(*n, "vus", 1, 10'000'000)) load.vus = static_cast<std::uint64_t>(*v);
  }
  if (const YamlNode* n = get(node, "think")) {
    if (auto d = read_duration(*n, "think", false)) load.think = *d;
  }
  if (const YamlNode* n = get(node, "scenario")) {
    if (auto text = read_text(*n, "scenario")) load.scenario = *text;
  }
  const YamlNode* max_sessions = get(node, "max_sessions");
  if (max_sessions) {
    if (auto v = read_integer(*max_sessions, "max_sessions", 1, 10'000'000)) {
      load.max_sessions = static_cast<std::uint64_t>(*v);
    }
  }
  if (const YamlNode* n = get(node, "seed")) {
    if (auto v = read_integer(*n, "seed", 0, 9'007'199'254'740'991)) load.seed = static_cast<std::uint64_t>(*v);
  }
  if (const YamlNode* n = get(node, "tls")) read_load_tls(*n, load);
  if (const YamlNode* n = get(node, "stages")) read_stages(*n, load);
  if (const YamlNode* n = get(node, "thresholds")) read_thresholds(*n, load);
  read_generators(node, load);
  const bool open = load.rate > 0 || !load.rate_stages.empty();
  const bool users = load.vus > 0 || !load.vu_stages.empty();
  if (open && users) {
    report(node, what +
                     " mixes an arrival rate (rate, or stages with /s) with users (vus, stages without /s), "
                     "expected one model");
  }
  if (max_sessions && !open) {
    report(*max_sessions,
           "max_sessions: found without an arrival rate, expected it only with rate (or stages "
           "with /s) and a scenario, where each arrival runs the scenario once");
  }
  if (issues.size() != before) return std::nullopt;
  return load;
}

void Builder::read_generators(const YamlNode& node, Load& load) {
  const YamlNode* generators = get(node, "generators");
  const YamlNode* on = get(node, "on");
  if (generators) {
    if (auto v = read_integer(*generators, "generators", 1, 1000)) load.generators = static_cast<int>(*v);
  }
  if (on) {
    if (!generators) {
      report(*on, "on: found without generators, expected generators: N with it (the number of agents that send)");
      return;
    }
    // The same reader as a target's `on:`; a load takes the first N matches, so it picks none itself.
    for (const char* key : {"pick", "share"}) {
      if (on->kind == Kind::map && get(*on, key)) {
        report(*get(*on, key), std::string(key) + ": found in the on: of load " + load.name +
                                   ", expected only labels and host (the first `generators` matching agents by name "
                                   "send)");
      }
    }
    if (auto selector = read_agent_selector(*on, "load " + load.name)) {
      load.generators_on = *selector;
      load.generators_on.pick = AgentSelector::Pick::all;
    }
  }
  if (load.generators == 0) return;
  // Every generator needs a connection (and a session slot) of its own, or its share could not be sent.
  if (load.connections < load.generators) {
    report(generators ? *generators : node, "generators: " + std::to_string(load.generators) +
                                                " with connections: " + std::to_string(load.connections) +
                                                ", expected at least one connection per generator");
  }
  if (load.max_sessions && *load.max_sessions < static_cast<std::uint64_t>(load.generators)) {
    report(*generators, "generators: " + std::to_string(load.generators) + " with max_sessions: " +
                            std::to_string(*load.max_sessions) + ", expected at least one session per generator");
  }
}

void Builder::read_load_tls(const YamlNode& node, Load& load) {
  if (!check_map(node, "tls", {"verify", "ca_file"}, "a map with verify (true/false) and ca_file")) return;
  if (const YamlNode* n = get(node, "verify")) {
    if (n->kind != Kind::boolean) wrong_type(*n, "verify", "true or false");
    else load.tls_verify = n->text == "true" || n->text == "True" || n->text == "TRUE";
  }
  if (const YamlNode* n = get(node, "ca_file")) {
    if (auto text = read_text(*n, "ca_file")) load.tls_ca_file = *text;
  }
  if (!load.url.empty() && !load.url.starts_with("https://")) {
    report(node, "tls: found with " + load.url + ", expected an https:// url");
  }
}

void Builder::read_stages(const YamlNode& node, Load& load) {
  if (node.kind != Kind::sequence || node.items.empty()) {
    wrong_type(node, "stages", "a non-empty list of stages such as {to: 1000/s, over: 30s} or {hold: 1m}");
    return;
  }
  std::optional<bool> per_second;
  double level = load.rate > 0 ? load.rate : static_cast<double>(load.vus);
  std::vector<LoadStage> stages;
  for (const auto& item : node.items) {
    if (!check_map(item, "stage", {"to", "over", "hold"}, "a stage: {to: 1000/s, over: 30s} or {hold: 1m}")) continue;
    if (const YamlNode* hold = get(item, "hold")) {
      if (get(item, "to") || get(item, "over")) {
        report(item, "stage: found 'hold' with 'to' or 'over', expected either {hold: D} or {to: N, over: D}");
        continue;
      }
      if (auto d = read_duration(*hold, "hold", true)) stages.push_back({*d, level});
      continue;
    }
    const YamlNode* to = require(item, "to", "stage", "the level to reach, e.g. to: 1000/s or to: 500");
    const YamlNode* over = require(item, "over", "stage", "how long the ramp takes, e.g. over: 30s");
    if (to == nullptr || over == nullptr) continue;
    auto d = read_duration(*over, "over", true);
    auto text = read_text(*to, "to");
    if (!d || !text) continue;
    const bool rate = text->find('/') != std::string::npos;
    if (per_second && *per_second != rate) {
      report(*to, "to: found '" + *text + "', expected every stage to be a rate (/s) or every stage a user count");
      continue;
    }
    per_second = rate;
    double target = 0;
    if (rate) {
      auto r = parse_rate(*text);
      if (!r) {
        report(*to, "to: " + r.error());
        continue;
      }
      target = *r;
    } else {
      auto v = read_integer(*to, "to", 0, 10'000'000);
      if (!v) continue;
      target = static_cast<double>(*v);
    }
    stages.push_back({*d, target});
    level = target;
  }
  if (per_second.value_or(true)) load.rate_stages = std::move(stages);
  else load.vu_stages = std::move(stages);
}

void Builder::read_thresholds(const YamlNode& node, Load& load) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, "thresholds", "a list such as [\"p99 < 250ms\", \"error_rate < 1%\"]");
    return;
  }
  static constexpr std::array<std::string_view, 8> kMetrics{"p50", "p90",        "p99", "p99.9",
                                                            "max", "error_rate", "rps", "avg"};
  for (const auto& item : node.items) {
    auto text = read_text(item, "threshold");
    if (!text) continue;
    std::string written = *text;
    auto space = written.find_first_of(" <>=");
    std::string metric = written.substr(0, space);
    // k6 writes p(99); both spellings are accepted.
    if (metric.size() > 3 && metric.starts_with("p(") && metric.back() == ')') {
      metric = "p" + metric.substr(2, metric.size() - 3);
    }
    if (std::find(kMetrics.begin(), kMetrics.end(), metric) == kMetrics.end()) {
      std::string message = "threshold: found metric '" + metric + "' in '" + written + "'";
      if (auto guess = closest_match(metric, kMetrics)) message += ", did you mean '" + *guess + "'?";
      else message += ", expected one of " + comma_list(kMetrics);
      report(item, message);
      continue;
    }
    const QuantityKind kind = metric == "error_rate" ? QuantityKind::percentage
                              : metric == "rps"      ? QuantityKind::number
                                                     : QuantityKind::duration;
    auto c = parse_comparison(space == std::string::npos ? "" : written.substr(space), kind);
    if (!c) {
      report(item, "threshold '" + written + "': " + c.error());
      continue;
    }
    load.thresholds.push_back({metric, *c, written, item.mark});
  }
}

}  // namespace chaosplus::spec::reading
