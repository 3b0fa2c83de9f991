#include "runner/runner.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <thread>

#include "core/event_bus.h"
#include "faults/fault.h"
#include "faults/rollback.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "probes/probe.h"
#include "proxy/api_client.h"
#include "proxy/server.h"
#include "runner/journal.h"
#include "runner/ledger.h"
#include "runner/live_view.h"
#include "runner/monitor.h"
#include "runner/output_paths.h"
#include "runner/phase_activities.h"
#include "runner/provenance.h"
#include "runner/recheck.h"
#include "runner/recovery.h"
#include "runner/revert_plan.h"
#include "runner/rollback_step.h"
#include "runner/target_claims.h"
#include "runner/timeline_slip.h"
#include "targets/launch.h"

namespace chaosplus::runner {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("chaosplus") : path.string();
}

// A fault on the timeline: when it starts and stops within its phase, and, once injected, its
// handle and ledger entry.
struct TimelineFault {
  const spec::Fault* spec = nullptr;
  Duration start{0};
  Duration end{0};
  std::unique_ptr<faults::Fault> fault;
  std::int64_t ledger_id = 0;
  std::string summary;
  bool active = false;
};

class Run {
 public:
  Run(const spec::Experiment& experiment, const RunOptions& options, HaltSwitch& halt, std::ostream& out)
      : experiment_(experiment),
        options_(options),
        halt_(halt),
        out_(out),
        monitor_(experiment),
        activities_(bus_, halt_, [this](const std::string& message) { fail(message); }) {}

  RunResult execute();

 private:
  Status open_ledger_and_journal();
  Status place_proxies();
  Status start_targets();
  Status check_steady_state(const std::string& stage);
  struct ProbeSchedule {
    std::mutex mutex;
    std::condition_variable cv;
    std::int64_t due = 0;  // attempts scheduled and not yet started
    bool stopping = false;
  };
  void start_continuous_probes();
  void observe_probe(const spec::Probe& probe);
  // `now`: publish guardrail.tripped at once; not from inside a subscriber (note_halt publishes it).
  void handle_trip(const GuardrailTrip& trip, bool now = true);
  void publish_pending_trip();
  void observe_load_tick(const Event& tick);
  void stop_continuous_probes();
  void play_phases();
  void play_phase(const spec::Phase& phase, std::size_t index);
  bool inject(TimelineFault& f, const std::string& phase);
  void revert(TimelineFault& f);
  void revert_together(const std::vector<TimelineFault*>& newest_first);  // runner/revert_plan.h
  void revert_all_active();
  void record_rollbacks();
  void run_rollbacks();
  void stop_placements();
  Result<targets::ProcessId> start_recorded(const std::string& what, const spec::ProcessLaunch& launch,
                                            const std::string& log);
  void note_slip(const std::string& phase, const std::string& where, Clock::time_point due);
  void fail(const std::string& message);
  void note_halt();  // puts the halt on the timeline once, as soon as it is noticed
  void publish(Event e) { bus_.publish(std::move(e)); }
  faults::TargetHandle* handle(const std::string& name);
  std::string log_path_for(const std::string& what) const;
  void print_summary(const RunResult& result);

  const spec::Experiment& experiment_;
  const RunOptions& options_;
  HaltSwitch& halt_;
  std::ostream& out_;
  EventBus bus_;
  Monitor monitor_;
  PhaseActivities activities_;  // of the phase being played
  std::unique_ptr<Ledger> ledger_;
  std::optional<Journal> journal_;
  std::unique_ptr<LiveView> live_;
  std::string run_id_;
  std::string log_dir_;
  std::vector<std::unique_ptr<faults::TargetHandle>> handles_;
  std::optional<targets::ProcessId> proxy_server_;
  std::string proxy_api_;
  std::string proxy_token_;  // the bearer token of this run's proxy API
  // Ledger entries of processes we started, in start order; stopped in reverse.
  struct Placement {
    std::int64_t ledger_id;
    std::string what;
    std::string record;
  };
  std::vector<Placement> placements_;
  // Claims on attached processes and addresses, held for the whole run (released with the Run).
  std::vector<std::unique_ptr<targets::Claim>> claims_;
  std::vector<std::int64_t> rollback_entries_;  // ledger entry of each rollback, in experiment order
  SlipTracker slips_;
  std::vector<TimelineFault*> injected_order_;  // active faults in injection order
  std::vector<std::unique_ptr<TimelineFault>> all_faults_;
  std::mutex phase_mutex_;
  std::string current_phase_;
  HaltSwitch probes_stop_;
  std::vector<std::thread> probe_threads_;
  std::vector<std::string> errors_;        // chaosplus's own failures
  std::vector<std::string> not_restored_;  // reverts, rollbacks, placements that failed
  std::optional<GuardrailTrip> trip_;
  bool trip_published_ = false;
  std::mutex trip_mutex_;
  bool halt_noted_ = false;
  std::vector<std::string> threshold_failures_;  // from threshold.result events
  bool before_held_ = true;
  bool after_held_ = true;
  bool after_checked_ = false;
  std::optional<Duration> time_to_recover_;  // from the first check after the reverts to one that passed
  int after_attempts_ = 0;
  int faults_injected_ = 0;
  int faults_reverted_ = 0;
  int faults_revert_failed_ = 0;
};

