#pragma once
// A fault on a target that agents hold (`on:` in the experiment, docs/agents.md): inject and revert
// are commands to those agents (every one of them, when the target is on several), which run the
// fault through their own fault registry and ledger. Its ledger kind is "agent.fault"; its record
// names the run, the agents, the fault's id and the etcd cluster, so that a new process (`recover`,
// the next run) can find out from etcd whether the agents reverted it on their own once the run
// lease was gone (register_remote_fault_undo).
#include <memory>
#include <string>
#include <vector>

#include "core/units.h"
#include "faults/fault.h"
#include "fleet/session.h"

namespace chaosplus::fleet {

inline constexpr std::string_view kRemoteFaultKind = "agent.fault";

// What is added to a fault's planned length (its `for:`, else the rest of its phase) for the maximum
// duration an agent lets it run before reverting it by itself: a slow controller's revert must not
// race the agent's own. `--fault-grace` of `chaosplus run` changes it.
inline constexpr Duration kMaxDurationGrace = std::chrono::seconds(30);

struct RemoteFaultPlan {
  std::vector<std::string> agents;  // every agent holding the target
  std::string fault_id;             // unique in the run
  std::string phase;
  int index = 0;            // among the phase's faults
  Duration max_duration{};  // planned length + grace
  Duration command_timeout = std::chrono::seconds(30);
  std::string password_file;  // for the record: how a later process logs in to etcd
};

std::unique_ptr<faults::Fault> make_remote_fault(Session& session, const spec::Fault& fault, RemoteFaultPlan plan);

// Lets faults::undo (and so `recover` and the start of every run) handle "agent.fault" entries: it
// connects to the etcd cluster of the record and waits, at most the run lease's TTL plus a grace, for
// every agent's FaultStatus to say reverted; an error names each agent where the fault is still on.
// Called once at start-up by the programs that recover (chaosplus).
void register_remote_fault_undo();

}  // namespace chaosplus::fleet
