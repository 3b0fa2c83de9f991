#pragma once
// What a run places on the system besides its faults: the claims on its targets, the fault proxy
// server (its API address comes back through a FIFO, not its log), the target processes it starts,
// its rollbacks, and their stop at the end, newest first. Every process and every rollback is
// recorded in the ledger before it runs.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <map>
#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "core/result.h"
#include "faults/target_handle.h"

#include "runner/ledger.h"
#include "spec/experiment.h"
#include "targets/claims.h"
#include "targets/process.h"

namespace chaosplus::runner {

class Placement {
 public:
  // One handle per target of the experiment; their logs go to `log_dir`.
  Placement(const spec::Experiment& experiment, Ledger& ledger, std::string run_id, std::string log_dir, EventBus& bus,
            HaltSwitch& halt);

  faults::TargetHandle* handle(const std::string& name);
  // The process of each target that has one now (started or attached), by target name.
  std::map<std::string, std::int64_t> target_pids() const;
  std::string log_path_for(const std::string& what) const { return log_dir_ + "/" + what + ".log"; }

  // Before anything is placed: a second run on the same process or address refuses here.
  Status claim(const std::string& experiment_name);
  Status place_proxies();
  // Starts the targets the experiment starts, each set apart as its faults need (faults/launch_prep.h).
  Status start_targets();
  // Each rollback's ledger entry, written when the run starts (after its targets are placed, before
  // any fault): a crash from there on leaves them to recover (faults/rollback.h). Returns an error
  // for each that could not be written; the others are still recorded.
  std::vector<std::string> record_rollbacks();
  // Runs the rollbacks in the experiment's order; each is a rollback.done event.
  void run_rollbacks();
  // Stops what was started, newest first; each stop is a placement.removed event.
  void stop();

  // Starts a process recorded in the ledger before it runs (targets/gated_child.h).
  Result<targets::ProcessId> start_recorded(const std::string& what, const spec::ProcessLaunch& launch,
                                            const std::string& log, const targets::Sandbox& sandbox = {});

 private:
  Result<std::string> start_proxy_server();  // returns its API address, "host:port"
  struct Told {
    targets::ProcessId id;
    std::string address;
  };
  Result<Told> start_telling(const std::string& what, spec::ProcessLaunch launch, const std::string& fifo_name);
  // The run's resolver (runner/resolver_placement.cpp), started at the first target that needs it.
  struct Resolver {
    std::string rules;        // its rules file (dns/rules.h)
    std::string resolv_conf;  // the resolv.conf naming it, bound over /etc/resolv.conf in the targets
  };
  Result<Resolver> ensure_resolver(const std::string& state_dir);
  std::optional<Resolver> resolver_;

  const spec::Experiment& experiment_;
  Ledger& ledger_;
  const std::string run_id_;
  const std::string log_dir_;
  EventBus& bus_;
  HaltSwitch& halt_;
  std::vector<std::unique_ptr<faults::TargetHandle>> handles_;
  std::optional<targets::ProcessId> proxy_server_;
  std::string proxy_token_;  // the bearer token of this run's proxy API
  // Ledger entries of processes we started, in start order; stopped in reverse.
  struct Started {
    std::int64_t ledger_id;
    std::string what;
    std::string record;
  };
  std::vector<Started> started_;
  std::vector<std::int64_t> rollback_entries_;  // ledger entry of each rollback (0: not recorded)
  // Claims on attached processes and addresses, held for the whole run.
  std::vector<std::unique_ptr<targets::Claim>> claims_;
};

}  // namespace chaosplus::runner
