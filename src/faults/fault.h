#pragma once
// A fault is a handle that can put its change on the system and take it off again. The runner
// writes record() to the ledger before inject(); revert() is idempotent and checks the original
// state came back. undo() (faults/undo.h) reverts the same change from the record alone.
#include <functional>
#include <memory>
#include <string>

#include "core/halt_switch.h"
#include "core/result.h"
#include "spec/experiment.h"

namespace chaosplus::faults {

class TargetHandle;

class Fault {
 public:
  virtual ~Fault() = default;
  virtual std::string kind() const = 0;     // ledger kind, e.g. "process.paused"
  virtual std::string summary() const = 0;  // for people: "pause tokens (pid 4242)"
  virtual std::string record() const = 0;   // JSON for the ledger
  virtual Status inject(HaltSwitch& halt) = 0;
  virtual Status revert(HaltSwitch& halt) = 0;

  // Set by the runner before inject(): a fault whose record changes while it acts (the identity of
  // a system tool it starts, written before the tool runs) hands the new record() to it.
  void set_record_sink(std::function<Status(const std::string&)> sink) { sink_ = std::move(sink); }

 protected:
  Status record_changed() const { return sink_ ? sink_(record()) : ok_status(); }

 private:
  std::function<Status(const std::string&)> sink_;
};

// Builds the fault a spec describes, acting on `target`. The spec has been validated, so errors
// here are about the target's state (e.g. no running process to pause).
Result<std::unique_ptr<Fault>> make_fault(const spec::Fault& fault, TargetHandle& target);

}  // namespace chaosplus::faults
