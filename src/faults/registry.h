#pragma once
// The fault registry: every fault family (process, proxy, nftables, tbf, ...) is defined in one
// source file under faults/ that gives its fault types (names, typed parameters, the capability
// they need: spec/fault_catalog.h), the factory that builds a Fault from a loaded spec::Fault, the
// ledger kinds its faults write and the undo that reverts one of them from its record alone.
// faults/registry.cpp lists the families; everything else (the loader, `validate`, `recover`,
// the JSON Schema, the parameter tables of docs/faults.md) reads them from here.
#include <memory>
#include <span>
#include <string_view>

#include "core/result.h"
#include "faults/fault.h"
#include "faults/launch_prep.h"
#include "spec/fault_catalog.h"

namespace chaosplus::faults {

struct FaultFamily {
  std::string_view name;                           // "process", "proxy", ...: for messages
  std::span<const spec::FaultType> types;          // in documentation order
  std::span<const std::string_view> ledger_kinds;  // what its faults' kind() returns
  // Builds a fault of one of `types`; the spec was validated against the type.
  Result<std::unique_ptr<Fault>> (*make)(const spec::Fault& fault, TargetHandle& target) = nullptr;
  // Undoes a ledger entry of one of `ledger_kinds` from its record (JSON) alone: ok when the
  // original state is back or there was nothing left to undo.
  Status (*undo)(std::string_view kind, std::string_view record) = nullptr;
  // For a fault of one of `types` on a target the run starts: what the target needs when it is
  // started (and started again) for the fault to act on it later (faults/launch_prep.h). nullptr =
  // nothing. Called once per fault before the targets start; an error stops the run's setup.
  Status (*prepare_launch)(const spec::Fault& fault, LaunchPrep& prep) = nullptr;
  // After recover undid a crashed run: removes the files of the run's that a kill left half-written
  // in the state folder, which no ledger entry names (the clock's new setting, written beside its
  // file and renamed over it). nullptr = it leaves none.
  void (*sweep_run)(const std::string& state_dir, std::string_view run_id) = nullptr;
};

// The families, in documentation order.
std::span<const FaultFamily> fault_families();
// nullptr when no family has it.
const FaultFamily* family_of_type(std::string_view fault_type);
const FaultFamily* family_of_kind(std::string_view ledger_kind);

// Registers the fault types of every family with the spec catalog (spec::register_fault_types),
// once; later calls do nothing. The chaosplus program and every test program call it at start-up.
void register_builtin_faults();

}  // namespace chaosplus::faults
