#pragma once
// Runs one steady-state probe (http, tcp, command, extension, sql) once and judges it against its expectation.
#include <string>

#include "core/units.h"
#include "spec/experiment.h"

namespace chaosplus::probes {

struct ProbeResult {
  bool ok = false;
  Duration latency{0};  // steady_clock around the whole probe
  int status = 0;       // HTTP status, command exit code (128+signal if killed), 0 for tcp
  std::string detail;   // why it failed, in words; empty on success
};

// Runs `probe` once, bounded by its timeout; never throws. Thread-safe: probes run on several
// threads at once.
ProbeResult run(const spec::Probe& probe);

// The kinds, also usable on their own (a rollback runs a command and expects exit code 0).
// http: a fresh connection per run; status/body/latency expectations.
ProbeResult run_http(const spec::HttpProbe& probe, const spec::Expectation& expect);
// tcp: a connect within the timeout; only a latency expectation applies.
ProbeResult run_tcp(const spec::TcpProbe& probe, const spec::Expectation& expect);
// command: argv without a shell (PATH lookup), in its own process group, stdin /dev/null, stdout and
// stderr captured together (first 1 MiB); at the timeout the whole group is killed. Processes the
// command leaves running in the background after it exits are not killed.
ProbeResult run_command(const spec::CommandProbe& probe, const spec::Expectation& expect);
// extension: the extension's `probe` request (docs/extensions.md) in a session of its own; it passes
// when the reply says ok (and the latency expectation holds).
ProbeResult run_extension(const spec::ExtensionProbe& probe, const spec::Expectation& expect);
// sql: a fresh libpq connection (db::Connection) and one query, both within the timeout; the rows
// as text (tab between columns, newline between rows, NULL as empty) are the output that
// output_contains/output_regex read; rows and value judge the result; latency covers both.
ProbeResult run_sql(const spec::SqlProbe& probe, const spec::Expectation& expect);

}  // namespace chaosplus::probes
