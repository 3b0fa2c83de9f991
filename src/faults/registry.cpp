#include "faults/registry.h"

#include <mutex>
#include <string>
#include <vector>

namespace chaosplus::faults {

// Each family's own source file defines its function; this list is the only place that names them.
// Adding a fault family: its file (see docs/extending.md), then one declaration and one list entry.
FaultFamily process_fault_family();    // faults/process_faults.cpp
FaultFamily proxy_fault_family();      // faults/proxy_faults.cpp
FaultFamily nft_fault_family();        // faults/nft_faults.cpp
FaultFamily bandwidth_limit_family();  // faults/tbf_fault.cpp
FaultFamily limit_fault_family();      // faults/limit_fault.cpp
FaultFamily extension_fault_family();  // faults/extension_fault.cpp
FaultFamily database_fault_family();   // faults/database_faults.cpp
FaultFamily data_fault_family();       // faults/data_faults.cpp
FaultFamily stress_fault_family();     // faults/stress_faults.cpp
FaultFamily file_fault_family();       // faults/file_faults.cpp
FaultFamily io_fault_family();         // faults/io_faults.cpp
FaultFamily account_fault_family();    // faults/account_fault.cpp
FaultFamily dns_fault_family();        // faults/dns_fault.cpp
FaultFamily clock_fault_family();      // faults/clock_fault.cpp

std::span<const FaultFamily> fault_families() {
  // clang-format off
  static const std::vector<FaultFamily> families{
      process_fault_family(),
      proxy_fault_family(),
      nft_fault_family(),
      bandwidth_limit_family(),
      limit_fault_family(),
      extension_fault_family(),
      database_fault_family(),
      data_fault_family(),
      stress_fault_family(),
      file_fault_family(),
      io_fault_family(),
      account_fault_family(),
      dns_fault_family(),
      clock_fault_family(),
  };
  // clang-format on
  return families;
}

const FaultFamily* family_of_type(std::string_view fault_type) {
  for (const auto& family : fault_families()) {
    for (const auto& type : family.types) {
      if (type.name == fault_type) return &family;
    }
  }
  return nullptr;
}

const FaultFamily* family_of_kind(std::string_view ledger_kind) {
  for (const auto& family : fault_families()) {
    for (auto kind : family.ledger_kinds) {
      if (kind == ledger_kind) return &family;
    }
  }
  return nullptr;
}

Status prepare_launch(const spec::Experiment& experiment, LaunchPrep& prep) {
  for (const spec::Phase& phase : experiment.phases) {
    for (const spec::Fault& fault : phase.faults) {
      if (fault.target != prep.target) continue;
      const FaultFamily* family = family_of_type(fault.type);
      if (family == nullptr || family->prepare_launch == nullptr) continue;
      if (auto s = family->prepare_launch(fault, prep); !s) {
        return Error{"fault '" + fault.type + "' (line " + std::to_string(fault.mark.line) + ") on target '" +
                     prep.target + "': " + s.error()};
      }
    }
  }
  return ok_status();
}

void register_builtin_faults() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (const auto& family : fault_families()) spec::register_fault_types(family.types);
  });
}

}  // namespace chaosplus::faults