void Run::fail(const std::string& message) {
  errors_.push_back(message);
  publish(Event("run.error").with("message", message));
  halt_.trigger("error: " + message);
}

void Run::note_halt() {
  publish_pending_trip();
  if (halt_noted_ || !halt_.triggered()) return;
  halt_noted_ = true;
  if (errors_.empty()) publish(Event("run.halted").with("reason", halt_.reason()));
}

faults::TargetHandle* Run::handle(const std::string& name) {
  for (auto& h : handles_) {
    if (h->name() == name) return h.get();
  }
  return nullptr;
}

std::string Run::log_path_for(const std::string& what) const { return log_dir_ + "/" + what + ".log"; }

// The ledger entry is written before the fork and completed (pid and start time) while the child
// waits at its gate: nothing the run starts is ever running unrecorded (targets/gated_child.h).
Result<targets::ProcessId> Run::start_recorded(const std::string& what, const spec::ProcessLaunch& launch,
                                               const std::string& log) {
  auto entry = ledger_->record(run_id_, std::string(faults::kinds::process_started),
                               faults::started_process_record(what, std::nullopt));
  if (!entry) return Error{"cannot write the ledger, " + what + " not started: " + entry.error()};
  std::string record;
  auto id = targets::spawn(launch, log, [&](const targets::ProcessId& child) -> Status {
    record = faults::started_process_record(what, child);
    return ledger_->update_record(*entry, record);
  });
  if (!id) {
    (void)ledger_->set_state(*entry, EntryState::reverted, "not started: " + id.error());
    return Error{id.error()};
  }
  (void)ledger_->set_state(*entry, EntryState::active);
  placements_.push_back({*entry, what, record});
  return id;
}

void Run::note_slip(const std::string& phase, const std::string& where, Clock::time_point due) {
  if (auto slip = slips_.check(phase, where, due, Clock::now())) {
    publish(Event("timeline.slipped")
                .with("phase", phase)
                .with("where", where)
                .with("late_ms", std::chrono::duration<double, std::milli>(slip->late).count()));
  }
}

