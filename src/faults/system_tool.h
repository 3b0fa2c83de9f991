#pragma once
// Running the system's network tools (nft, tc, ip) for the kernel-level faults, on top of
// targets::run_program: an argv, never a shell, so no field of an experiment or ledger record is
// ever interpreted by one. Input is given on stdin; output is captured; every call has a deadline.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::faults {

struct ToolOutput {
  int exit_code = 0;  // 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in /usr/sbin, /sbin, /usr/bin, /bin, then PATH) with `input` as its stdin.
// An error only when it could not run or did not finish within `timeout` (it is then killed).
Result<ToolOutput> run_tool(const std::vector<std::string>& argv, std::string_view input = {},
                            Duration timeout = std::chrono::seconds(10));

// Like run_tool, but a non-zero exit is an error that quotes the command and its stderr; returns stdout.
Result<std::string> run_tool_checked(const std::vector<std::string>& argv, std::string_view input = {},
                                     Duration timeout = std::chrono::seconds(10));

// Where argv[0] would be run from; empty when it is not installed.
std::string find_tool(const std::string& name);

// "nft list tables" -> for messages.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace chaosplus::faults
