#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "core/halt_switch.h"
#include "faults/undo.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "targets/process.h"

namespace chaosplus::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Open entries of a run that are faults (not rollbacks, not the processes it started): the faults
// still on the system.
int open_faults(runner::Ledger& ledger, const std::string& run_id) {
  auto entries = ledger.open_entries(run_id);
  if (!entries) return -1;
  int n = 0;
  for (const auto& e : *entries) n += faults::undo_stage(e.kind) == faults::UndoStage::fault ? 1 : 0;
  return n;
}

bool still_running(runner::Ledger& ledger, const std::string& run_id) {
  auto runs = ledger.runs_with_status("running");
  if (!runs) return false;
  for (const auto& r : *runs) {
    if (r.run_id == run_id) return true;
  }
  return false;
}

}  // namespace

void add_halt_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("halt", "Stop every running experiment now: its faults are reverted at once");
  struct Options {
    std::string state_dir;
    std::string wait = "30s";
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--state-dir", o->state_dir, "folder of the fault ledger");
  cmd->add_option("--wait", o->wait, "how long to wait for the runs to finish reverting (default 30s)");
  cmd->callback([o, &exit_code] {
    auto wait = parse_duration(o->wait);
    if (!wait) {
      std::cerr << "halt: --wait " << wait.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    std::string dir = o->state_dir.empty() ? runner::default_state_dir() : o->state_dir;
    auto ledger = runner::Ledger::open(runner::ledger_path(dir));
    if (!ledger) {
      std::cerr << "halt: " << ledger.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    auto runs = (*ledger)->runs_with_status("running");
    if (!runs) {
      std::cerr << "halt: " << runs.error() << "\n";
      exit_code = kExitInvalid;
      return;
    }
    exit_code = 0;
    int halted = 0;
    bool crashed_runs = false;
    HaltSwitch poll;  // only its timed wait is used
    for (const runner::RunRecord& run : *runs) {
      if (!runner::runner_alive(run)) {
        crashed_runs = true;
        continue;
      }
      const auto start = Clock::now();
      Status s = targets::send_signal(targets::ProcessId{run.pid, run.pid_start_time}, SIGTERM,
                                      targets::SignalScope::process);
      if (!s) {
        std::cerr << "halt: cannot signal run " << run.run_id << " (pid " << run.pid << "): " << s.error() << "\n";
        exit_code = kExitInvalid;
        continue;
      }
      ++halted;
      std::optional<double> faults_clear, ended;
      const auto deadline = start + *wait;
      while (Clock::now() < deadline && !ended) {
        double t = std::chrono::duration<double>(Clock::now() - start).count();
        if (!faults_clear && open_faults(**ledger, run.run_id) == 0) faults_clear = t;
        if (!still_running(**ledger, run.run_id)) ended = t;
        if (!ended) poll.wait_for(std::chrono::milliseconds(5));
      }
      if (!faults_clear && open_faults(**ledger, run.run_id) == 0 && ended) faults_clear = *ended;
      std::printf("halt: run %s (pid %d): ", run.run_id.c_str(), run.pid);
      if (faults_clear) std::printf("all faults reverted %.3fs after the halt", *faults_clear);
      else std::printf("faults NOT all reverted within %s", o->wait.c_str());
      if (ended) std::printf(", run ended after %.3fs\n", *ended);
      else std::printf(", run still ending\n");
      if (!faults_clear) exit_code = kExitInvalid;
    }
    if (crashed_runs) {
      runner::RecoveryReport r = runner::recover(**ledger, std::cout);
      std::printf("halt: %d crashed run(s) recovered, %d change(s) reverted, %d failed\n", r.runs_recovered,
                  r.entries_reverted, r.entries_failed);
      if (r.entries_failed > 0) exit_code = kExitInvalid;
    }
    if (halted == 0 && !crashed_runs) std::printf("halt: no experiment is running\n");
    std::fflush(stdout);
  });
}

}  // namespace chaosplus::cli