Status Run::open_ledger_and_journal() {
  auto ledger = Ledger::open(ledger_path(options_.state_dir));
  if (!ledger) return Error{ledger.error()};
  ledger_ = std::move(ledger).value();

  // Leftovers of runs that crashed are put back before we touch anything.
  std::ostringstream recovery_log;
  RecoveryReport recovered = recover(*ledger_, recovery_log);

  // A path from the command line is the user's choice; one from the file stays in the runs folder.
  const auto now = std::chrono::system_clock::now();
  run_id_ = make_run_id(now);
  auto journal = options_.journal_path.empty()
                     ? Journal::create_under(options_.runs_dir, expand_output_path(experiment_.outputs.journal,
                                                                                   experiment_.name, now, run_id_))
                     : Journal::create(options_.journal_path);
  if (!journal) return Error{journal.error()};
  journal_.emplace(std::move(journal).value());
  const std::string& journal_path = journal_->path();
  log_dir_ = journal_->logs_dir();

  auto self = targets::identify(::getpid());
  RunRecord record{run_id_, ::getpid(), self ? self->start_time : 0, experiment_.name, journal_path, "running"};
  if (auto s = ledger_->begin_run(record); !s) return s;

  bus_.subscribe([this](const Event& e) { journal_->write(e); });
  Duration total{0};
  for (const auto& p : experiment_.phases) total += p.duration;
  live_ = std::make_unique<LiveView>(out_, options_.live_status, total, monitor_, bus_.start());
  bus_.subscribe([this](const Event& e) { live_->on_event(e); });
  // Judgments and load metrics come from the stream, whichever activity published them.
  bus_.subscribe([this](const Event& e) {
    if (e.type == "threshold.result" && !e.flag("held")) {
      threshold_failures_.push_back(e.text("activity") + " " + e.text("name") + ": " + e.text("message"));
    } else if (e.type == "load.tick") {
      observe_load_tick(e);
    }
  });

  // Provenance: which build ran which file (by content), where, as whom, and how it was called.
  std::error_code ec;
  const std::filesystem::path file = std::filesystem::absolute(experiment_.source_path, ec);
  auto sha256 = file_sha256(experiment_.source_path);
  publish(Event("run.started")
              .with("run_id", run_id_)
              .with("experiment", experiment_.name)
              .with("file", ec ? experiment_.source_path : file.lexically_normal().string())
              .with("file_sha256", sha256 ? *sha256 : std::string())
              .with("version", chaosplus_version())
              .with("host", host_name())
              .with("user", static_cast<std::int64_t>(::getuid()))
              .with("command_line", redacted_command_line(options_.command_line))
              .with("journal", journal_path)
              .with("pid", static_cast<std::int64_t>(::getpid())));
  if (recovered.runs_recovered > 0 || recovered.entries_reverted > 0 || recovered.entries_failed > 0) {
    publish(Event("recovery.done")
                .with("reverted", recovered.entries_reverted)
                .with("failed", recovered.entries_failed)
                .with("log", recovery_log.str()));
  }
  return ok_status();
}

Status Run::place_proxies() {
  bool needed = std::any_of(experiment_.targets.begin(), experiment_.targets.end(),
                            [](const spec::Target& t) { return t.proxy.has_value(); });
  if (!needed) return ok_status();
  // The proxy server is its own process, so it outlives a crashed runner only until `recover`.
  spec::ProcessLaunch launch;
  launch.command = {self_executable(), "proxy", "--api", "127.0.0.1:0"};
  // Only this run may change its proxy: a fresh token, through the environment (not visible in ps).
  proxy_token_ = proxy::random_token();
  launch.env["CHAOSPLUS_PROXY_TOKEN"] = proxy_token_;
  const std::string log = log_path_for("fault-proxy");
  // The log is appended to across runs with the same journal: only what this proxy writes counts.
  std::error_code size_error;
  const auto log_start = std::filesystem::exists(log) ? std::filesystem::file_size(log, size_error) : 0;
  auto id = start_recorded("fault proxy", launch, log);
  if (!id) return Error{"cannot start the fault proxy: " + id.error()};
  proxy_server_ = *id;
  const std::string marker = "chaosplus proxy API listening on ";
  std::string address;
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline && address.empty();) {
    std::ifstream in(log);
    in.seekg(static_cast<std::streamoff>(size_error ? 0 : log_start));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(marker, 0) == 0) address = line.substr(marker.size());
    }
    if (address.empty()) {
      if (!targets::is_alive(*id)) return Error{"the fault proxy exited: " + targets::log_tail(log)};
      if (halt_.wait_for(20ms)) return Error{"halted while starting the fault proxy"};
    }
  }
  if (address.empty()) return Error{"the fault proxy did not report its API address within 10s"};
  proxy_api_ = "http://" + address;
  proxy::ApiClient client(proxy_api_, proxy_token_);
  for (auto& h : handles_) {
    const spec::Target& t = h->spec();
    h->proxy_api = proxy_api_;
    h->proxy_token = proxy_token_;
    h->proxy_server = proxy_server_;
    if (!t.proxy) continue;
    if (auto s = client.create_proxy(t.name, t.proxy->listen.to_string(), t.proxy->upstream.to_string()); !s) {
      return Error{"cannot place the fault proxy for target '" + t.name + "' on " + t.proxy->listen.to_string() + ": " +
                   s.error()};
    }
    publish(Event("proxy.placed")
                .with("target", t.name)
                .with("listen", t.proxy->listen.to_string())
                .with("upstream", t.proxy->upstream.to_string()));
  }
  return ok_status();
}

