#pragma once
// Running a program to completion and capturing what it printed: command probes and the system's
// network tools (nft, tc, ip) both use this. An argv is executed directly, never through a shell, so
// no field of an experiment or ledger record is ever interpreted by one. Every run has a deadline.
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/units.h"
#include "targets/process.h"

namespace chaosplus::targets {

struct ProgramOptions {
  std::string_view input;  // given on stdin; stdin is empty when there is none
  Duration timeout = std::chrono::seconds(10);
  bool merge_stderr = false;             // stderr goes into `out` too, interleaved as written (probes judge both)
  std::size_t max_output = 1024 * 1024;  // per stream; more is read and dropped, so the writer never blocks
  bool search_sbin = false;              // look in /usr/sbin, /sbin, /usr/bin, /bin before PATH
  // When it exits, kill what it left running in its process group. Off for commands that may start
  // a service in the background on purpose (a rollback's `sh -c "server &"`).
  bool kill_leftovers = false;
  // Gets the program's identity before it runs (targets/gated_child.h): a ledger record of a tool
  // that changes the system, or of a rollback, is written there. An error: it is not run.
  std::function<Status(const ProcessId&)> before_exec;
};

struct ProgramRun {
  int exit_code = 0;  // 128 + signal when killed by one
  std::string out;
  std::string err;         // empty with merge_stderr
  Duration duration{};     // from the start to its exit (or to the timeout)
  bool timed_out = false;  // it was killed at the deadline, with its process group
};

// Runs argv[0] (a path, or a name looked up as `search_sbin` says) in a process group of its own and
// waits for it. It is killed (SIGKILL) if the calling thread ends first, so it never outlives a
// runner that crashed; at the deadline it is killed with its whole group. After it exits, a process it
// left behind that still holds the output open is waited for 200 ms at most. An error only when the
// program could not be started.
Result<ProgramRun> run_program(std::span<const std::string> argv, const ProgramOptions& options = {});

// The end of a program's output, for an error message: " (output: ...last 200 characters...)" on
// one line, or "" when it printed nothing.
std::string output_excerpt(const std::string& output);

// Where `name` would be run from ("" when it is not found); a name with a '/' is taken as a path.
std::string find_program(const std::string& name, bool search_sbin);

// "nft list tables", for messages.
std::string describe_command(std::span<const std::string> argv);

}  // namespace chaosplus::targets
