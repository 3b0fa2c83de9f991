#pragma once
// How a server chaosplus starts (the fault proxy, the run's resolver) tells its caller where it
// listens once it does: one line written to a FIFO the caller made and reads (runner/placement.cpp),
// rather than a line in its log the caller would have to parse.
#include <string>

#include "core/result.h"

namespace chaosplus {

// Writes `line` and a newline to the FIFO at `path`. Non-blocking: a FIFO nobody reads is an error
// (ENXIO), not a server that hangs before it serves. `what` names the line in the error ("cannot
// tell <what> on <path>: ...").
Status tell_line(const std::string& path, const std::string& line, const std::string& what = "the address");

}  // namespace chaosplus
