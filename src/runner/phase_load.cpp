#include "runner/phase_load.h"

#include <cstdio>

#include "load/scenario.h"

namespace chaosplus::runner {
namespace {

std::vector<load::Stage> to_stages(const std::vector<spec::LoadStage>& stages) {
  std::vector<load::Stage> out;
  for (const auto& s : stages) out.push_back(load::Stage{s.over, s.target});
  return out;
}

std::string figure(const std::string& metric, double v) {
  char buf[64];
  if (metric == "error_rate") std::snprintf(buf, sizeof buf, "%.3g%%", v * 100);
  else if (metric == "rps") std::snprintf(buf, sizeof buf, "%.1f/s", v);
  else std::snprintf(buf, sizeof buf, "%.3gms", v * 1000);
  return buf;
}

}  // namespace

Result<load::LoadOptions> to_load_options(const spec::Load& l, Duration duration) {
  load::LoadOptions o;
  o.url = l.url;
  o.method = l.method;
  o.headers = l.headers;
  o.body = l.body;
  o.connections = l.connections;
  o.threads = l.threads;
  o.timeout = l.timeout;
  o.duration = duration;
  o.rate = l.rate;
  o.rate_stages = to_stages(l.rate_stages);
  o.vus = l.vus;
  o.vu_stages = to_stages(l.vu_stages);
  o.think = l.think;
  o.seed = l.seed;
  if (l.max_sessions) o.max_sessions = *l.max_sessions;
  o.tls.verify = l.tls_verify;
  o.tls.ca_file = l.tls_ca_file;
  if (!l.scenario.empty()) {
    auto scenario = load::Scenario::load_file(l.scenario);
    if (!scenario) return Error{"load " + l.name + ": " + scenario.error()};
    o.scenario = *scenario;
    // A scenario without a rate is the users model: one user per connection unless vus says otherwise.
    const bool open = o.rate > 0 || !o.rate_stages.empty();
    if (!open && o.vus == 0 && o.vu_stages.empty()) o.vus = static_cast<std::uint64_t>(l.connections);
  }
  if (auto s = o.validate(); !s) return Error{"load " + l.name + ": " + s.error()};
  return o;
}

std::vector<ThresholdResult> judge_thresholds(const spec::Load& l, const load::Report& report) {
  std::vector<ThresholdResult> results;
  const auto& h = report.latency;
  for (const spec::LoadThreshold& t : l.thresholds) {
    double measured = 0;
    if (t.metric == "error_rate") measured = report.counters.error_rate();
    else if (t.metric == "rps") measured = report.requests_per_second();
    else if (t.metric == "max") measured = static_cast<double>(h.max()) / 1e6;
    else if (t.metric == "avg") measured = h.mean() / 1e6;
    else {
      const double percentile = std::stod(t.metric.substr(1));  // "p99.9" -> 99.9
      measured = static_cast<double>(h.value_at_percentile(percentile)) / 1e6;
    }
    // With no response at all, latency thresholds have nothing to stand on: they fail.
    const bool empty = h.count() == 0 && t.metric != "error_rate" && t.metric != "rps";
    ThresholdResult r;
    r.threshold = t.text;
    r.measured = measured;
    r.held = !empty && t.condition.holds(measured);
    r.message = empty
                    ? t.metric + ": no response was received, expected " + t.text
                    : t.metric + " = " + figure(t.metric, measured) + (r.held ? ", within " : ", NOT within ") + t.text;
    results.push_back(std::move(r));
  }
  // A missed threshold may say more about the generator than about the system: say so beside it.
  if (const std::string why = load::generator_bottleneck(report); !why.empty()) {
    for (auto& r : results) {
      if (!r.held) r.message += " (" + why + ")";
    }
  }
  return results;
}

Event summary_event(const spec::Load& l, const load::Report& report, const std::vector<ThresholdResult>& results) {
  const auto& h = report.latency;
  Event e("load.summary");
  e.with("load", l.name)
      .with("requests", static_cast<std::int64_t>(report.counters.requests))
      .with("rps", report.requests_per_second())
      .with("error_rate", report.counters.error_rate())
      .with("p50_ms", static_cast<double>(h.value_at_percentile(50)) / 1e3)
      .with("p90_ms", static_cast<double>(h.value_at_percentile(90)) / 1e3)
      .with("p99_ms", static_cast<double>(h.value_at_percentile(99)) / 1e3)
      .with("max_ms", static_cast<double>(h.max()) / 1e3)
      .with("elapsed_s", report.elapsed_s)
      .with("queued", static_cast<std::int64_t>(report.counters.queued))
      .with("dropped", static_cast<std::int64_t>(report.counters.dropped));
  if (const std::string why = load::generator_bottleneck(report); !why.empty()) e.with("bottleneck", why);
  std::string thresholds;
  bool held = true;
  for (const auto& r : results) {
    thresholds += (thresholds.empty() ? "" : "; ") + r.message;
    held = held && r.held;
  }
  e.with("thresholds", thresholds).with("thresholds_held", held);
  // A scenario mix: "browse 751 requests (75.1%), buy 249 (24.9%)", and the counts by name.
  std::string mix;
  for (const auto& s : report.scenarios) {
    const double share = report.counters.requests > 0
                             ? 100.0 * static_cast<double>(s.requests) / static_cast<double>(report.counters.requests)
                             : 0.0;
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s%s %llu requests (%.1f%%), %llu failed", mix.empty() ? "" : "; ", s.name.c_str(),
                  static_cast<unsigned long long>(s.requests), share, static_cast<unsigned long long>(s.failed));
    mix += buf;
    e.with("scenario." + s.name + ".requests", static_cast<std::int64_t>(s.requests));
  }
  if (!mix.empty()) e.with("scenarios", mix);
  return e;
}

PhaseLoad::PhaseLoad(const spec::Load&, load::LoadOptions options, TickHandler on_tick)
    : thread_([this, options = std::move(options), on_tick = std::move(on_tick)] {
        load::RunHooks hooks;
        hooks.halt = &stop_;
        hooks.on_tick = on_tick;
        result_.emplace(load::run_load(options, hooks));
      }) {}

PhaseLoad::~PhaseLoad() {
  stop();
  if (thread_.joinable()) thread_.join();
}

Result<load::Report> PhaseLoad::finish() {
  if (thread_.joinable()) thread_.join();
  if (!result_) return Error{"the load did not run"};
  return std::move(*result_);
}

}  // namespace chaosplus::runner
