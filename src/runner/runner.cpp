#include "runner/runner.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>

#include "core/event_bus.h"
#include "faults/target_handle.h"
#include "fleet/distributed_load.h"
#include "load/load_spec.h"
#include "probes/probe.h"
#include "runner/fault_timeline.h"
#include "runner/journal.h"
#include "runner/ledger.h"
#include "runner/live_view.h"
#include "runner/monitor.h"
#include "runner/output_paths.h"
#include "runner/phase_activities.h"
#include "runner/placement.h"
#include "runner/probe_schedule.h"
#include "runner/provenance.h"
#include "runner/recheck.h"
#include "runner/recovery.h"
#include "runner/run_recorder.h"
#include "runner/verdict_fold.h"
#include "store/location.h"
#include "store/store.h"

namespace chaosplus::runner {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class Run {
 public:
  Run(const spec::Experiment& experiment, const RunOptions& options, HaltSwitch& halt, std::ostream& out)
      : experiment_(experiment),
        options_(options),
        halt_(halt),
        out_(out),
        local_(needs_agents(experiment) ? local_part(experiment) : experiment),
        monitor_(experiment),
        activities_(bus_, halt_, [this](const std::string& message) { fail(message); }) {}

  RunResult execute();

 private:
  Status open_ledger_and_journal();
  Status start_fleet();
  Status check_steady_state(const std::string& stage);
  void observe_probe(const spec::Probe& probe, const probes::ProbeResult& outcome);
  void handle_trip(const GuardrailTrip& trip);
  void play_phases();
  void play_phase(const spec::Phase& phase, std::size_t index);
  void fail(const std::string& message);
  void note_halt();  // puts the halt on the timeline once, as soon as it is noticed
  void publish(Event e) { bus_.publish(std::move(e)); }
  faults::TargetHandle* handle(const std::string& name) { return placement_->handle(name); }

  const spec::Experiment& experiment_;
  const RunOptions& options_;
  HaltSwitch& halt_;
  std::ostream& out_;
  const spec::Experiment local_;  // what this host places: the experiment without its targets on agents
  EventBus bus_;
  Monitor monitor_;
  PhaseActivities activities_;  // of the phase being played
  VerdictFold fold_;            // the verdict and the summary, from the events alone
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<store::Store> store_;
  std::optional<Journal> journal_;
  std::unique_ptr<RunRecorder> recorder_;  // writes to store_, so declared after it
  std::unique_ptr<LiveView> live_;
  std::string run_id_;
  std::string log_dir_;
  std::unique_ptr<FleetRun> fleet_;       // the agents of the run, when it has targets on agents
  std::unique_ptr<Placement> placement_;  // claims, the fault proxy, targets (released with the Run)
  std::unique_ptr<FaultTimeline> faults_;
  std::mutex phase_mutex_;
  std::string current_phase_;
  std::unique_ptr<ProbeSchedule> probes_;  // the continuous probes during the phases
  std::vector<std::string> errors_;        // chaosplus's own failures
  std::optional<GuardrailTrip> trip_;
  std::mutex trip_mutex_;
  bool halt_noted_ = false;
};

void Run::fail(const std::string& message) {
  errors_.push_back(message);
  publish(Event("run.error").with("message", message));
  halt_.trigger("error: " + message);
}

void Run::note_halt() {
  if (halt_noted_ || !halt_.triggered()) return;
  halt_noted_ = true;
  if (errors_.empty()) publish(Event("run.halted").with("reason", halt_.reason()));
}

Status Run::open_ledger_and_journal() {
  auto ledger = Ledger::open(ledger_path(options_.state_dir));
  if (!ledger) return Error{ledger.error()};
  ledger_ = std::move(ledger).value();

  // The results store, opened before recovery so runs that crashed show as interrupted there.
  auto location = store::resolve_location(options_.store, options_.state_dir);
  Result<std::unique_ptr<store::Store>> opened =
      location ? store::Store::open(*location) : Result<std::unique_ptr<store::Store>>(Error{location.error()});
  if (opened) store_ = std::move(opened).value();

  // Leftovers of runs that crashed are put back before we touch anything, store or not: a run
  // that cannot record still leaves the system as earlier runs should have.
  std::ostringstream recovery_log;
  RecoveryReport recovered = recover(*ledger_, store_.get(), recovery_log);
  if (!store_) {
    out_ << recovery_log.str();
    return Error{opened.error()};
  }

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

  // The recorder right after the journal: both number the same events in the same order.
  recorder_ = std::make_unique<RunRecorder>(*store_, run_id_, read_text(experiment_.source_path));
  bus_.subscribe([this](const Event& e) { journal_->write(e); });
  bus_.subscribe([this](const Event& e) { recorder_->on_event(e); });
  bus_.subscribe([this](const Event& e) { fold_.add(e); });
  bus_.subscribe([this](const Event& e) {
    if (auto trip = monitor_.on_event(e)) handle_trip(*trip);
  });
  Duration total{0};
  for (const auto& p : experiment_.phases) total += p.duration;
  live_ = std::make_unique<LiveView>(out_, options_.live_status, total, bus_.start());
  bus_.subscribe([this](const Event& e) { live_->on_event(e); });

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
              .with("logs", log_dir_)
              .with("checks", checks_anything(experiment_))
              .with("pid", static_cast<std::int64_t>(::getpid())));
  if (recovered.runs_recovered > 0 || recovered.entries_reverted > 0 || recovered.entries_failed > 0) {
    publish(Event("recovery.done")
                .with("reverted", recovered.entries_reverted)
                .with("failed", recovered.entries_failed)
                .with("log", recovery_log.str()));
  }
  return ok_status();
}

