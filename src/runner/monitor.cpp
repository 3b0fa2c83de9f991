#include "runner/monitor.h"

#include <algorithm>
#include <cstdio>

namespace chaosplus::runner {
namespace {

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g%%", fraction * 100.0);
  return buf;
}

std::string op_text(CompareOp op) {
  switch (op) {
    case CompareOp::less: return "<";
    case CompareOp::less_equal: return "<=";
    case CompareOp::greater: return ">";
    case CompareOp::greater_equal: return ">=";
    case CompareOp::equal: return "==";
  }
  return "?";
}

std::string metric_name(spec::GuardrailMetric m) {
  switch (m) {
    case spec::GuardrailMetric::success_rate: return "success rate";
    case spec::GuardrailMetric::latency_p50: return "p50 latency";
    case spec::GuardrailMetric::latency_p90: return "p90 latency";
    case spec::GuardrailMetric::latency_p99: return "p99 latency";
    case spec::GuardrailMetric::error_rate: return "error rate";
  }
  return "?";
}

std::string value_text(spec::GuardrailMetric m, double v) {
  if (m == spec::GuardrailMetric::success_rate || m == spec::GuardrailMetric::error_rate) return percent(v);
  return format_duration(std::chrono::duration_cast<Duration>(std::chrono::duration<double>(v)));
}

double measure(spec::GuardrailMetric m, const WindowStats& s) {
  switch (m) {
    case spec::GuardrailMetric::success_rate: return s.success_rate;
    case spec::GuardrailMetric::latency_p50: return s.p50;
    case spec::GuardrailMetric::latency_p90: return s.p90;
    case spec::GuardrailMetric::latency_p99: return s.p99;
    case spec::GuardrailMetric::error_rate: return 1.0 - s.success_rate;
  }
  return 0;
}

std::string counts(const WindowStats& s) { return std::to_string(s.ok) + "/" + std::to_string(s.count) + " ok"; }

}  // namespace

std::string describe(const spec::Guardrail& g) {
  return (g.load.empty() ? g.probe : g.load) + " " + metric_name(g.metric) + " " + op_text(g.condition.op) + " " +
         value_text(g.metric, g.condition.value) + " over " + format_duration(g.over);
}

std::string stream_metric(const spec::Guardrail& g) {
  const char* metric = "success_rate";
  switch (g.metric) {
    case spec::GuardrailMetric::success_rate: metric = "success_rate"; break;
    case spec::GuardrailMetric::latency_p50: metric = "latency_p50"; break;
    case spec::GuardrailMetric::latency_p90: metric = "latency_p90"; break;
    case spec::GuardrailMetric::latency_p99: metric = "latency_p99"; break;
    case spec::GuardrailMetric::error_rate: metric = "error_rate"; break;
  }
  return (g.load.empty() ? "probe." + g.probe : "load." + g.load) + "." + metric;
}

Monitor::Monitor(const spec::Experiment& experiment) : experiment_(experiment) {}

std::optional<GuardrailTrip> Monitor::on_event(const Event& e) {
  if (e.type == "probe.result") {
    if (e.text("stage") != "during") return std::nullopt;  // before and after are the steady state's
    return observe(e.text("probe"), Sample{e.elapsed, e.flag("ok"), e.number("latency_ms") / 1000.0});
  }
  if (e.type == "load.tick") {
    // Everything attempted, and what failed of it: transport errors, dropped arrivals, status >= 400.
    const auto count = [&](const char* key) { return static_cast<std::uint64_t>(e.number(key)); };
    LoadSample sample;
    sample.at = e.elapsed;
    sample.requests = count("requests") + count("errors") + count("dropped");
    sample.errors = count("errors") + count("status_4xx_5xx") + count("dropped");
    sample.p50_s = e.number("p50_ms") / 1000.0;
    sample.p90_s = e.number("p90_ms") / 1000.0;
    sample.p99_s = e.number("p99_ms") / 1000.0;
    return observe_load(e.text("load"), sample);
  }
  return std::nullopt;
}

