#pragma once
// Starts `chaosplus run` as a child process for POST /api/runs and reaps it when it ends. A run is
// an independent process with its own ledger and signal handling: when the server stops, its runs
// go on (halt them with `chaosplus halt`); the server only collects their exit status meanwhile.
#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/halt_switch.h"
#include "core/result.h"

namespace chaosplus::server {

struct LaunchSettings {
  std::string program;  // the chaosplus binary (/proc/self/exe resolved)
  std::string store;    // --store of the run
  std::string state_dir;
  std::string runs_dir;
};

struct LaunchedRun {
  pid_t pid = 0;
  std::string journal;  // the --journal path chosen for it, unique
  std::string output;   // its stdout and stderr
};

class RunLauncher {
 public:
  explicit RunLauncher(LaunchSettings settings);
  ~RunLauncher();  // stops reaping; the runs go on
  RunLauncher(const RunLauncher&) = delete;
  RunLauncher& operator=(const RunLauncher&) = delete;

  // Forks and execs `<program> run FILE --plain --store S --state-dir D --runs-dir R --journal J
  // [--var K=V]...` in its own session (a Ctrl-C at the server's terminal does not reach it).
  Result<LaunchedRun> start(const std::string& file, const std::map<std::string, std::string>& vars);

  // The child's exit code once it has ended (128+signal when killed); nullopt while it runs.
  std::optional<int> exit_code(pid_t pid);
  int running() const;

 private:
  void reap_loop();

  LaunchSettings settings_;
  mutable std::mutex mutex_;
  std::map<pid_t, std::optional<int>> children_;  // guarded by mutex_
  unsigned serial_ = 0;                           // guarded by mutex_
  HaltSwitch stop_;
  std::thread reaper_;
};

// The last `max_bytes` of a file (a failed run's output, for the error answer).
std::string file_tail(const std::string& path, std::size_t max_bytes);

}  // namespace chaosplus::server
