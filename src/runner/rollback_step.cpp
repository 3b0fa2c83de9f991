#include "runner/rollback_step.h"

#include "faults/process_faults.h"
#include "faults/rollback.h"
#include "targets/process.h"

namespace chaosplus::runner {

Status run_rollback(const spec::Rollback& rollback, faults::TargetHandle* target, Ledger& ledger, std::int64_t entry) {
  Status s = ok_status();
  if (rollback.command) {
    const std::string record = faults::rollback_record(rollback, nullptr);
    s = faults::run_rollback_command(*rollback.command, [&](const targets::ProcessId& run) -> Status {
      if (entry == 0) return ok_status();
      if (auto u = ledger.update_record(entry, faults::rollback_record_running(record, run)); !u) return u;
      return ledger.set_state(entry, EntryState::active);
    });
  } else if (target != nullptr) {
    if (auto current = target->process()) (void)targets::stop(*current);
    target->set_process(std::nullopt);
    HaltSwitch fresh;  // a rollback runs even when the run was halted
    s = faults::start_again(*target, fresh);
  }
  if (entry != 0) {
    (void)ledger.set_state(entry, s ? EntryState::reverted : EntryState::revert_failed, s ? "" : s.error());
  }
  return s;
}

}  // namespace chaosplus::runner