std::optional<GuardrailTrip> Monitor::observe(const std::string& probe, const Sample& sample) {
  std::lock_guard lock(mutex_);
  ProbeWindow& window = windows_[probe];
  window.add(sample);

  if (const spec::Probe* p = experiment_.find_probe(probe); p != nullptr && p->tolerance && p->tolerance->window) {
    WindowStats s = window.stats(sample.at, *p->tolerance->window);
    // A window is judged once it holds a few results, so one early failure is not a 0% window.
    if (s.count >= 3) {
      Worst& worst = worst_[probe];
      if (s.success_rate < worst.rate) worst = Worst{s.success_rate, s, sample.at};
    }
  }

  for (const spec::Guardrail& g : experiment_.guardrails) {
    if (!g.load.empty() || g.probe != probe) continue;
    WindowStats s = window.stats(sample.at, g.over);
    if (s.count < g.min_samples) continue;
    double value = measure(g.metric, s);
    if (g.condition.holds(value)) {
      std::string name = g.name.empty() ? describe(g) : g.name;
      return GuardrailTrip{name,
                           probe,
                           "",
                           stream_metric(g),
                           probe + " " + metric_name(g.metric) + " " + value_text(g.metric, value) + " " +
                               op_text(g.condition.op) + " " + value_text(g.metric, g.condition.value) +
                               " over the last " + format_duration(g.over) + " (" + counts(s) + ")",
                           value};
    }
  }
  return std::nullopt;
}

std::optional<GuardrailTrip> Monitor::observe_load(const std::string& load, const LoadSample& sample) {
  std::lock_guard lock(mutex_);
  auto& ticks = loads_[load];
  ticks.push_back(sample);
  for (const spec::Guardrail& g : experiment_.guardrails) {
    if (g.load != load) continue;
    WindowStats s;
    std::uint64_t requests = 0, errors = 0;
    for (auto it = ticks.rbegin(); it != ticks.rend() && it->at > sample.at - g.over; ++it) {
      ++s.count;
      requests += it->requests;
      errors += it->errors;
      s.p50 = std::max(s.p50, it->p50_s);
      s.p90 = std::max(s.p90, it->p90_s);
      s.p99 = std::max(s.p99, it->p99_s);
    }
    if (s.count < g.min_samples || requests == 0) continue;
    s.success_rate = 1.0 - static_cast<double>(errors) / static_cast<double>(requests);
    const double value = measure(g.metric, s);
    if (!g.condition.holds(value)) continue;
    return GuardrailTrip{g.name.empty() ? describe(g) : g.name,
                         "",
                         load,
                         stream_metric(g),
                         "load " + load + " " + metric_name(g.metric) + " " + value_text(g.metric, value) + " " +
                             op_text(g.condition.op) + " " + value_text(g.metric, g.condition.value) +
                             " over the last " + format_duration(g.over) + " (" + std::to_string(errors) +
                             " failed of " + std::to_string(requests) + " requests)",
                         value};
  }
  return std::nullopt;
}

std::vector<ToleranceResult> Monitor::tolerances() const {
  std::lock_guard lock(mutex_);
  std::vector<ToleranceResult> results;
  for (const spec::Probe& p : experiment_.steady_state.probes) {
    if (!p.every) continue;
    spec::Tolerance tolerance = p.tolerance.value_or(spec::Tolerance{});
    ToleranceResult r;
    r.probe = p.name;
    auto it = windows_.find(p.name);
    r.overall = it == windows_.end() ? WindowStats{} : it->second.all();
    const std::string want = op_text(tolerance.success_rate.op) + " " + percent(tolerance.success_rate.value);
    if (r.overall.count == 0) {
      r.message = "no results during the phases";
      results.push_back(r);
      continue;
    }
    if (tolerance.window) {
      auto w = worst_.find(p.name);
      WindowStats judged = w == worst_.end() ? r.overall : w->second.stats;
      r.held = tolerance.success_rate.holds(judged.success_rate);
      r.message = "worst " + format_duration(*tolerance.window) + " window: success rate " +
                  percent(judged.success_rate) + " (" + counts(judged) + "), expected " + want;
    } else {
      r.held = tolerance.success_rate.holds(r.overall.success_rate);
      r.message = "success rate " + percent(r.overall.success_rate) + " (" + counts(r.overall) + "), expected " + want;
    }
    results.push_back(r);
  }
  return results;
}

WindowStats Monitor::overall(const std::string& probe) const {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(probe);
  return it == windows_.end() ? WindowStats{} : it->second.all();
}

WindowStats Monitor::recent(const std::string& probe, Duration now, Duration window) const {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(probe);
  return it == windows_.end() ? WindowStats{} : it->second.stats(now, window);
}

}  // namespace chaosplus::runner
