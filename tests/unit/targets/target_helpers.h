#pragma once
// Shared by the targets unit tests: start `sh -c` scripts through targets::spawn, and make sure no
// test leaves a process behind even when the code under test fails.
#include <signal.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/support.h"
#include "targets/launch.h"
#include "targets/process.h"

namespace chaosplus::targets::test {

// Kills the process (and its group, if it leads one) at scope exit, without using targets::stop.
class KillOnExit {
 public:
  explicit KillOnExit(ProcessId id) : id_(id) {}
  ~KillOnExit() {
    if (id_.pid <= 0 || !is_alive(id_)) return;
    if (::getpgid(id_.pid) == id_.pid) ::kill(-id_.pid, SIGKILL);
    ::kill(id_.pid, SIGKILL);
    chaosplus::testing::wait_until([&] { return !is_alive(id_); }, std::chrono::seconds(5));
  }
  KillOnExit(const KillOnExit&) = delete;
  KillOnExit& operator=(const KillOnExit&) = delete;

 private:
  ProcessId id_;
};

inline spec::ProcessLaunch command(std::vector<std::string> argv) {
  spec::ProcessLaunch launch;
  launch.command = std::move(argv);
  return launch;
}

inline spec::ProcessLaunch sh(const std::string& script) { return command({"sh", "-c", script}); }

}  // namespace chaosplus::targets::test
