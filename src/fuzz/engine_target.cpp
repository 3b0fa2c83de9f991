// The target as a process: its death and restart (wait for it, blame the requests in flight,
// confirm by replaying them alone), its memory growth, the re-check of findings once no fault is
// active, and the minimization of new findings at the end.
#include <algorithm>
#include <cstdio>

#include "fuzz/encoding.h"
#include "fuzz/engine_internal.h"
#include "fuzz/target_watch.h"

namespace chaosplus::fuzz::detail {
namespace {

constexpr std::size_t kMaxSuspects = 16;  // replayed one at a time after a death
constexpr std::size_t kRechecksPerBatch = 4;
constexpr int kMinimizeAttempts = 48;
// Fresh cases drawn in place of one that repeats a confirmed crash; the last one is sent whatever
// it is (the guard steers the search, it never forbids an operation).
constexpr int kCrashRedraws = 8;
constexpr double kCrashWeightFactor = 0.5;  // an operation's share after each crash it confirmed...
constexpr double kCrashWeightFloor = 0.1;   // ...but never below this: other bugs may share it

std::string mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

bool failed_mid_request(const Reply& reply) {
  return reply.outcome == Outcome::reset || reply.outcome == Outcome::closed || reply.outcome == Outcome::timeout ||
         reply.outcome == Outcome::bad_response;
}

}  // namespace

void Engine::notice(const std::string& text) const {
  if (hooks_.on_notice) hooks_.on_notice(text);
}

std::optional<std::int64_t> Engine::current_pid() const {
  if (hooks_.context != nullptr && !options_.target.empty()) {
    const auto pids = hooks_.context->target_pids();
    if (const auto it = pids.find(options_.target); it != pids.end() && it->second > 0) return it->second;
  }
  return pid_;
}

bool Engine::target_down_in(const Batch& batch) {
  death_seen_ = true;
  const auto pid = current_pid();
  if (pid && pid_ && *pid != *pid_) return true;  // restarted under a new process since we last looked
  if (pid && !process_alive(*pid)) return true;
  if (!answered_before_) return false;  // never up: a wrong port, not a death
  std::size_t cut = 0;
  bool refused = false;
  for (const Slot& s : batch.slots) {
    if (!s.answered || s.cancelled) continue;
    refused = refused || s.reply.outcome == Outcome::refused;
    if (s.strategy != Strategy::raw && failed_mid_request(s.reply) && s.reply.outcome != Outcome::timeout) ++cut;
  }
  if (refused) return true;
  if (cut == 0) return false;
  // The batch behind it was sent later: refusals there mean the target died under this one.
  for (const auto& other : in_flight_) {
    for (const Slot& s : other->slots) {
      if (s.answered && !s.cancelled && s.reply.outcome == Outcome::refused) return true;
    }
  }
  // Connections cut mid-request: a dying target cuts them all before it refuses new ones (and a
  // supervisor may restart it before anything is refused). One bad request cuts its own connection;
  // several at once, or a target that does not answer now, look like a death: handle_death tells.
  death_seen_ = !target_answers();
  return death_seen_ || cut >= 2;
}

bool Engine::target_answers() {
  SenderOptions quick = sender_options_;
  quick.timeout = std::min<Duration>(quick.timeout, std::chrono::seconds(1));
  const std::string probe = "GET " + (base_path_.empty() ? std::string("/") : base_path_ + "/") +
                            " HTTP/1.1\r\nHost: " + base_.authority() + "\r\nConnection: close\r\n\r\n";
  return exchange_once(quick, probe).outcome == Outcome::response;
}

bool Engine::wait_for_target() {
  // No longer than the run lasts: a target that is not back by then has nothing left to answer.
  const std::int64_t deadline = std::min(steady_now_ns() + std::chrono::nanoseconds(options_.restart_wait).count(),
                                         std::max(end_ns_, steady_now_ns() + 1'000'000'000));
  // Short steps: a supervised target is usually back within a fraction of a second, and every
  // step of backoff past that is search time lost.
  Duration backoff = std::chrono::milliseconds(10);
  while (steady_now_ns() < deadline && !stop_->triggered()) {
    if (target_answers()) {
      const auto pid = current_pid();
      // Restarted by something that did not tell us its new process: watch the program that
      // listens on the target's port now if it is the same program, else stop watching.
      if (pid && !process_alive(*pid)) {
        pid_.reset();
        if (program_) pid_ = listener_running(base_.port, *program_);
      } else {
        pid_ = pid;
      }
      return true;
    }
    stop_->wait_for(backoff);
    backoff = std::min<Duration>(backoff * 2, std::chrono::milliseconds(200));
  }
  return false;
}

void Engine::handle_death() {
  const bool fault_active = hooks_.context != nullptr && hooks_.context->any_fault_active();
  // Everything in flight fails fast now (refused, reset); let it, then look at who was there.
  const std::int64_t settle = steady_now_ns() + std::chrono::nanoseconds(options_.timeout).count();
  while (sender_->in_flight() > 0 && steady_now_ns() < settle && !stop_->triggered())
    sender_->pump(std::min(settle, steady_now_ns() + 50'000'000));
  std::vector<Slot> suspects;
  for (auto& batch : in_flight_) {
    batch->death = true;
    for (const Slot& s : batch->slots) {
      if (s.answered && !s.cancelled && failed_mid_request(s.reply) && suspects.size() < kMaxSuspects)
        suspects.push_back(s);
    }
  }
  notice("the target stopped answering at " + std::to_string(elapsed_ms() / 1000) + "s; waiting for it to come back");
  const auto stamp = [&](Finding f, const Slot* slot, std::string evidence) {
    f.engine = "fuzz";
    f.oracle = "target_died";
    f.evidence = std::move(evidence);
    if (slot != nullptr) f.operation = slot->operation != nullptr ? slot->operation->id : slot->request.operation_id;
    record_finding(std::move(f), slot);
  };
  const bool back = wait_for_target();
  if (!back) {
    if (!stop_->triggered()) gave_up_ = true;
    if (!fault_active) {
      Finding f;
      f.severity = Severity::critical;
      f.signature = "died and did not come back";
      f.title = "the target died while fuzzed and did not come back within " + format_duration(options_.restart_wait);
      f.trigger = {"outcome", suspects.empty() ? "refused" : std::string(outcome_name(suspects.front().reply.outcome))};
      stamp(std::move(f), suspects.empty() ? nullptr : &suspects.front(),
            std::to_string(suspects.size()) + " requests were in flight when it stopped answering");
    }
    return;
  }
  if (death_seen_) ++summary_.restarts;
  notice("the target is back; replaying the " + std::to_string(suspects.size()) +
         " requests that failed when it died, one at a time");
  for (const Slot& s : suspects) {
    if (stop_->triggered()) return;
    const Reply reply = exchange_once(sender_options_, s.bytes, s.request.method == "HEAD");
    if (target_answers()) continue;
    // It died again on this request alone: the crash is this request's.
    Finding f;
    f.severity = Severity::critical;
    f.signature = "dies on this request";
    f.title = describe_operation(s.operation, s.request) + " kills the target";
    f.trigger = {"outcome", std::string(outcome_name(failed_mid_request(reply) ? reply.outcome : s.reply.outcome))};
    stamp(std::move(f), &s,
          "the target stopped answering with this request in flight, and again when it was replayed alone (" +
              std::string(outcome_name(reply.outcome)) + ")");
    remember_crash(s);
    if (wait_for_target()) ++summary_.restarts;
    else if (!stop_->triggered()) gave_up_ = true;
    return;
  }
  // Not one of them kills it alone. Cuts without a sign of death (nothing refused, the process the
  // same, answering when asked) were the requests' own: they are judged as such.
  if (!death_seen_) {
    for (auto& batch : in_flight_) batch->death = false;
    return;
  }
  // A death under a fault (a kill, a resource limit) is the fault's doing; otherwise still a
  // finding, on the first request that failed.
  if (fault_active || suspects.empty()) return;
  Finding f;
  f.severity = Severity::high;
  f.signature = "died; not reproduced by one request alone";
  f.title = "the target died with " + describe_operation(suspects.front().operation, suspects.front().request) +
            " in flight (not reproduced alone)";
  f.trigger = {"outcome", std::string(outcome_name(suspects.front().reply.outcome))};
  stamp(std::move(f), &suspects.front(),
        std::to_string(suspects.size()) + " requests were in flight; none killed it again when replayed alone");
}

Slot Engine::guarded_slot(std::uint64_t index) {
  Slot slot = make_slot(index);
  for (int i = 0; i < kCrashRedraws && crash_guard_.matches(slot.request); ++i) slot = make_slot(index);
  return slot;
}

// A crash confirmed once is reported once: its input class is not generated again, and its
// operation gets a smaller share for the rest of the run (not none: other bugs may live there).
void Engine::remember_crash(const Slot& culprit) {
  crash_guard_.confirm(culprit.request);
  if (culprit.operation == nullptr) return;
  const auto index = static_cast<std::size_t>(culprit.operation - document_->operations.data());
  if (index >= weights_.size()) return;
  double& w = weights_[index];
  w = std::max(w * kCrashWeightFactor, std::min(w, kCrashWeightFloor));
}

void Engine::watch_memory(std::int64_t now_ns) {
  if (options_.memory_growth == 0 || now_ns - last_memory_ns_ < 1'000'000'000) return;
  last_memory_ns_ = now_ns;
  const auto pid = current_pid();
  if (!pid) return;
  const auto rss = resident_bytes(*pid);
  if (!rss) return;
  if (!memory_baseline_ || memory_pid_ != *pid) {
    // A new process starts a new account (a restart frees what the old one held).
    memory_baseline_ = *rss;
    memory_pid_ = *pid;
    sent_since_baseline_.clear();
    return;
  }
  if (memory_reported_ || *rss <= *memory_baseline_ + options_.memory_growth) return;
  memory_reported_ = true;
  std::vector<std::pair<std::uint64_t, std::string>> sent;
  for (const auto& [op, n] : sent_since_baseline_) sent.emplace_back(n, op);
  std::sort(sent.rbegin(), sent.rend());
  std::string most;
  for (std::size_t i = 0; i < sent.size() && i < 3; ++i)
    most += (i ? ", " : "") + sent[i].second + " (" + std::to_string(sent[i].first) + ")";
  Finding f;
  f.engine = "fuzz";
  f.oracle = "memory_growth";
  f.severity = Severity::medium;
  f.signature = "resident memory growth";
  f.title = "the target's memory grew by " + mib(*rss - *memory_baseline_) + " while fuzzed (bound " +
            mib(options_.memory_growth) + ")";
  f.evidence = "VmRSS of pid " + std::to_string(*pid) + " from " + mib(*memory_baseline_) + " to " + mib(*rss) +
               "; most sent: " + most;
  record_finding(std::move(f), nullptr);
}

Reply Engine::replay(const std::string& bytes, const std::vector<std::string>& setup, bool head) {
  for (const std::string& s : setup) (void)exchange_once(sender_options_, s);
  return exchange_once(sender_options_, bytes, head);
}

void Engine::recheck_pending(bool at_end) {
  if (rechecks_.empty()) return;
  if (hooks_.context != nullptr && hooks_.context->any_fault_active()) return;  // not yet
  std::size_t done = 0;
  while (!rechecks_.empty() && (at_end || done < kRechecksPerBatch) && !stop_->triggered()) {
    const Recheck r = std::move(rechecks_.front());
    rechecks_.erase(rechecks_.begin());
    ++done;
    auto it = first_seen_.find(r.key);
    if (it == first_seen_.end()) continue;
    Finding& f = it->second.second;
    // A crash is not replayed behind the engine's back: its confirmation already replayed it.
    if (f.oracle == "target_died") continue;
    const Reply reply = replay(r.bytes, r.setup, r.head);
    f.without_faults = reply_triggers(f.trigger, reply, oracles_.checker(), r.operation);
    log_.update(f);
  }
}

void Engine::minimize_findings() {
  const auto budget =
      std::clamp<std::int64_t>(std::chrono::nanoseconds(options_.duration).count() / 10, 2'000'000'000, 15'000'000'000);
  const std::int64_t deadline = steady_now_ns() + budget;
  for (const Finding& logged : log_.all()) {
    auto it = first_seen_.find(logged.key());
    if (it == first_seen_.end() || stop_->triggered()) continue;
    const Slot& slot = it->second.first;
    Finding f = logged;
    // Findings a smaller request cannot stand for: hangs and crashes (each attempt costs a
    // timeout or a restart), stateful probes (they need their set-up), raw framing (no structure
    // to shrink), and accepted invalid input (shrinking drifts back to a valid request).
    const bool skip = slot.strategy == Strategy::raw || slot.probe != Probe::none || !slot.setup.empty() ||
                      f.trigger.rule == "outcome" || f.oracle == "accepted_invalid" || f.oracle == "memory_growth";
    if (skip) continue;
    const bool head = slot.request.method == "HEAD";
    const auto creds = credentials(slot);
    int sends = 0;
    const auto still = [&](const RequestCase& candidate) {
      if (steady_now_ns() >= deadline || stop_->triggered()) return false;
      // A value a binding replaces at replay (finding.h) stays as it is: it names the resource.
      for (const auto& [name, value] : slot.request.path_params) {
        const auto kept = candidate.path_params.find(name);
        const bool bound = std::any_of(f.bindings.begin(), f.bindings.end(), [&](const Binding& b) {
          return b.placeholder == percent_encode(scalar_text(value), PercentMode::path_segment);
        });
        if (bound && (kept == candidate.path_params.end() || kept->second != value)) return false;
      }
      ++sends;
      const Reply reply = exchange_once(sender_options_, render(candidate, base_, creds), head);
      return reply_triggers(f.trigger, reply, oracles_.checker(), slot.operation);
    };
    if (!still(slot.request)) {
      f.evidence += " (one replay on a fresh connection did not show it again)";
      log_.update(f);
      continue;
    }
    RequestCase smaller = minimize(slot.request, still, kMinimizeAttempts);
    std::string bytes = render(smaller, base_, creds);
    if (bytes.size() > slot.bytes.size()) continue;  // never larger than the one first found
    f.request = std::move(smaller);
    f.raw_request = std::move(bytes);
    f.curl = to_curl(f.request, base_, creds);
    log_.update(f);
  }
}

}  // namespace chaosplus::fuzz::detail
