#include "writes/writes_activity.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "core/event_bus.h"

namespace chaosplus::writes {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }
double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string figure(const Metric& m, double v) {
  char buf[64];
  if (m.kind == QuantityKind::duration) std::snprintf(buf, sizeof buf, "%.3fs", v);
  else std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

std::string id_list(const std::vector<std::int64_t>& ids, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < ids.size() && i < limit; ++i) out += (i ? ", " : "") + std::to_string(ids[i]);
  if (ids.size() > limit) out += ", ...";
  return out;
}

// Why a figure has no value, for the judgment's message.
std::string unmeasured(std::string_view metric, const Analysis& a, const std::string& read_back_error) {
  const bool timing = metric == "rto" || metric == "promotion" || metric == "reconnection";
  if (!timing) return "the table could not be read back: " + read_back_error;
  if (a.rto_fault.empty()) return "no fault was injected while the writes ran";
  if (metric == "promotion" || (metric == "reconnection" && !a.promotion))
    return "no new primary answered Patroni's /primary after " + a.rto_fault + " (are `patroni:` APIs given?)";
  return "no write invoked after " + a.rto_fault + " succeeded";
}

}  // namespace

const std::vector<Metric>& metrics() {
  static const std::vector<Metric> all{
      {"rto", QuantityKind::duration},          {"promotion", QuantityKind::duration},
      {"reconnection", QuantityKind::duration}, {"rpo_span", QuantityKind::duration},
      {"lost_writes", QuantityKind::number},    {"unexpected_writes", QuantityKind::number},
      {"unknown_writes", QuantityKind::number}, {"unknown_committed", QuantityKind::number},
      {"failed_writes", QuantityKind::number},  {"failed_committed", QuantityKind::number},
      {"split_brain", QuantityKind::number},    {"acknowledged", QuantityKind::number},
      {"attempted", QuantityKind::number},
  };
  return all;
}

const Metric* find_metric(std::string_view name) {
  for (const Metric& m : metrics())
    if (m.name == name) return &m;
  return nullptr;
}

std::unique_ptr<Activity> WritesSpec::make(const ActivityContext& context) const {
  return std::make_unique<WritesActivity>(*this, context);
}

std::optional<double> measure(const Analysis& a, bool read_back, std::string_view m) {
  auto opt = [](const std::optional<Duration>& d) { return d ? std::optional<double>(seconds(*d)) : std::nullopt; };
  if (m == "rto") return opt(a.rto);
  if (m == "promotion") return opt(a.promotion);
  if (m == "reconnection") return opt(a.reconnection);
  if (m == "failed_writes") return static_cast<double>(a.failed);
  if (m == "unknown_writes") return static_cast<double>(a.unknown);
  if (m == "acknowledged") return static_cast<double>(a.acknowledged);
  if (m == "attempted") return static_cast<double>(a.attempted);
  if (m == "split_brain") return static_cast<double>(a.split_brain.size());
  // The rest needs the read-back.
  if (!read_back) return std::nullopt;
  if (m == "rpo_span") return seconds(a.rpo_span);
  if (m == "lost_writes") return static_cast<double>(a.lost);
  if (m == "unexpected_writes") return static_cast<double>(a.unexpected);
  if (m == "unknown_committed") return static_cast<double>(a.unknown_committed);
  if (m == "failed_committed") return static_cast<double>(a.failed_committed);
  return std::nullopt;
}

std::vector<Judgment> judge_thresholds(const WritesSpec& s, const Analysis& a, const std::string& read_back_error) {
  std::vector<Judgment> results;
  for (const WritesThreshold& t : s.thresholds) {
    const Metric* metric = find_metric(t.metric);
    Judgment j;
    j.metric = "writes." + s.name + "." + t.metric;
    j.threshold = t.text;
    const auto value = metric ? measure(a, read_back_error.empty(), t.metric) : std::nullopt;
    if (!value) {
      // Nothing to stand on: a threshold that could not be checked does not hold.
      j.held = false;
      j.message = t.metric + " not measured: " + unmeasured(t.metric, a, read_back_error) + ", expected " + t.text;
    } else {
      j.measured = *value;
      j.held = t.condition.holds(*value);
      j.message = t.metric + " = " + figure(*metric, *value) + (j.held ? ", within " : ", NOT within ") + t.text;
      if (t.metric == "lost_writes" && a.lost > 0) j.message += " (first lost ids: " + id_list(a.lost_ids, 5) + ")";
      if (t.metric == "split_brain" && !a.split_brain.empty()) j.message += " (" + a.split_brain.front() + ")";
    }
    results.push_back(std::move(j));
  }
  return results;
}

