#pragma once
// Where etcd is, for the commands that reach agents (run, validate, agents; docs/agents.md): the
// --etcd flag (URL[,URL]), else $CHAOSPLUS_ETCD, else `etcd:` of the config file, which also gives
// TLS files, the user and the password file, and the run lease's TTL.
#include <iosfwd>
#include <string>
#include <vector>

#include "core/result.h"
#include "runner/fleet_run.h"
#include "spec/experiment.h"

namespace CLI {
class App;
}

namespace chaosplus::cli {

struct EtcdFlags {
  std::string etcd;         // --etcd
  std::string lease_ttl;    // --lease-ttl (run)
  std::string fault_grace;  // --fault-grace (run)
};

void add_etcd_option(CLI::App& command, EtcdFlags& flags);
// --lease-ttl and --fault-grace as well.
void add_run_fleet_options(CLI::App& command, EtcdFlags& flags);

// The settings; no endpoints when none is configured anywhere. Errors: the config file (file:line),
// a URL that is not http(s)://, a password file that cannot be read, a bad duration.
Result<runner::FleetOptions> resolve_fleet_options(const EtcdFlags& flags);

// When etcd is configured: the registered agents' addresses join the allow-list, so an experiment
// may name them (its probes reach a target on an agent there). An etcd that does not answer is a
// warning on `err`: only a run with targets on agents needs it, and it says so itself.
void allow_registered_agents(const runner::FleetOptions& options, std::ostream& err);

// For validate with etcd: "file:line:column: target 'db': ..." for each `on:` that no registered
// agent matches (or for etcd not answering).
std::vector<std::string> check_selectors(const spec::Experiment& experiment, const runner::FleetOptions& options);

// For a run: an experiment with targets on agents and no etcd is an error, said before anything starts.
Status check_fleet_needs(const spec::Experiment& experiment, const runner::FleetOptions& options);

}  // namespace chaosplus::cli