Status Run::start_targets() {
  for (auto& h : handles_) {
    const spec::Target& t = h->spec();
    if (t.attach) {
      const auto id = h->process();  // resolved and claimed by claim_targets (runner/target_claims.h)
      publish(Event("target.attached").with("target", t.name).with("pid", static_cast<std::int64_t>(id ? id->pid : 0)));
      continue;
    }
    if (!t.process) continue;
    auto id = start_recorded("target " + t.name, *t.process, h->log_path());
    if (!id) return Error{"target '" + t.name + "': " + id.error()};
    h->set_process(*id);
    publish(Event("target.started")
                .with("target", t.name)
                .with("pid", static_cast<std::int64_t>(id->pid))
                .with("log", h->log_path()));
    if (t.process->ready) {
      if (auto s = targets::wait_ready(*t.process->ready, *id, h->log_path(), halt_); !s) {
        return Error{"target '" + t.name + "' did not become ready: " + s.error()};
      }
      publish(Event("target.ready").with("target", t.name));
    }
  }
  return ok_status();
}

Event probe_event(const spec::Probe& probe, const probes::ProbeResult& o, const std::string& stage,
                  const std::string& phase) {
  Event e("probe.result");
  e.with("probe", probe.name)
      .with("stage", stage)
      .with("ok", o.ok)
      .with("latency_ms", std::chrono::duration<double, std::milli>(o.latency).count())
      .with("status", std::int64_t{o.status});
  if (!phase.empty()) e.with("phase", phase);
  if (!o.detail.empty()) e.with("detail", o.detail);
  return e;
}

Status Run::check_steady_state(const std::string& stage) {
  std::vector<std::string> failures;
  for (const spec::Probe& p : experiment_.steady_state.probes) {
    probes::ProbeResult o = probes::run(p);
    publish(probe_event(p, o, stage, ""));
    if (!o.ok) failures.push_back(p.name + ": " + o.detail);
  }
  if (failures.empty()) return ok_status();
  std::string message = "steady state " + stage + " the experiment did not hold: ";
  for (std::size_t i = 0; i < failures.size(); ++i) message += (i ? "; " : "") + failures[i];
  return Error{message};
}

Duration probe_timeout(const spec::Probe& p) {
  return std::visit([](const auto& kind) { return kind.timeout; }, p.kind);
}

void Run::observe_probe(const spec::Probe& p) {
  probes::ProbeResult o = probes::run(p);
  if (probes_stop_.triggered()) return;
  std::string phase;
  {
    std::lock_guard lock(phase_mutex_);
    phase = current_phase_;
  }
  Event stamped = bus_.publish(probe_event(p, o, "during", phase));
  auto trip = monitor_.observe(p.name, Sample{stamped.elapsed, o.ok, std::chrono::duration<double>(o.latency).count()});
  if (trip) handle_trip(*trip);
}

void Run::handle_trip(const GuardrailTrip& trip, bool now) {
  {
    std::lock_guard lock(trip_mutex_);
    if (!trip_) trip_ = trip;
  }
  if (now) publish_pending_trip();
  halt_.trigger("guardrail '" + trip.guardrail + "' tripped: " + trip.message);
}

void Run::publish_pending_trip() {
  std::optional<GuardrailTrip> trip;
  {
    std::lock_guard lock(trip_mutex_);
    if (!trip_ || trip_published_) return;
    trip_published_ = true;
    trip = trip_;
  }
  publish(Event("guardrail.tripped")
              .with("guardrail", trip->guardrail)
              .with("probe", trip->probe)
              .with("message", trip->message)
              .with("measured", trip->measured));
}

// A guardrail on a load reads its load.tick events, whichever activity published them. This runs
// inside the bus's delivery, so a trip is published once the halt is noticed (note_halt).
void Run::observe_load_tick(const Event& tick) {
  const auto count = [&](std::string_view key) { return static_cast<std::uint64_t>(tick.number(key)); };
  LoadSample sample;
  sample.at = tick.elapsed;
  sample.requests = count("requests") + count("errors") + count("dropped");
  sample.errors = count("errors") + count("status_4xx_5xx") + count("dropped");
  sample.p50_s = tick.number("p50_ms") / 1e3;
  sample.p90_s = tick.number("p90_ms") / 1e3;
  sample.p99_s = tick.number("p99_ms") / 1e3;
  if (auto trip = monitor_.observe_load(tick.text("load"), sample)) handle_trip(*trip, false);
}

