#include "fuzz/fuzz_activity.h"

#include "core/event_bus.h"
#include "fuzz/finding_output.h"

namespace chaosplus::fuzz {

std::unique_ptr<Activity> FuzzSpec::make(const ActivityContext& context) const {
  return std::make_unique<FuzzActivity>(*this, context);
}

FuzzOptions to_fuzz_options(const FuzzSpec& s, Duration duration) {
  FuzzOptions o;
  o.openapi = s.openapi;
  o.base_url = s.base_url;
  o.duration = s.duration.value_or(duration);
  o.max_requests = s.max_requests;
  o.seed = s.seed;
  o.connections = s.connections;
  o.timeout = s.timeout;
  o.headers = s.headers;
  o.target = s.target;
  o.memory_growth = s.memory_growth;
  o.minimize = s.minimize;
  return o;
}

std::vector<Judgment> judge_thresholds(const FuzzSpec& s, const std::vector<Finding>& findings) {
  std::vector<Judgment> results;
  for (const FuzzThreshold& t : s.thresholds) {
    std::size_t count = 0;
    std::string listed;
    for (const Finding& f : findings) {
      if (t.at_least && f.severity < *t.at_least) continue;
      ++count;
      if (count <= 3) listed += (count > 1 ? "; " : "") + std::string(severity_name(f.severity)) + " " + f.title;
    }
    if (count > 3) listed += "; ...";
    Judgment j;
    j.metric = "fuzz." + s.name + ".findings" +
               (t.at_least ? "{severity>=" + std::string(severity_name(*t.at_least)) + "}" : "");
    j.threshold = t.text;
    j.measured = static_cast<double>(count);
    j.held = t.condition.holds(j.measured);
    j.message =
        std::string(t.at_least ? "findings at or above " + std::string(severity_name(*t.at_least)) : "findings") +
        " = " + std::to_string(count) + (j.held ? ", within " : ", NOT within ") + t.text +
        (listed.empty() ? "" : " (" + listed + ")");
    results.push_back(std::move(j));
  }
  return results;
}

Event summary_event(const FuzzSpec& s, const FuzzSummary& summary, const std::vector<Judgment>& results) {
  nlohmann::json by_severity = nlohmann::json::object();
  for (const Finding& f : summary.findings) {
    const std::string name(severity_name(f.severity));
    by_severity[name] = by_severity.value(name, 0) + 1;
  }
  Event e("fuzz.summary");
  e.with("name", s.name)
      .with("requests", static_cast<std::int64_t>(summary.requests))
      .with("requests_per_s", summary.requests_per_second())
      .with("findings", static_cast<std::int64_t>(summary.findings.size()))
      .with("by_severity", by_severity.dump())
      .with("duration_s", summary.elapsed_s)
      .with("ended", summary.ended)
      .with("restarts", static_cast<std::int64_t>(summary.restarts))
      .with("degraded", static_cast<std::int64_t>(summary.degraded))
      .with("corpus", static_cast<std::int64_t>(summary.corpus));
  std::string thresholds;
  bool held = true;
  for (const auto& r : results) {
    thresholds += (thresholds.empty() ? "" : "; ") + r.message;
    held = held && r.held;
  }
  e.with("thresholds", thresholds).with("thresholds_held", held);
  return e;
}

FuzzActivity::FuzzActivity(const FuzzSpec& spec, ActivityContext context) : spec_(spec), context_(std::move(context)) {}

FuzzActivity::~FuzzActivity() {
  stop();
  if (thread_.joinable()) thread_.join();
}

Status FuzzActivity::start(EventBus& bus, HaltSwitch&) {
  options_ = to_fuzz_options(spec_, context_.duration);
  auto document = openapi::load(spec_.openapi);
  if (!document) return Error{"fuzz " + spec_.name + ": " + document.error()};
  if (document->operations.empty())
    return Error{"fuzz " + spec_.name + ": " + spec_.openapi + " has no operation, expected paths with methods"};
  options_.document = std::make_shared<const openapi::Document>(std::move(document).value());
  bus_ = &bus;
  // What was true before this activity began; from now on the bus keeps the context current.
  chaos_.set_phase(context_.phase);
  for (const auto& [target, pid] : context_.target_pids) chaos_.set_target_pid(target, pid);
  chaos_.attach(bus);
  bus.publish(Event("fuzz.started")
                  .with("name", spec_.name)
                  .with("phase", context_.phase)
                  .with("base_url", spec_.base_url)
                  .with("openapi", spec_.openapi)
                  .with("operations", static_cast<std::int64_t>(options_.document->operations.size()))
                  .with("seed", static_cast<std::int64_t>(spec_.seed)));
  hooks_.stop = &stop_;
  hooks_.context = &chaos_;
  hooks_.on_finding = [&bus, name = spec_.name](const Finding& f) { bus.publish(finding_event(f).with("name", name)); };
  thread_ = std::thread([this] { result_.emplace(run_fuzz(options_, hooks_)); });
  return ok_status();
}

Result<std::vector<Judgment>> FuzzActivity::finish() {
  if (thread_.joinable()) thread_.join();
  if (!result_) return Error{"fuzz " + spec_.name + " did not run"};
  if (!*result_) return Error{"fuzz " + spec_.name + " could not run: " + result_->error()};
  const FuzzSummary& summary = result_->value();
  auto judgments = judge_thresholds(spec_, summary.findings);
  bus_->publish(summary_event(spec_, summary, judgments));
  return judgments;
}

}  // namespace chaosplus::fuzz
