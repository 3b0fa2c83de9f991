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

void Builder::read_guardrails(const YamlNode& node, Experiment& experiment) {
  if (node.kind != Kind::sequence) {
    wrong_type(node, "guardrails", "a list of guardrails");
    return;
  }
  for (std::size_t i = 0; i < node.items.size(); ++i) {
    const YamlNode& item = node.items[i];
    const std::string what = "guardrail #" + std::to_string(i + 1);
    if (!check_map(item, what, {"name", "when"}, "a guardrail: a map with when: {probe, metric, over}")) continue;
    Guardrail guardrail;
    guardrail.mark = item.mark;
    const std::size_t before = issues.size();
    if (const YamlNode* n = get(item, "name")) {
      if (auto text = read_name(*n)) guardrail.name = *text;
    }
    const YamlNode* when =
        require(item, "when", what, "a condition such as when: {probe: api-ok, success_rate: \"< 80%\"}");
    if (when == nullptr || !check_map(*when, "when of " + what,
                                      {"probe", "load", "metric", "is", "success_rate", "error_rate", "latency_p50",
                                       "latency_p90", "latency_p99", "over", "for", "min_samples"},
                                      "a map with probe (or load) and one metric, or a stream metric and is, and "
                                      "optionally over and min_samples")) {
      continue;
    }
    const YamlNode* probe = get(*when, "probe");
    const YamlNode* load = get(*when, "load");
    std::string condition_text;
    if (const YamlNode* metric = get(*when, "metric")) {
      // The stream's name of the metric: probe.<probe>.<metric> or load.<load>.<metric>, the same
      // guardrail as the probe:/load: form.
      if (probe != nullptr || load != nullptr) {
        report(*metric,
               "when of " + what + " has both 'metric' and '" + (probe ? "probe" : "load") + "', expected one of them");
        continue;
      }
      const auto read = read_text(*metric, "metric");
      if (!read) continue;
      const std::string& text = *read;
      const auto first = text.find('.');
      const auto last = text.rfind('.');
      const std::string source = first == std::string::npos ? text : text.substr(0, first);
      const std::string name = first < last ? text.substr(first + 1, last - first - 1) : std::string();
      const std::string m = last == std::string::npos ? std::string() : text.substr(last + 1);
      const bool of_probe = source == "probe" && (m == "success_rate" || m.starts_with("latency_p"));
      const bool of_load = source == "load" && (m == "error_rate" || m.starts_with("latency_p"));
      const bool latency = m == "latency_p50" || m == "latency_p90" || m == "latency_p99";
      if (name.empty() || (!of_probe && !of_load) || (m.starts_with("latency_p") && !latency)) {
        report(*metric, "metric '" + text +
                            "': expected a stream metric, probe.<probe>.success_rate or .latency_p50/p90/p99, or "
                            "load.<load>.error_rate or .latency_p50/p90/p99");
        continue;
      }
      (of_probe ? guardrail.probe : guardrail.load) = name;
      (of_probe ? probe : load) = metric;
      guardrail.metric = m == "success_rate"  ? GuardrailMetric::success_rate
                         : m == "error_rate"  ? GuardrailMetric::error_rate
                         : m == "latency_p50" ? GuardrailMetric::latency_p50
                         : m == "latency_p90" ? GuardrailMetric::latency_p90
                                              : GuardrailMetric::latency_p99;
      const YamlNode* is = require(*when, "is", "when of " + what, "the condition, such as is: \"< 80%\"");
      if (is == nullptr) continue;
      if (auto c = read_comparison(*is, "is", latency ? QuantityKind::duration : QuantityKind::percentage)) {
        guardrail.condition = *c;
        condition_text = m + " " + is->text;
      }
    } else if (const YamlNode* is = get(*when, "is")) {
      report(*is, "'is' goes with 'metric' (when: {metric: probe.api-ok.success_rate, is: \"< 80%\"}); with " +
                      std::string(probe ? "probe" : "load") + ", name the metric as the key: success_rate: \"< 80%\"");
      continue;
    } else if (probe == nullptr && load == nullptr) {
      probe = require(*when, "probe", "when of " + what, "the name of a continuous probe (or load: a load's name)");
    } else if (probe != nullptr && load != nullptr) {
      report(*load, "when of " + what + " has both 'probe' and 'load', expected one of them");
    }
    if (get(*when, "metric") != nullptr) {
      // read above
    } else if (probe) {
      if (auto text = read_text(*probe, "probe")) guardrail.probe = *text;
    } else if (load) {
      if (auto text = read_text(*load, "load")) guardrail.load = *text;
    }
    if (get(*when, "metric") != nullptr) {
      // its condition was read above
    } else if (auto metric = exactly_one(*when, "when of " + what,
                                         {"success_rate", "error_rate", "latency_p50", "latency_p90", "latency_p99"})) {
      const YamlNode& n = *get(*when, *metric);
      const bool rate = *metric == "success_rate" || *metric == "error_rate";
      if (load && *metric == "success_rate") {
        report(n, "success_rate applies to probes, expected error_rate or latency_p50/p90/p99 for a load");
      } else if (probe && *metric == "error_rate") {
        report(n, "error_rate applies to loads, expected success_rate or latency_p50/p90/p99 for a probe");
      }
      guardrail.metric = *metric == "success_rate"  ? GuardrailMetric::success_rate
                         : *metric == "error_rate"  ? GuardrailMetric::error_rate
                         : *metric == "latency_p50" ? GuardrailMetric::latency_p50
                         : *metric == "latency_p90" ? GuardrailMetric::latency_p90
                                                    : GuardrailMetric::latency_p99;
      if (auto c = read_comparison(n, *metric, rate ? QuantityKind::percentage : QuantityKind::duration)) {
        guardrail.condition = *c;
        condition_text = std::string(*metric) + " " + n.text;
      }
    }
    const YamlNode* over = get(*when, "over");
    if (const YamlEntry* alias = when->find("for")) {
      if (over) {
        report_key(*alias, "when of " + what + " has both 'over' and 'for' (the same window), expected one of them");
      } else {
        over = &alias->value;
      }
    }
    if (over) {
      if (auto d = read_duration(*over, over == get(*when, "for") ? "for" : "over", true)) guardrail.over = *d;
    }
    const YamlNode* min_samples = get(*when, "min_samples");
    if (min_samples) {
      if (auto v = read_integer(*min_samples, "min_samples", 1, 1000000)) guardrail.min_samples = static_cast<int>(*v);
    }
    if (issues.size() != before) continue;
    const std::string label = guardrail.name.empty() ? what : "guardrail '" + guardrail.name + "'";
    if (guardrail.name.empty()) {
      guardrail.name =
          (load ? guardrail.load : guardrail.probe) + " " + condition_text + " over " + format_duration(guardrail.over);
    }
    if (load) {
      // A load ticks once a second, and the window holds the ticks of the last `over`: one that can
      // never hold min_samples ticks would never trip.
      const auto most = std::chrono::ceil<std::chrono::seconds>(guardrail.over).count();
      if (most < guardrail.min_samples) {
        report(over          ? *over
               : min_samples ? *min_samples
                             : *load,
               label + " looks at " + format_duration(guardrail.over) + " of load '" + guardrail.load +
                   "' (one tick a second), at most " + std::to_string(most) + " ticks, fewer than min_samples " +
                   std::to_string(guardrail.min_samples) + ", expected a longer window or fewer min_samples");
        continue;
      }
      load_uses_.push_back({load, label, guardrail.load});
    } else {
      guardrail_uses_.push_back({probe, over, min_samples, experiment.guardrails.size(), label});
    }
    experiment.guardrails.push_back(std::move(guardrail));
  }
}

}  // namespace chaosplus::spec::reading