// Each continuous probe fires on its own schedule, whether or not earlier attempts have come back:
// a slow system then shows as slow or failed results, not as fewer results (no coordinated
// omission). Enough workers are kept for every attempt that can be in flight within the timeout.
void Run::start_continuous_probes() {
  for (const spec::Probe& p : experiment_.steady_state.probes) {
    if (!p.every) continue;
    auto schedule = std::make_shared<ProbeSchedule>();
    const Duration every = std::max<Duration>(*p.every, 1ms);
    const auto workers = std::clamp<std::int64_t>(probe_timeout(p) / every + 1, 1, 32);
    for (std::int64_t i = 0; i < workers; ++i) {
      probe_threads_.emplace_back([this, &p, schedule] {
        while (true) {
          {
            std::unique_lock lock(schedule->mutex);
            schedule->cv.wait(lock, [&] { return schedule->due > 0 || schedule->stopping; });
            if (schedule->stopping) return;
            --schedule->due;
          }
          observe_probe(p);
        }
      });
    }
    probe_threads_.emplace_back([this, schedule, every, workers] {
      auto next = Clock::now();
      // Bounded by the run: ends when the phases end or the run halts.
      while (!probes_stop_.triggered() && !halt_.triggered()) {
        {
          std::lock_guard lock(schedule->mutex);
          if (schedule->due < workers) ++schedule->due;  // never queue more than can run
        }
        schedule->cv.notify_one();
        next += every;
        auto now = Clock::now();
        if (next < now) next = now;
        if (probes_stop_.wait_for(next - now)) break;
      }
      {
        std::lock_guard lock(schedule->mutex);
        schedule->stopping = true;
      }
      schedule->cv.notify_all();
    });
  }
}

void Run::stop_continuous_probes() {
  probes_stop_.trigger("phases over");
  for (auto& t : probe_threads_) t.join();
  probe_threads_.clear();
}

bool Run::inject(TimelineFault& f, const std::string& phase) {
  faults::TargetHandle* target = handle(f.spec->target);
  if (target == nullptr) {
    fail("fault '" + f.spec->type + "' names unknown target '" + f.spec->target + "'");
    return false;
  }
  auto fault = faults::make_fault(*f.spec, *target);
  if (!fault) {
    fail(fault.error());
    return false;
  }
  f.fault = std::move(fault).value();
  f.summary = f.fault->summary();
  // Written and synced before the system is touched: a crash from here on is undone by recover.
  auto entry = ledger_->record(run_id_, f.fault->kind(), f.fault->record());
  if (!entry) {
    fail("cannot write the ledger, fault not injected: " + entry.error());
    return false;
  }
  f.ledger_id = *entry;
  // A system tool the fault starts is added to its entry before it runs (undo stops it first).
  f.fault->set_record_sink(
      [this, id = *entry](const std::string& record) { return ledger_->update_record(id, record); });
  Status s = f.fault->inject(halt_);
  if (!s) {
    publish(Event("fault.failed").with("summary", f.summary).with("phase", phase).with("error", s.error()));
    // It may have half-happened: undo what it can, then stop the run.
    Status undone = f.fault->revert(halt_);
    (void)ledger_->set_state(f.ledger_id, undone ? EntryState::reverted : EntryState::revert_failed,
                             undone ? "" : undone.error());
    fail("fault could not be injected: " + f.summary + ": " + s.error());
    return false;
  }
  (void)ledger_->set_state(f.ledger_id, EntryState::active);
  f.active = true;
  injected_order_.push_back(&f);
  ++faults_injected_;
  publish(Event("fault.injected")
              .with("fault", f.spec->type)
              .with("target", f.spec->target)
              .with("summary", f.summary)
              .with("phase", phase)
              .with("ledger_id", f.ledger_id));
  return true;
}

void Run::revert(TimelineFault& f) {
  if (!f.active) return;
  const auto started = Clock::now();
  // A revert is what a halt asks for, so the halt must not cut it short.
  HaltSwitch uninterrupted;
  Status s = f.fault->revert(uninterrupted);
  f.active = false;
  std::erase(injected_order_, &f);
  (void)ledger_->set_state(f.ledger_id, s ? EntryState::reverted : EntryState::revert_failed, s ? "" : s.error());
  (s ? faults_reverted_ : faults_revert_failed_)++;
  Event e("fault.reverted");
  e.with("fault", f.spec->type)
      .with("target", f.spec->target)
      .with("summary", f.summary)
      .with("ok", s.ok())
      .with("took_ms", std::chrono::duration<double, std::milli>(Clock::now() - started).count())
      .with("ledger_id", f.ledger_id);
  for (const auto& [what, count] : f.fault->reach()) e.with("reach." + what, count);  // what it touched
  if (const auto ready = f.fault->ready_took()) {
    e.with("ready_ms", std::chrono::duration<double, std::milli>(*ready).count());
  }
  if (!s) {
    e.with("error", s.error());
    not_restored_.push_back("revert failed: " + f.summary + ": " + s.error());
  }
  publish(std::move(e));
}

