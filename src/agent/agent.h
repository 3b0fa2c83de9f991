#pragma once
// `chaosplus agent`: the daemon on each host (docs/agents.md). It registers itself in etcd under a
// lease of its own with its labels, watches the work addressed to it, and carries out each run's
// commands with the runner's own code (agent/agent_run.h), keeping its own ledger. Outbound
// connections only: it listens on nothing.
#include <iosfwd>
#include <map>
#include <string>

#include "core/halt_switch.h"
#include "core/result.h"
#include "core/units.h"
#include "etcd/client.h"

namespace chaosplus::agent {

struct AgentOptions {
  std::string name;                           // unique in the fleet; "" = the host name
  std::map<std::string, std::string> labels;  // role=db, zone=a
  etcd::Options etcd;
  std::string state_dir;                             // its ledger (ledger.db) and runs/<run>/ (logs, journal)
  Duration ttl = std::chrono::seconds(5);            // of its registration lease
  Duration connect_retry = std::chrono::seconds(1);  // between attempts to reach etcd
};

// Runs the agent until `stop` is pressed: first reverts what a previous agent process left open in
// the ledger, then connects (retrying until etcd answers), registers and works. On stop it reverts
// everything it holds, deregisters and returns ok. An error when it cannot start: a bad name, or a
// ledger that cannot be opened or trusted.
Status run_agent(AgentOptions options, HaltSwitch& stop, std::ostream& log);

}  // namespace chaosplus::agent
