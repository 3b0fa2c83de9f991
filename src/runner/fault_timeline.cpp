#include "runner/fault_timeline.h"

#include <algorithm>

#include "runner/revert_plan.h"
#include "runner/verdict_fold.h"

namespace chaosplus::runner {

// A fault on the timeline: when it starts and stops within its phase, and, once injected, its
// handle and ledger entry.
struct FaultTimeline::Planned {
  const spec::Fault* spec = nullptr;
  Duration start{0};
  Duration end{0};
  int index = 0;  // among its phase's faults
  std::unique_ptr<faults::Fault> fault;
  std::int64_t ledger_id = 0;
  std::string summary;
  bool active = false;
};

FaultTimeline::FaultTimeline(Ledger& ledger, std::string run_id, EventBus& bus, HaltSwitch& halt, FindTarget find,
                             Fail fail)
    : ledger_(ledger),
      run_id_(std::move(run_id)),
      bus_(bus),
      halt_(halt),
      find_(std::move(find)),
      fail_(std::move(fail)) {}

FaultTimeline::~FaultTimeline() = default;

void FaultTimeline::note_slip(const std::string& phase, const std::string& where, Clock::time_point due) {
  if (auto slip = slips_.check(phase, where, due, Clock::now())) {
    bus_.publish(
        Event("timeline.slipped").with("phase", phase).with("where", where).with("late_ms", rounded_ms(slip->late)));
  }
}

void FaultTimeline::play(const spec::Phase& phase, Clock::time_point phase_start) {
  phase_.clear();
  for (const spec::Fault& f : phase.faults) {
    auto planned = std::make_unique<Planned>();
    planned->spec = &f;
    planned->index = static_cast<int>(phase_.size());
    planned->start = f.at;
    planned->end = f.length ? std::min(phase.duration, f.at + *f.length) : phase.duration;
    phase_.push_back(planned.get());
    all_.push_back(std::move(planned));
  }
  // Actions in time order; at equal times reverts go first, so a fault ending as another starts
  // does not overlap it.
  struct Action {
    Duration at;
    bool is_revert;
    Planned* fault;
  };
  std::vector<Action> actions;
  for (Planned* f : phase_) {
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
      bus_.publish(Event("fault.skipped")
                       .with("fault", a.fault->spec->type)
                       .with("target", a.fault->spec->target)
                       .with("phase", phase.name)
                       .with("reason", "its end had passed before it could be injected"));
    } else if (!inject(*a.fault, phase.name)) {
      break;
    }
  }
}

void FaultTimeline::revert_phase() { revert_together({phase_.rbegin(), phase_.rend()}); }

void FaultTimeline::revert_all_active() { revert_together({injected_order_.rbegin(), injected_order_.rend()}); }

bool FaultTimeline::inject(Planned& f, const std::string& phase) {
  if (elsewhere_) f.fault = elsewhere_(*f.spec, phase, f.index, f.end - f.start);
  if (!f.fault) {
    faults::TargetHandle* target = find_(f.spec->target);
    if (target == nullptr) {
      fail_("fault '" + f.spec->type + "' names unknown target '" + f.spec->target + "'");
      return false;
    }
    auto fault = faults::make_fault(*f.spec, *target);
    if (!fault) {
      fail_(fault.error());
      return false;
    }
    f.fault = std::move(fault).value();
  }
  f.summary = f.fault->summary();
  // Written and synced before the system is touched: a crash from here on is undone by recover.
  auto entry = ledger_.record(run_id_, f.fault->kind(), f.fault->record());
  if (!entry) {
    fail_("cannot write the ledger, fault not injected: " + entry.error());
    return false;
  }
  f.ledger_id = *entry;
  // A system tool the fault starts is added to its entry before it runs (undo stops it first).
  f.fault->set_record_sink(
      [this, id = *entry](const std::string& record) { return ledger_.update_record(id, record); });
  Status s = f.fault->inject(halt_);
  if (!s) {
    bus_.publish(Event("fault.failed").with("summary", f.summary).with("phase", phase).with("error", s.error()));
    // It may have half-happened: undo what it can, then stop the run.
    Status undone = f.fault->revert(halt_);
    (void)ledger_.set_state(f.ledger_id, undone ? EntryState::reverted : EntryState::revert_failed,
                            undone ? "" : undone.error());
    fail_("fault could not be injected: " + f.summary + ": " + s.error());
    return false;
  }
  (void)ledger_.set_state(f.ledger_id, EntryState::active);
  f.active = true;
  injected_order_.push_back(&f);
  bus_.publish(Event("fault.injected")
                   .with("fault", f.spec->type)
                   .with("target", f.spec->target)
                   .with("summary", f.summary)
                   .with("phase", phase)
                   .with("ledger_id", f.ledger_id));
  return true;
}

void FaultTimeline::revert(Planned& f) {
  if (!f.active) return;
  const auto started = Clock::now();
  // A revert is what a halt asks for, so the halt must not cut it short.
  HaltSwitch uninterrupted;
  Status s = f.fault->revert(uninterrupted);
  f.active = false;
  std::erase(injected_order_, &f);
  (void)ledger_.set_state(f.ledger_id, s ? EntryState::reverted : EntryState::revert_failed, s ? "" : s.error());
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
  if (!s) e.with("error", s.error());
  bus_.publish(std::move(e));
}

void FaultTimeline::revert_together(const std::vector<Planned*>& newest_first) {
  std::vector<PendingRevert> plan;
  for (Planned* f : newest_first) {
    if (!f->active) continue;
    plan.push_back({f->fault->brings_back(), [f] { return f->fault->back(); }, f->fault->return_grace(),
                    [this, f] { revert(*f); }});
  }
  HaltSwitch uninterrupted;  // the halt asked for these reverts: it does not cut the wait short
  revert_in_order(std::move(plan), [&](Duration d) { uninterrupted.wait_for(d); });
}

}  // namespace chaosplus::runner