void Run::revert_together(const std::vector<TimelineFault*>& newest_first) {
  std::vector<PendingRevert> plan;
  for (TimelineFault* f : newest_first) {
    if (!f->active) continue;
    plan.push_back({f->fault->brings_back(), [f] { return f->fault->back(); }, f->fault->return_grace(),
                    [this, f] { revert(*f); }});
  }
  HaltSwitch uninterrupted;  // the halt asked for these reverts: it does not cut the wait short
  revert_in_order(std::move(plan), [&](Duration d) { uninterrupted.wait_for(d); });
}

void Run::revert_all_active() { revert_together({injected_order_.rbegin(), injected_order_.rend()}); }

void Run::play_phase(const spec::Phase& phase, std::size_t index) {
  {
    std::lock_guard lock(phase_mutex_);
    current_phase_ = phase.name;
  }
  publish(Event("phase.started")
              .with("phase", phase.name)
              .with("index", static_cast<std::int64_t>(index))
              .with("duration", format_duration(phase.duration)));
  std::vector<TimelineFault*> timeline;
  for (const spec::Fault& f : phase.faults) {
    auto tf = std::make_unique<TimelineFault>();
    tf->spec = &f;
    tf->start = f.at;
    tf->end = f.length ? std::min(phase.duration, f.at + *f.length) : phase.duration;
    timeline.push_back(tf.get());
    all_faults_.push_back(std::move(tf));
  }
  const auto phase_start = Clock::now();
  activities_.start(phase);
  // Actions in time order; at equal times reverts go first, so a fault ending as another starts
  // does not overlap it.
  struct Action {
    Duration at;
    bool is_revert;
    TimelineFault* fault;
  };
  std::vector<Action> actions;
  for (TimelineFault* f : timeline) {
    actions.push_back({f->start, false, f});
    if (f->end < phase.duration) actions.push_back({f->end, true, f});
  }
  std::stable_sort(actions.begin(), actions.end(), [](const Action& a, const Action& b) {
    return a.at != b.at ? a.at < b.at : a.is_revert > b.is_revert;
  });
  for (const Action& a : actions) {
    auto due = phase_start + a.at;
    if (Clock::now() < due && halt_.wait_for(due - Clock::now())) break;
    if (halt_.triggered()) break;
    const std::string what = a.fault->spec->type + " " + a.fault->spec->target;
    // A frozen runner acts late: a revert then happens at once, and a fault whose end has passed
    // while it waited is not injected at all.
    note_slip(phase.name, (a.is_revert ? "revert of " : "inject of ") + what, due);
    if (a.is_revert) {
      revert_together({a.fault});
    } else if (Clock::now() >= phase_start + a.fault->end) {
      publish(Event("fault.skipped")
                  .with("fault", a.fault->spec->type)
                  .with("target", a.fault->spec->target)
                  .with("phase", phase.name)
                  .with("reason", "its end had passed before it could be injected"));
    } else if (!inject(*a.fault, phase.name)) {
      break;
    }
  }
  auto end = phase_start + phase.duration;
  if (!halt_.triggered() && Clock::now() < end) halt_.wait_for(end - Clock::now());
  if (!halt_.triggered()) note_slip(phase.name, "end of phase", end);
  note_halt();
  // Faults of this phase end with it, newest first. After a halt they are left to
  // revert_all_active(), so the halt is on the timeline before the reverts.
  if (!halt_.triggered()) {
    activities_.finish();
    revert_together({timeline.rbegin(), timeline.rend()});
  } else {
    activities_.stop();  // they wind down while the faults are reverted
  }
  publish(Event("phase.ended").with("phase", phase.name).with("halted", halt_.triggered()));
}

