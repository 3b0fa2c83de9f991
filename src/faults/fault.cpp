#include "faults/fault.h"

#include "faults/registry.h"
#include "faults/target_handle.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

// A `patroni` target is resolved as each fault is built, just before the runner writes the fault's
// ledger record: the member that holds the role now, and its process (postmaster or Patroni).
Status resolve_member(TargetHandle& target) {
  const spec::PatroniRole& patroni = *target.spec().patroni;
  auto member = targets::resolve_patroni(patroni);
  if (!member) return Error{"target '" + target.name() + "': " + member.error()};
  const bool postgres = patroni.process != "patroni";
  spec::ProcessAttach rule;
  spec::Endpoint listen;
  if (postgres) {
    listen = {member->host, member->port};
  } else {
    const auto colon = member->api.rfind(':');
    if (colon == std::string::npos)
      return Error{"target '" + target.name() + "': Patroni gives no REST API for " + member->name};
    listen = {member->api.substr(0, colon), std::stoi(member->api.substr(colon + 1))};
    // Patroni restarts a killed postmaster by itself; nothing restarts a killed Patroni but `restart`.
    rule.restart_command = targets::restart_for(patroni.restart, member->name);
  }
  rule.listen = listen;
  spec::ReadyCheck ready;
  ready.tcp = listen;
  ready.timeout = 60s;
  rule.ready = ready;
  const auto id = postgres ? member->postmaster : member->patroni;
  target.set_member(std::move(member).value(), std::move(rule), id);
  return ok_status();
}

}  // namespace

Result<std::unique_ptr<Fault>> make_fault(const spec::Fault& fault, TargetHandle& target) {
  const FaultFamily* family = family_of_type(fault.type);
  if (family == nullptr) return Error{"unknown fault type '" + fault.type + "'"};
  if (target.spec().patroni) {
    if (auto s = resolve_member(target); !s) return Error{s.error()};
  }
  return family->make(fault, target);
}

}  // namespace chaosplus::faults