Event summary_event(const WritesSpec& s, const Analysis& a, const WorkloadResult& r,
                    const std::vector<Judgment>& results) {
  Event e("writes.summary");
  e.with("name", s.name)
      .with("attempted", a.attempted)
      .with("acknowledged", a.acknowledged)
      .with("failed", a.failed)
      .with("unknown", a.unknown)
      .with("skipped", r.skipped)
      .with("read_back", r.read_back_error.empty());
  if (r.read_back_error.empty()) {
    e.with("lost", a.lost)
        .with("unexpected", a.unexpected)
        .with("unknown_committed", a.unknown_committed)
        .with("failed_committed", a.failed_committed)
        .with("lost_ids", id_list(a.lost_ids, 20))
        .with("unexpected_ids", id_list(a.unexpected_ids, 20))
        .with("rpo_lost", a.lost)
        .with("rpo_span_ms", ms(a.rpo_span));
  } else {
    e.with("read_back_error", r.read_back_error);
  }
  e.with("faults", static_cast<std::int64_t>(r.faults.size()));
  if (!a.rto_fault.empty()) e.with("rto_fault", a.rto_fault);
  if (a.rto) e.with("rto_ms", ms(*a.rto));
  if (a.promotion) e.with("promotion_ms", ms(*a.promotion));
  if (a.reconnection) e.with("reconnection_ms", ms(*a.reconnection));
  e.with("split_brain", static_cast<std::int64_t>(a.split_brain.size()));
  std::string periods;
  for (const std::string& p : a.split_brain) periods += (periods.empty() ? "" : "; ") + p;
  if (!periods.empty()) e.with("split_brain_periods", periods);
  std::string thresholds;
  bool held = true;
  for (const auto& j : results) {
    thresholds += (thresholds.empty() ? "" : "; ") + j.message;
    held = held && j.held;
  }
  e.with("thresholds", thresholds).with("thresholds_held", held);
  return e;
}

Status write_history(const std::string& path, const WorkloadResult& r) {
  std::ofstream out(path, std::ios::trunc);
  if (!out) return Error{"history: cannot write " + path, ErrorCode::io_error};
  const std::unordered_set<std::int64_t> present(r.present.begin(), r.present.end());
  const bool read_back = r.read_back_error.empty();
  std::vector<const Attempt*> ordered;
  for (const Attempt& a : r.history) ordered.push_back(&a);
  std::sort(ordered.begin(), ordered.end(), [](const Attempt* x, const Attempt* y) { return x->invoked < y->invoked; });
  for (const Attempt* a : ordered) {
    nlohmann::json line{{"id", a->id},
                        {"client", a->client},
                        {"invoked_ms", ms(a->invoked - r.started)},
                        {"completed_ms", ms(a->completed - r.started)},
                        {"outcome", a->outcome == Outcome::ok       ? "ok"
                                    : a->outcome == Outcome::failed ? "failed"
                                                                    : "unknown"},
                        {"node", a->node}};
    if (!a->error.empty()) line["error"] = a->error;
    if (read_back) line["committed"] = present.contains(a->id);
    out << line.dump() << "\n";
  }
  for (const FaultMark& f : r.faults) {
    nlohmann::json line{{"fault", f.summary}, {"injected_ms", ms(f.injected - r.started)}};
    if (f.promoted) line["promoted_ms"] = ms(*f.promoted - r.started);
    out << line.dump() << "\n";
  }
  out.flush();
  if (!out) return Error{"history: write to " + path + " failed", ErrorCode::io_error};
  return ok_status();
}

WritesActivity::WritesActivity(const WritesSpec& spec, ActivityContext context)
    : spec_(spec), context_(std::move(context)) {}

WritesActivity::~WritesActivity() {
  if (workload_) workload_->stop();
}

Status WritesActivity::start(EventBus& bus, HaltSwitch&) {
  WorkloadOptions o;
  o.dsn = spec_.dsn;
  o.table = spec_.table;
  o.clients = spec_.clients;
  o.rate = spec_.rate;
  o.timeout = spec_.timeout;
  o.connect_timeout = spec_.connect_timeout;
  o.duration = context_.duration;
  o.patroni = spec_.patroni;
  workload_ = std::make_shared<Workload>(std::move(o));
  if (Status s = workload_->prepare(); !s) return Error{"writes " + spec_.name + ": " + s.error(), s.code()};
  bus_ = &bus;
  bus.subscribe([weak = std::weak_ptr<Workload>(workload_)](const Event& e) {
    if (e.type != "fault.injected") return;
    if (auto w = weak.lock()) w->note_fault(e.text("summary"));
  });
  bus.publish(Event("writes.started")
                  .with("name", spec_.name)
                  .with("phase", context_.phase)
                  .with("table", spec_.table)
                  .with("clients", spec_.clients)
                  .with("rate", spec_.rate)
                  .with("timeout_ms", ms(spec_.timeout))
                  .with("connect_timeout_ms", ms(spec_.connect_timeout))
                  .with("first_id", workload_->id_base()));
  workload_->start();
  return ok_status();
}

void WritesActivity::stop() {
  if (workload_) workload_->stop();
}

Result<std::vector<Judgment>> WritesActivity::finish() {
  if (!workload_ || !bus_) return Error{"writes " + spec_.name + " did not run"};
  if (finished_) return Error{"writes " + spec_.name + " was already finished"};
  finished_ = true;
  const WorkloadResult r = workload_->finish();
  const Analysis a = analyze(r.history, r.present, r.faults);
  auto judgments = judge_thresholds(spec_, a, r.read_back_error);
  bus_->publish(summary_event(spec_, a, r, judgments));
  if (!spec_.history.empty()) {
    if (Status s = write_history(spec_.history, r); !s) return Error{"writes " + spec_.name + ": " + s.error()};
  }
  return judgments;
}

}  // namespace chaosplus::writes