void Run::play_phases() {
  for (std::size_t i = 0; i < experiment_.phases.size() && !halt_.triggered(); ++i) {
    play_phase(experiment_.phases[i], i);
  }
}

// Written when the run starts, after its targets are placed and before any fault: a crash from
// here on leaves them to recover, which runs them after reverting the faults (faults/rollback.h).
void Run::record_rollbacks() {
  for (const spec::Rollback& r : experiment_.rollbacks) {
    auto entry = ledger_->record(run_id_, std::string(faults::kinds::rollback),
                                 faults::rollback_record(r, r.command ? nullptr : handle(r.restart_target)));
    if (!entry) {
      fail("cannot write the ledger, rollback " + r.name + " not recorded: " + entry.error());
      rollback_entries_.push_back(0);
      continue;
    }
    rollback_entries_.push_back(*entry);
  }
}

void Run::run_rollbacks() {
  for (std::size_t i = 0; i < experiment_.rollbacks.size(); ++i) {
    const spec::Rollback& r = experiment_.rollbacks[i];
    const std::int64_t entry = i < rollback_entries_.size() ? rollback_entries_[i] : 0;
    const Status s = run_rollback(r, r.command ? nullptr : handle(r.restart_target), *ledger_, entry);
    Event e("rollback.done");
    e.with("name", r.name).with("ok", s.ok());
    if (!s) {
      e.with("error", s.error());
      not_restored_.push_back("rollback " + r.name + " failed: " + s.error());
    }
    publish(std::move(e));
  }
}

void Run::stop_placements() {
  for (auto it = placements_.rbegin(); it != placements_.rend(); ++it) {
    Status s = faults::undo(faults::kinds::process_started, it->record);
    (void)ledger_->set_state(it->ledger_id, s ? EntryState::reverted : EntryState::revert_failed, s ? "" : s.error());
    publish(Event("placement.removed").with("what", it->what).with("ok", s.ok()));
    if (!s) not_restored_.push_back("could not stop " + it->what + ": " + s.error());
  }
}

