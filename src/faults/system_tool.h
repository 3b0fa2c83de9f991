#pragma once
// Running the system's network tools (nft, tc, ip) for the kernel-level faults, on top of
// targets::run_program: an argv, never a shell, so no field of an experiment or ledger record is
// ever interpreted by one. Input is given on stdin; output is captured; every call has a deadline.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "targets/gated_child.h"

namespace chaosplus::faults {

struct ToolOutput {
  int exit_code = 0;  // 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in /usr/sbin, /sbin, /usr/bin, /bin, then PATH) with `input` as its stdin.
// An error only when it could not run or did not finish within `timeout` (it is then killed).
// `before_exec` gets the tool's identity before it runs: a tool that changes the system is recorded
// in its fault's ledger entry there, so an undo can first make sure it is gone.
Result<ToolOutput> run_tool(const std::vector<std::string>& argv, std::string_view input = {},
                            Duration timeout = std::chrono::seconds(10), const targets::BeforeExec& before_exec = {});

// Like run_tool, but a non-zero exit is an error that quotes the command and its stderr; returns stdout.
Result<std::string> run_tool_checked(const std::vector<std::string>& argv, std::string_view input = {},
                                     Duration timeout = std::chrono::seconds(10),
                                     const targets::BeforeExec& before_exec = {});

// A tool's identity in a ledger record ("tool_pid", "tool_start_time"), and making sure a recorded
// tool is gone: killed with its process group if it still runs, and waited for, so what it does
// (an nft transaction, a tc change) has happened or never will before anyone looks.
Status stop_recorded_tool(int pid, unsigned long long start_time);

// Where argv[0] would be run from; empty when it is not installed.
std::string find_tool(const std::string& name);

// "nft list tables" -> for messages.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace chaosplus::faults
