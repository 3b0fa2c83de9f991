#include "runner/halt_request.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/halt_switch.h"
#include "faults/undo.h"
#include "targets/process.h"

namespace chaosplus::runner {
namespace {

using Clock = std::chrono::steady_clock;

bool still_running(Ledger& ledger, const std::string& run_id) {
  auto runs = ledger.runs_with_status("running");
  if (!runs) return false;
  for (const auto& r : *runs) {
    if (r.run_id == run_id) return true;
  }
  return false;
}

// SIGTERM with kHaltSignalValue queued, through a pidfd checked against the ledger's start time:
// a reused pid is never signalled.
Status queue_halt(const targets::ProcessId& id) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, id.pid, 0));
  if (pidfd < 0) return Error{"process " + std::to_string(id.pid) + " is gone"};
  auto start = targets::process_start_time(id.pid);
  if (!start || *start != id.start_time) {
    ::close(pidfd);
    return Error{"pid " + std::to_string(id.pid) + " now belongs to another process; not signalling it"};
  }
  siginfo_t info{};
  info.si_signo = SIGTERM;
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = kHaltSignalValue;
  const long rc = ::syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, &info, 0);
  const int err = errno;
  ::close(pidfd);
  if (rc != 0) return Error{std::string("cannot signal it: ") + std::strerror(err)};
  return ok_status();
}

}  // namespace

bool HaltReport::ok() const {
  for (const auto& r : runs) {
    if (!r.error.empty() || !r.faults_cleared) return false;
  }
  return recovery.entries_failed == 0;
}

int open_faults(Ledger& ledger, const std::string& run_id) {
  auto entries = ledger.open_entries(run_id);
  if (!entries) return -1;
  int n = 0;
  for (const auto& e : *entries) n += faults::undo_stage(e.kind) == faults::UndoStage::fault ? 1 : 0;
  return n;
}

Result<HaltReport> halt_runs(Ledger& ledger, const std::string& run_id, Duration wait, std::ostream& recovery_log,
                             store::Store* store) {
  auto running = ledger.runs_with_status("running");
  if (!running) return Error{running.error()};
  HaltReport report;
  bool crashed = false, found = false;
  // Everything is signalled first, then watched: runs revert side by side, not one after another.
  const auto start = Clock::now();
  for (const RunRecord& run : *running) {
    if (!run_id.empty() && run.run_id != run_id) continue;
    found = true;
    if (!runner_alive(run)) {
      crashed = true;
      continue;
    }
    HaltedRun& halted = report.runs.emplace_back();
    halted.run_id = run.run_id;
    halted.pid = run.pid;
    if (Status s = queue_halt(targets::ProcessId{run.pid, run.pid_start_time}); !s) halted.error = s.error();
  }
  if (!run_id.empty() && !found) return Error{"no running run " + run_id + " in the ledger", ErrorCode::not_found};

  HaltSwitch poll;  // only its timed wait is used
  const auto deadline = start + wait;
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  while (true) {
    bool pending = false;
    for (auto& r : report.runs) {
      if (!r.error.empty() || r.ended) continue;
      if (!r.faults_cleared && open_faults(ledger, r.run_id) == 0) r.faults_cleared = seconds();
      if (!still_running(ledger, r.run_id)) r.ended = seconds();
      pending = pending || !r.ended;
    }
    if (!pending || Clock::now() >= deadline) break;
    poll.wait_for(std::chrono::milliseconds(5));
  }
  for (auto& r : report.runs) {
    if (!r.faults_cleared && r.ended && open_faults(ledger, r.run_id) == 0) r.faults_cleared = r.ended;
  }
  if (crashed) {
    report.recovered_crashed = true;
    report.recovery = recover(ledger, store, recovery_log);
  }
  return report;
}

}  // namespace chaosplus::runner