RunResult Run::execute() {
  RunResult result;
  if (auto s = open_ledger_and_journal(); !s) {
    result.verdict = Verdict::error;
    result.reasons.push_back(s.error());
    out_ << "error: " << s.error() << "\n";
    return result;
  }
  result.journal_path = journal_->path();
  result.run_id = run_id_;
  for (const spec::Target& t : experiment_.targets) {
    faults::TargetHandle* target =
        handles_.emplace_back(std::make_unique<faults::TargetHandle>(t, log_path_for(t.name))).get();
    // A fault's revert or a rollback that starts the target again records it first, like start_targets.
    target->start_recorded = [this, target](const spec::ProcessLaunch& launch) {
      return start_recorded("target " + target->name(), launch, target->log_path());
    };
    target->publish = [this](Event e) { publish(std::move(e)); };  // an extension's events
  }

  // Before anything is placed: a second run on the same process or address refuses here, having
  // changed nothing, so it runs no rollbacks either.
  bool setup_ok = false;
  auto claims = claim_targets(handles_, {run_id_, experiment_.name, static_cast<int>(::getpid())});
  const bool claimed = claims.ok();
  if (!claimed) {
    fail(claims.error());
  } else {
    claims_ = std::move(claims).value();
    if (auto s = place_proxies(); !s) fail(s.error());
    else if (auto t = start_targets(); !t) fail(t.error());
    else setup_ok = true;
    record_rollbacks();  // after the targets are placed, before any fault
  }

  if (setup_ok && !halt_.triggered()) {
    if (auto s = check_steady_state("before"); !s) {
      before_held_ = false;
      result.reasons.push_back(s.error() + "; no fault was injected");
    } else {
      start_continuous_probes();
      play_phases();
    }
  }
  const bool halted = halt_.triggered();
  const std::string halt_reason = halt_.reason();
  note_halt();
  // Faults first, at once: probes still in flight must not delay the return to the original state.
  const auto revert_start = Clock::now();
  revert_all_active();
  const Duration revert_took = Clock::now() - revert_start;
  activities_.finish();
  publish_pending_trip();  // a guardrail its last ticks tripped
  stop_continuous_probes();
  if (claimed) run_rollbacks();

  // The operator's stop means "put it back and go"; a guardrail abort still checks recovery.
  const bool operator_stop = halted && !trip_ && errors_.empty();
  std::vector<ToleranceResult> tolerances = monitor_.tolerances();
  if (setup_ok && before_held_ && !operator_stop) {
    after_checked_ = !experiment_.steady_state.probes.empty();
    HaltSwitch paced;  // only its timed wait; the operator's halt has been handled above
    Recheck after = recheck([this] { return check_steady_state("after"); }, experiment_.steady_state.after_within, 1s,
                            [&](Duration d) { paced.wait_for(d); });
    if (!after.last) {
      after_held_ = false;
      result.reasons.push_back(after.last.error());
    } else if (after_checked_) {
      time_to_recover_ = after.time_to_recover;
      after_attempts_ = after.attempts;
    }
  }
  stop_placements();

  RunFacts facts;
  facts.errors = errors_;
  facts.not_restored = not_restored_;
  facts.halted = halted;
  facts.halt_reason = halt_reason;
  facts.guardrail_tripped = trip_.has_value();
  facts.checked = checks_anything(experiment_);
  facts.before_held = before_held_;
  facts.after_checked = after_checked_;
  facts.after_held = after_held_;
  facts.deviations = std::move(result.reasons);  // the steady state before or after
  for (const ToleranceResult& t : tolerances) {
    publish(Event("tolerance.result").with("probe", t.probe).with("held", t.held).with("message", t.message));
    if (!t.held && !halted) facts.deviations.push_back("during the phases " + t.probe + ": " + t.message);
  }
  facts.deviations.insert(facts.deviations.end(), threshold_failures_.begin(), threshold_failures_.end());
  facts.slips = slips_.summary();
  VerdictResult decided = decide(facts);
  result.verdict = decided.verdict;
  result.reasons = std::move(decided.reasons);

  Event verdict("run.verdict");
  verdict.with("verdict", to_string(result.verdict))
      .with("exit_code", exit_code(result.verdict))
      .with("faults_injected", faults_injected_)
      .with("faults_reverted", faults_reverted_)
      .with("faults_revert_failed", faults_revert_failed_)
      .with("revert_ms", std::chrono::duration<double, std::milli>(revert_took).count());
  if (time_to_recover_) {
    verdict.with("time_to_recover_ms", std::chrono::duration<double, std::milli>(*time_to_recover_).count())
        .with("after_attempts", after_attempts_);
  }
  std::string reasons;
  for (const auto& r : result.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
  verdict.with("reasons", reasons);
  publish(std::move(verdict));
  live_->stop();
  journal_->sync();
  (void)ledger_->end_run(run_id_, to_string(result.verdict));
  print_summary(result);
  return result;
}

void Run::print_summary(const RunResult& result) {
  out_ << "\n== " << experiment_.name << ": " << label(result.verdict) << " (exit code " << exit_code(result.verdict)
       << ")\n";
  for (const auto& r : result.reasons) out_ << "   - " << r << "\n";
  out_ << "   faults: " << faults_injected_ << " injected, " << faults_reverted_ << " reverted";
  if (faults_revert_failed_ > 0) out_ << ", " << faults_revert_failed_ << " FAILED to revert";
  out_ << "\n";
  if (time_to_recover_) {
    char line[160];
    std::snprintf(line, sizeof line,
                  "   time to recover: %.0f ms (the steady state passed after the reverts on attempt %d)\n",
                  std::chrono::duration<double, std::milli>(*time_to_recover_).count(), after_attempts_);
    out_ << line;
  }
  for (const spec::Probe& p : experiment_.steady_state.probes) {
    if (!p.every) continue;
    WindowStats s = monitor_.overall(p.name);
    if (s.count == 0) {
      out_ << "   probe " << p.name << " during the phases: not run\n";
      continue;
    }
    char line[200];
    std::snprintf(line, sizeof line, "   probe %s during the phases: %d/%d ok (%.1f%%), p50 %.1fms, p99 %.1fms\n",
                  p.name.c_str(), s.ok, s.count, s.success_rate * 100, s.p50 * 1000, s.p99 * 1000);
    out_ << line;
  }
  out_ << "   journal: " << result.journal_path << "\n";
  out_ << "   logs:    " << log_dir_ << "/\n" << std::flush;
}

}  // namespace

RunResult run_experiment(const spec::Experiment& experiment, const RunOptions& options, HaltSwitch& halt,
                         std::ostream& out) {
  Run run(experiment, options, halt, out);
  return run.execute();
}

}  // namespace chaosplus::runner