// After the ledger, before any target starts: the run lease, then each agent's setup.
Status Run::start_fleet() {
  if (!needs_agents(experiment_)) return ok_status();
  const std::uint64_t seed = std::random_device{}() * 0x100000000ULL + std::random_device{}();
  auto fleet = FleetRun::start(experiment_, options_.fleet, run_id_, seed, bus_, halt_);
  if (!fleet) return fleet.failure();
  fleet_ = std::move(fleet).value();
  faults_->set_make_elsewhere([this](const spec::Fault& f, const std::string& phase, int index, Duration length) {
    return fleet_->make_fault(f, phase, index, length);
  });
  // A load with generators runs on agents, through this run's session (fleet/distributed_load.h).
  activities_.set_on_agents([this](const ActivityConfig& config, const ActivityContext& context) {
    const auto* load = dynamic_cast<const load::LoadSpec*>(&config);
    return load ? fleet::make_distributed_load(fleet_->session(), *load, context) : nullptr;
  });
  return ok_status();
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

void Run::observe_probe(const spec::Probe& p, const probes::ProbeResult& o) {
  std::string phase;
  {
    std::lock_guard lock(phase_mutex_);
    phase = current_phase_;
  }
  publish(probe_event(p, o, "during", phase));  // the monitor judges it (guardrails) as it goes by
}

void Run::handle_trip(const GuardrailTrip& trip) {
  bool first = false;
  {
    std::lock_guard lock(trip_mutex_);
    if (!trip_) trip_ = trip, first = true;
  }
  if (first) {
    Event e("guardrail.tripped");
    e.with("guardrail", trip.guardrail);
    if (!trip.load.empty()) e.with("load", trip.load);
    else e.with("probe", trip.probe);
    publish(std::move(e).with("metric", trip.metric).with("message", trip.message).with("measured", trip.measured));
  }
  halt_.trigger("guardrail '" + trip.guardrail + "' tripped: " + trip.message);
}

void Run::play_phase(const spec::Phase& phase, std::size_t index) {
  {
    std::lock_guard lock(phase_mutex_);
    current_phase_ = phase.name;
  }
  publish(Event("phase.started")
              .with("phase", phase.name)
              .with("index", static_cast<std::int64_t>(index))
              .with("duration", format_duration(phase.duration)));
  const auto phase_start = Clock::now();
  activities_.start(phase, placement_ ? placement_->target_pids() : std::map<std::string, std::int64_t>{});
  faults_->play(phase, phase_start);
  auto end = phase_start + phase.duration;
  if (!halt_.triggered() && Clock::now() < end) halt_.wait_for(end - Clock::now());
  if (!halt_.triggered()) faults_->note_slip(phase.name, "end of phase", end);
  note_halt();
  // Faults of this phase end with it, newest first. After a halt they are left to
  // revert_all_active(), so the halt is on the timeline before the reverts.
  if (!halt_.triggered()) {
    activities_.finish();
    faults_->revert_phase();
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
  placement_ = std::make_unique<Placement>(local_, *ledger_, run_id_, log_dir_, bus_, halt_);
  // Where a fault keeps what it must put back (the corrupt fault's copy of a file), beside the ledger.
  for (const auto& t : local_.targets) {
    if (auto* h = handle(t.name)) h->state_dir = options_.state_dir;
  }
  faults_ = std::make_unique<FaultTimeline>(
      *ledger_, run_id_, bus_, halt_, [this](const std::string& name) { return handle(name); },
      [this](const std::string& message) { fail(message); });

  // Before anything is placed: a second run on the same process or address refuses here, having
  // changed nothing, so it runs no rollbacks either.
  bool setup_ok = false;
  const Status fleet_started = start_fleet();
  const Status claimed = fleet_started ? placement_->claim(experiment_.name) : fleet_started;
  if (!claimed) {
    fail(claimed.error());
  } else {
    if (auto s = placement_->place_proxies(); !s) fail(s.error());
    else if (auto t = placement_->start_targets(); !t) fail(t.error());
    else setup_ok = true;
    // After the targets are placed, before any fault.
    for (const std::string& error : placement_->record_rollbacks()) fail(error);
  }

  bool before_held = true;
  if (setup_ok && !halt_.triggered()) {
    const Status before = check_steady_state("before");
    before_held = before.ok();
    publish(Event("steady_state.result")
                .with("stage", "before")
                .with("held", before_held)
                .with("message", before ? std::string() : before.error() + "; no fault was injected"));
    if (before_held) {
      probes_ = std::make_unique<ProbeSchedule>(
          experiment_.steady_state.probes, halt_,
          [this](const spec::Probe& p, const probes::ProbeResult& o) { observe_probe(p, o); });
      play_phases();
    }
  }
  const bool halted = halt_.triggered();
  note_halt();
  // Faults first, at once: probes still in flight must not delay the return to the original state.
  const auto revert_start = Clock::now();
  faults_->revert_all_active();
  const Duration revert_took = Clock::now() - revert_start;
  activities_.finish();
  if (probes_) probes_->stop();
  if (claimed) placement_->run_rollbacks();

  // The operator's stop means "put it back and go"; a guardrail abort still checks recovery.
  const bool operator_stop = halted && !trip_ && errors_.empty();
  if (setup_ok && before_held && !operator_stop && !experiment_.steady_state.probes.empty()) {
    HaltSwitch paced;  // only its timed wait; the operator's halt has been handled above
    Recheck after = recheck([this] { return check_steady_state("after"); }, experiment_.steady_state.after_within, 1s,
                            [&](Duration d) { paced.wait_for(d); });
    Event e("steady_state.result");
    e.with("stage", "after").with("held", after.last.ok()).with("attempts", after.attempts);
    if (!after.last) e.with("message", after.last.error());
    if (after.last && after.time_to_recover) e.with("time_to_recover_ms", rounded_ms(*after.time_to_recover));
    publish(std::move(e));
  }
  if (fleet_) {
    // Each agent reverts what is still on there and stops its targets; one that cannot is named in
    // an agent.teardown event, which makes the verdict not_restored.
    (void)fleet_->teardown();
    fleet_->close();
  }
  placement_->stop();
  for (const ToleranceResult& t : monitor_.tolerances()) {
    publish(Event("tolerance.result").with("probe", t.probe).with("held", t.held).with("message", t.message));
  }

  // Everything the verdict rests on is on the stream now: `chaosplus report` gets the same from the journal.
  const RunSummary summary = fold_.summary();
  result.verdict = summary.decided.verdict;
  result.reasons = summary.decided.reasons;
  Event verdict("run.verdict");
  verdict.with("verdict", to_string(result.verdict))
      .with("exit_code", exit_code(result.verdict))
      .with("faults_injected", summary.faults_injected)
      .with("faults_reverted", summary.faults_reverted)
      .with("faults_revert_failed", summary.faults_revert_failed)
      .with("revert_ms", rounded_ms(revert_took));
  if (summary.time_to_recover_ms) {
    verdict.with("time_to_recover_ms", *summary.time_to_recover_ms).with("after_attempts", summary.after_attempts);
  }
  std::string reasons;
  for (const auto& r : result.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
  verdict.with("reasons", reasons);
  publish(std::move(verdict));
  live_->stop();
  journal_->sync();
  recorder_->close();
  (void)ledger_->end_run(run_id_, to_string(result.verdict));
  print_summary(out_, summary);
  if (auto failure = recorder_->failure()) {
    out_ << "warning: the results store stopped recording this run: " << *failure << "; the journal "
         << journal_->path() << " is its complete record (`chaosplus recover` replays it into the store)\n";
  }
  return result;
}

}  // namespace

RunResult run_experiment(const spec::Experiment& experiment, const RunOptions& options, HaltSwitch& halt,
                         std::ostream& out) {
  Run run(experiment, options, halt, out);
  return run.execute();
}

}  // namespace chaosplus::runner
