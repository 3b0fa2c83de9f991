#pragma once
// What the runner knows about a target while a run is on: its spec, the process that currently
// embodies it (a kill + restart changes it), where its output goes, and the proxy in front of it.
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "core/event.h"
#include "spec/experiment.h"
#include "targets/launch.h"
#include "targets/patroni_target.h"
#include "targets/process.h"

namespace chaosplus::faults {

class TargetHandle {
 public:
  TargetHandle(spec::Target spec, std::string log_path) : spec_(std::move(spec)), log_path_(std::move(log_path)) {}

  const spec::Target& spec() const { return spec_; }
  const std::string& name() const { return spec_.name; }
  const std::string& log_path() const { return log_path_; }

  std::optional<targets::ProcessId> process() const {
    std::lock_guard lock(mutex_);
    return process_;
  }
  void set_process(std::optional<targets::ProcessId> id) {
    std::lock_guard lock(mutex_);
    process_ = id;
  }

  // A `patroni` target: the member the latest fault was built on (faults/fault.cpp resolves it
  // then), and the attach rule that finds its process again (listening on its address). The
  // target's process becomes the member's postmaster or Patroni.
  std::optional<targets::PatroniMember> member() const {
    std::lock_guard lock(mutex_);
    return member_;
  }
  void set_member(targets::PatroniMember member, spec::ProcessAttach rule, std::optional<targets::ProcessId> id) {
    std::lock_guard lock(mutex_);
    member_ = std::move(member);
    member_attach_ = std::move(rule);
    process_ = id;
  }
  // How the target's process is found again: the member's rule, else the spec's `attach`.
  std::optional<spec::ProcessAttach> attach() const {
    std::lock_guard lock(mutex_);
    return member_attach_ ? member_attach_ : spec_.attach;
  }

  // Set by the runner before any fault runs; read-only afterwards.
  // Base URL of the proxy server's API ("http://127.0.0.1:PORT") when the target has a proxy,
  // and that server's process (a toxic needs no undo once it is gone).
  std::string proxy_api;
  std::string proxy_token;  // its bearer token ("" when it needs none)
  std::optional<targets::ProcessId> proxy_server;
  // Starts the target's own process again (a kill's revert, a restart), recorded in the ledger before
  // it runs: set by the runner. Without it the process is started unrecorded.
  std::function<Result<targets::ProcessId>(const spec::ProcessLaunch&)> start_recorded;
  // How the target is started set apart for its faults (faults/launch_prep.h): set by the runner
  // before it starts the target, and used again when a fault's revert starts it anew.
  targets::Sandbox sandbox;
  // The run's state folder (where the ledger is): a fault keeps there what it must put back, such
  // as the corrupt fault's copy of a file. Set by the runner; "" outside a run.
  std::string state_dir;
  // The rules file of the run's resolver when the target resolves names through it (dns/rules.h);
  // "" when it does not. Set by the runner before it starts the target.
  std::string resolver_rules;
  // Publishes on the run's event stream what a fault learns while it acts (an extension's events);
  // set by the runner, may be empty.
  std::function<void(Event)> publish;

 private:
  spec::Target spec_;
  std::string log_path_;
  mutable std::mutex mutex_;
  std::optional<targets::ProcessId> process_;
  std::optional<targets::PatroniMember> member_;
  std::optional<spec::ProcessAttach> member_attach_;
};

}  // namespace chaosplus::faults
