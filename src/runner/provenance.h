#pragma once
// Where a run came from, for run.started: which chaosplus, which file (by content), which host,
// which user, which command line. A journal alone then says what was run and can be reproduced.
#include <span>
#include <string>

#include "core/result.h"

namespace chaosplus::runner {

// The CMake project version of this build ("0.1.0").
std::string chaosplus_version();

// Lower-case hex SHA-256 of the file's bytes.
Result<std::string> file_sha256(const std::string& path);

// The machine's host name ("" when it cannot be read).
std::string host_name();

// argv joined with spaces, the value of each --var whose key looks like a secret (token, password,
// secret, key, credential...) replaced by <redacted>: "--var API_TOKEN=<redacted>".
std::string redacted_command_line(std::span<const std::string> argv);

}  // namespace chaosplus::runner
