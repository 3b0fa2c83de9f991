#pragma once
// What a target the run starts needs at its launch so that a fault can later change what only it
// sees: the I/O faults need it in a mount namespace of its own (their FUSE file system is mounted
// there), the clock faults need libfaketime preloaded and a file of the run's to steer it, the DNS
// faults need its names resolved by the run's resolver. Each fault family fills this in through
// FaultFamily::prepare_launch (faults/registry.h); the runner starts the target (and starts it
// again after a kill or restart) with the sum of them (runner/placement.h).
#include <string>

#include "core/result.h"
#include "spec/experiment.h"
#include "targets/launch.h"

namespace chaosplus::faults {

struct LaunchPrep {
  std::string target;        // the target's name
  std::string state_dir;     // the run's state folder (beside the ledger): what a fault keeps for the target
  std::string run_id;        // the run's id, for names that must not meet another run's
  targets::Sandbox sandbox;  // what the families ask for, summed
  // Its names must go to the run's resolver (a dns fault): the runner starts the resolver and binds
  // a resolv.conf naming it over /etc/resolv.conf in the target's own mount namespace.
  bool wants_resolver = false;
};

// Asks the family of every fault of `experiment` on `prep.target` (in the experiment's order).
Status prepare_launch(const spec::Experiment& experiment, LaunchPrep& prep);

}  // namespace chaosplus::faults
