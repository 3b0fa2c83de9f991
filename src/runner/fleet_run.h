#pragma once
// The part of a run that reaches agents (docs/agents.md): when the experiment has targets `on:`
// agents (or loads from several generators), the run opens a fleet::Session (the run lease and its
// dead-man key) after its ledger and before any target starts, picks the agents of each target
// (their addresses join the allow-list), sends each its `setup`, builds the faults on those targets
// as remote faults, and at the end tears every agent down before the verdict's restore check.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "core/result.h"
#include "faults/fault.h"
#include "fleet/session.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

struct FleetOptions {
  etcd::Options etcd;              // no endpoints: no etcd configured
  std::string etcd_password_file;  // where etcd.password came from, for `recover` in a later process
  Duration lease_ttl = std::chrono::seconds(5);
  Duration fault_grace = std::chrono::seconds(30);  // added to a fault's planned length: the agent's max
  Duration setup_timeout = std::chrono::seconds(60);
  Duration command_timeout = std::chrono::seconds(30);
  std::map<std::string, std::string> vars;  // --var values, sent with the experiment
};

// Whether the experiment needs agents: a target `on:` agents, or an activity that runs on agents
// (a load with generators).
bool needs_agents(const spec::Experiment& experiment);
// The experiment without its targets on agents: what this host places itself.
spec::Experiment local_part(const spec::Experiment& experiment);

class FleetRun {
 public:
  // Opens the session, selects the agents of every target `on:` agents (seeded by `seed`, which
  // the agents.selected events record), adds their addresses to the allow-list and sets each up.
  static Result<std::unique_ptr<FleetRun>> start(const spec::Experiment& experiment, const FleetOptions& options,
                                                 const std::string& run_id, std::uint64_t seed, EventBus& bus,
                                                 HaltSwitch& halt);
  ~FleetRun();

  fleet::Session& session() { return *session_; }
  // The fault for `fault` when its target is on agents; nullptr when it is on this host.
  std::unique_ptr<faults::Fault> make_fault(const spec::Fault& fault, const std::string& phase, int index,
                                            Duration planned_length);
  // Tears every agent down (each reverts what is still on and stops its targets); one message per
  // agent that could not, naming it.
  std::vector<std::string> teardown();
  // Ends the run on etcd (fleet::Session::close).
  void close();

 private:
  FleetRun(const FleetOptions& options, EventBus& bus, std::unique_ptr<fleet::Session> session);
  Status setup_agents(const spec::Experiment& experiment, std::uint64_t seed);

  const FleetOptions& options_;
  EventBus& bus_;
  std::unique_ptr<fleet::Session> session_;
  std::map<std::string, std::vector<std::string>> agents_of_target_;
  std::vector<std::string> agents_;  // every agent set up, in setup order
  int next_fault_ = 1;
  bool torn_down_ = false;
};

}  // namespace chaosplus::runner
