#include "load/load_activity.h"

#include <cstdio>

#include "core/event_bus.h"
#include "load/engine.h"
#include "load/scenario.h"

namespace chaosplus::load {
namespace {

std::vector<Stage> to_stages(const std::vector<LoadStage>& stages) {
  std::vector<Stage> out;
  for (const auto& s : stages) out.push_back(Stage{s.over, s.target});
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

std::unique_ptr<Activity> LoadSpec::make(const ActivityContext& context) const {
  return std::make_unique<LoadActivity>(*this, context);
}

Result<LoadOptions> to_load_options(const LoadSpec& l, Duration duration) {
  LoadOptions o;
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
    auto scenario = Scenario::load_file(l.scenario);
    if (!scenario) return Error{"load " + l.name + ": " + scenario.error()};
    o.scenario = *scenario;
    // A scenario without a rate is the users model: one user per connection unless vus says otherwise.
    const bool open = o.rate > 0 || !o.rate_stages.empty();
    if (!open && o.vus == 0 && o.vu_stages.empty()) o.vus = static_cast<std::uint64_t>(l.connections);
  }
  if (auto s = o.validate(); !s) return Error{"load " + l.name + ": " + s.error()};
  return o;
}

std::vector<Judgment> judge_thresholds(const LoadSpec& l, const Report& report) {
  std::vector<Judgment> results;
  const auto& h = report.latency;
  for (const LoadThreshold& t : l.thresholds) {
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
    Judgment r;
    // Named as guardrails name them: latencies are latency_<figure> (load.checkout.latency_p99).
    const bool rate = t.metric == "error_rate" || t.metric == "rps";
    r.metric = "load." + l.name + "." + (rate ? t.metric : "latency_" + t.metric);
    r.threshold = t.text;
    r.measured = measured;
    r.held = !empty && t.condition.holds(measured);
    r.message = empty
                    ? t.metric + ": no response was received, expected " + t.text
                    : t.metric + " = " + figure(t.metric, measured) + (r.held ? ", within " : ", NOT within ") + t.text;
    results.push_back(std::move(r));
  }
  // A missed threshold may say more about the generator than about the system: say so beside it.
  if (const std::string why = generator_bottleneck(report); !why.empty()) {
    for (auto& r : results) {
      if (!r.held) r.message += " (" + why + ")";
    }
  }
  return results;
}

Event load_tick_event(const std::string& name, const Tick& tick, Duration started_at) {
  Event e = tick_event(tick);
  // The second the tick covers, on the run's timeline: outcomes are counted by when their
  // requests were meant to be sent, so this (not when the tick was written) is the window to
  // compare with fault.injected and fault.reverted.
  const double from_ms = std::chrono::duration<double, std::milli>(started_at).count() + 1000.0 * tick.second;
  e.with("load", name).with("from_ms", from_ms).with("to_ms", from_ms + 1000.0 * tick.length_s);
  return e;
}

Event summary_event(const LoadSpec& l, const Report& report, const std::vector<Judgment>& results) {
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
  if (const std::string why = generator_bottleneck(report); !why.empty()) e.with("bottleneck", why);
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

LoadActivity::LoadActivity(const LoadSpec& spec, ActivityContext context) : spec_(spec), context_(std::move(context)) {}

LoadActivity::~LoadActivity() {
  stop();
  if (thread_.joinable()) thread_.join();
}

Status LoadActivity::start(EventBus& bus, HaltSwitch&) {
  auto options = to_load_options(spec_, context_.duration);
  if (!options) return Error{options.error()};
  bus_ = &bus;
  const Duration started_at =
      bus.publish(Event("load.started").with("load", spec_.name).with("phase", context_.phase).with("url", spec_.url))
          .elapsed;
  RunHooks hooks;
  hooks.halt = &stop_;
  hooks.on_tick = [&bus, name = spec_.name, started_at](const Tick& tick) {
    bus.publish(load_tick_event(name, tick, started_at));
  };
  thread_ =
      std::thread([this, options = std::move(options).value(), hooks] { result_.emplace(run_load(options, hooks)); });
  return ok_status();
}

Result<std::vector<Judgment>> LoadActivity::finish() {
  if (thread_.joinable()) thread_.join();
  if (!result_) return Error{"load " + spec_.name + " did not run"};
  if (!*result_) return Error{"load " + spec_.name + " could not run: " + result_->error()};
  auto judgments = judge_thresholds(spec_, result_->value());
  bus_->publish(summary_event(spec_, result_->value(), judgments));
  return judgments;
}

}  // namespace chaosplus::load
