#include "core/event_kinds.h"

#include <algorithm>
#include <array>

namespace chaosplus {
namespace {

constexpr std::array kKinds{
    EventKind{"run.started", "first: which run, which file, which build, where and how it was called"},
    EventKind{"recovery.done", "leftovers of earlier runs found in the ledger were undone"},
    EventKind{"agents.session", "the run opened its session with etcd: the run lease agents watch (docs/agents.md)"},
    EventKind{"agents.selected", "the agents a target on agents (on:) runs on were chosen"},
    EventKind{"agent.setup", "an agent set up its part of the run (started or attached its targets) or could not"},
    EventKind{"agent.teardown", "an agent reverted what was still on and stopped its targets, or could not"},
    EventKind{"proxy.placed", "a fault proxy was placed in front of a target"},
    EventKind{"resolver.placed", "the run's resolver was started for its started targets' names"},
    EventKind{"target.started", "a target process was started"},
    EventKind{"target.attached", "a running target process was found and claimed"},
    EventKind{"target.ready", "a started target passed its ready check"},
    EventKind{"probe.result", "one probe run: before, during or after the phases"},
    EventKind{"steady_state.result", "the steady state before or after the phases held or not"},
    EventKind{"phase.started", "a phase began"},
    EventKind{"phase.ended", "a phase ended"},
    EventKind{"fault.injected", "a fault is on (its ledger entry was written before)"},
    EventKind{"fault.failed", "a fault could not be put on"},
    EventKind{"fault.reverted", "a fault is off, or its revert failed"},
    EventKind{"fault.skipped", "a fault's end had passed before it could be injected"},
    EventKind{"timeline.slipped", "the runner acted later than the margin after a due time"},
    EventKind{"extension.event", "an extension wrote an event line while it acted (docs/extensions.md)"},
    EventKind{"load.started", "a phase's load began"},
    EventKind{"load.tick", "one second of a load, once its requests are resolved"},
    EventKind{"load.summary", "a load ended: its figures"},
    EventKind{"fuzz.started", "a fuzz activity began"},
    EventKind{"fuzz.finding", "the fuzzer found a new problem (deduplicated): the finding and its reproducer"},
    EventKind{"fuzz.summary", "a fuzz activity ended: its figures"},
    EventKind{"security.started", "a security scan began"},
    EventKind{"security.finding",
              "a security probe found a new problem (deduplicated): the finding and its reproducer"},
    EventKind{"security.summary", "a security scan ended: its figures"},
    EventKind{"writes.started", "a write workload began (docs/databases.md)"},
    EventKind{"writes.summary", "a write workload ended: lost and unexpected writes, RTO, promotion, RPO, split brain"},
    EventKind{"threshold.result", "an activity's threshold, judged when it finished"},
    EventKind{"guardrail.tripped", "a guardrail's condition held: the run halts"},
    EventKind{"run.halted", "the run stops early (guardrail, signal, chaosplus halt, error)"},
    EventKind{"run.error", "something the runner could not do"},
    EventKind{"placement.removed", "a process the run started was stopped at its end"},
    EventKind{"rollback.done", "a rollback ran"},
    EventKind{"tolerance.result", "a continuous probe's tolerance, judged over the phases"},
    EventKind{"fault.expired", "an agent reverted a fault on its own: its maximum duration passed (docs/agents.md)"},
    EventKind{"agent.reverted",
              "an agent reverted a fault without a revert command: at teardown, run lease lost, agent stopped"},
    EventKind{"agent.run_lost", "an agent gave up its part of a run on its own (run lease lost, agent stopped)"},
    EventKind{"run.verdict", "last: the verdict, its reasons and the run's figures"},
};

}  // namespace

std::span<const EventKind> event_kinds() { return kKinds; }

bool is_declared_event(std::string_view type) {
  return std::any_of(kKinds.begin(), kKinds.end(), [type](const EventKind& k) { return k.type == type; });
}

}  // namespace chaosplus
