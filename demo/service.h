#pragma once
// What both demo services share: "--flag value" parsing with usage errors, and a main loop that
// serves until SIGTERM or SIGINT, then stops the server and exits 0.
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "core/result.h"
#include "core/units.h"
#include "net/http_server.h"

namespace chaosplus::demo {

using Flags = std::map<std::string, std::string>;

// Accepts "--name value" and "--name=value" for the names in `known`; anything else is an error.
// A name given more than once keeps all its values, comma separated ("--bug a --bug b" -> "a,b").
Result<Flags> parse_flags(int argc, char** argv, const std::set<std::string>& known);

// "8080" -> 8080; 0 is allowed (the system picks a port, the listening line tells which).
Result<int> parse_port(const std::string& text);

// Prints "<program>: <message>" and the usage to stderr; returns exit code 2.
int usage_error(const std::string& program, const std::string& message, const std::string& usage);

// Blocks SIGTERM/SIGINT (before any thread starts, so only sigwait sees them), starts the server,
// prints "listening on HOST:PORT" (flushed), waits for a signal, stops. Returns the exit code.
int serve_until_signalled(const std::string& program, net::HttpServer::Options options,
                          net::HttpServer::Handler handler);

// Requests the server of serve_until_signalled has passed to its handler so far (benchmarks read the
// "stopped by signal N after M requests" line it prints at exit).
std::uint64_t requests_handled();

// Sleeps for `duration`, or less when serve_until_signalled is stopping: a handler that waits on
// purpose never holds up the exit.
void wait_or_stop(Duration duration);

// {"error": message} as a JSON response.
net::Response json_error(int status, const std::string& message);

}  // namespace chaosplus::demo
