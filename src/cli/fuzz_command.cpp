#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "fuzz/engine.h"
#include "fuzz/finding_output.h"
#include "runner/provenance.h"

namespace chaosplus::cli {
namespace {

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string top(const std::map<std::string, std::uint64_t>& counts, std::size_t n) {
  std::vector<std::pair<std::uint64_t, std::string>> sorted;
  for (const auto& [name, count] : counts) sorted.emplace_back(count, name);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first > b.first : a.second < b.second; });
  std::string out;
  for (std::size_t i = 0; i < sorted.size() && i < n; ++i)
    out += (i ? ", " : "") + sorted[i].second + " " + std::to_string(sorted[i].first);
  if (sorted.size() > n) out += ", ...";
  return out;
}

std::string summary_text(const fuzz::FuzzSummary& s) {
  char head[160];
  std::snprintf(head, sizeof head, "fuzz: %llu requests in %.1fs (%.0f requests/s), ended by %s\n",
                static_cast<unsigned long long>(s.requests), s.elapsed_s, s.requests_per_second(), s.ended.c_str());
  std::string out = head;
  std::map<std::string, std::uint64_t> statuses;
  for (const auto& [status, count] : s.per_status) statuses[std::to_string(status)] = count;
  for (const auto& [outcome, count] : s.per_outcome) statuses[outcome] = count;
  out += "  answers:    " + top(statuses, 8) + "\n";
  out += "  operations: " + std::to_string(s.per_operation.size()) + " (" + top(s.per_operation, 5) + ")\n";
  out += "  strategies: " + top(s.per_strategy, 5) + "\n";
  out += "  corpus:     " + std::to_string(s.corpus) + " requests for " + std::to_string(s.behaviours) +
         " behaviours; " + std::to_string(s.pool_values) + " values harvested\n";
  if (s.restarts > 0) out += "  target:     died and came back " + std::to_string(s.restarts) + " times\n";
  if (s.degraded > 0) out += "  degraded:   " + std::to_string(s.degraded) + " answers 503/504 or hangs under faults\n";
  std::map<fuzz::Severity, std::size_t> by;
  for (const auto& f : s.findings) ++by[f.severity];
  std::string counts;
  for (auto it = by.rbegin(); it != by.rend(); ++it)
    counts +=
        (counts.empty() ? "" : ", ") + std::to_string(it->second) + " " + std::string(fuzz::severity_name(it->first));
  out += "findings: " + std::to_string(s.findings.size()) + (counts.empty() ? "" : " (" + counts + ")") + "\n";
  return out;
}

}  // namespace

void add_fuzz_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "fuzz",
      "Fuzz an HTTP API from its OpenAPI document (loopback only): valid, invalid, mutated, stateful and raw\n"
      "protocol requests; findings deduplicated and minimized. Exit 0 no finding at or above --fail-on,\n"
      "1 some, 3 invalid input.\n"
      "  chaosplus fuzz --openapi api.yaml --base-url http://127.0.0.1:8080 --duration 60s --findings f.json");
  struct Options {
    std::string openapi;
    std::string base_url;
    std::string duration = "60s";
    std::uint64_t seed = 1;
    std::vector<std::string> headers;
    int connections = 32;
    std::string timeout = "5s";
    std::uint64_t max_requests = 5'000'000;
    std::string findings;
    std::string sarif;
    std::string fail_on = std::string(fuzz::severity_name(fuzz::kDefaultFailOn));
    std::int64_t pid = 0;
    std::string memory_growth = "100MiB";
    std::string restart_wait = "60s";
    bool no_minimize = false;
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--openapi", o->openapi, "the OpenAPI 3.0/3.1 document, JSON or YAML")->required();
  cmd->add_option("--base-url", o->base_url, "where the API is: http://127.0.0.1:8080 (loopback only)")->required();
  cmd->add_option("-d,--duration", o->duration, "how long to fuzz (default 60s)");
  cmd->add_option("--seed", o->seed, "seed of the request stream: the same seed gives the same requests (default 1)");
  cmd->add_option("-H,--header", o->headers, "header sent with every request, 'Authorization: Bearer x' (repeatable)");
  cmd->add_option("-c,--connections", o->connections, "keep-alive connections (default 32)");
  cmd->add_option("--timeout", o->timeout, "per request; an answer slower than this is a hang (default 5s)");
  cmd->add_option("-n,--max-requests", o->max_requests, "stop after this many requests (default 5000000)");
  cmd->add_option("--findings", o->findings, "write the findings as JSON here (what chaosplus replay reads)");
  cmd->add_option("--sarif", o->sarif, "write the findings as SARIF 2.1.0 here");
  cmd->add_option("--fail-on", o->fail_on,
                  "exit 1 when a finding is at least this severe: info, low, medium "
                  "(default), high, critical");
  cmd->add_option("--pid", o->pid, "the target's process id: watches its memory and its death");
  cmd->add_option("--memory-growth", o->memory_growth,
                  "with --pid: resident memory growth that is a finding (default 100MiB; 0 turns it off)");
  cmd->add_option("--restart-wait", o->restart_wait,
                  "how long to wait for a target that died to come back (default 60s)");
  cmd->add_flag("--no-minimize", o->no_minimize, "keep each finding's request as found");
  cmd->add_flag("-q,--quiet", o->quiet, "no progress line");
  cmd->callback([o, &exit_code] {
    auto invalid = [&](const std::string& what) {
      std::cerr << "fuzz: " << what << "\n";
      exit_code = kExitInvalid;
    };
    fuzz::FuzzOptions options;
    options.openapi = o->openapi;
    options.base_url = o->base_url;
    options.seed = o->seed;
    options.connections = o->connections;
    options.max_requests = o->max_requests;
    options.minimize = !o->no_minimize;
    if (o->pid > 0) options.pid = o->pid;
    auto duration = parse_duration(o->duration);
    if (!duration) return invalid("--duration " + duration.error());
    options.duration = *duration;
    auto timeout = parse_duration(o->timeout);
    if (!timeout) return invalid("--timeout " + timeout.error());
    options.timeout = *timeout;
    auto restart = parse_duration(o->restart_wait);
    if (!restart) return invalid("--restart-wait " + restart.error());
    options.restart_wait = *restart;
    if (o->memory_growth == "0") options.memory_growth = 0;
    else {
      auto bytes = parse_bytes(o->memory_growth);
      if (!bytes) return invalid("--memory-growth " + bytes.error());
      options.memory_growth = *bytes;
    }
    for (const auto& h : o->headers) {
      auto header = fuzz::parse_header(h);
      if (!header) return invalid("--header " + header.error());
      options.headers.push_back(*header);
    }
    auto fail_on = fuzz::parse_severity(o->fail_on);
    if (!fail_on) return invalid("--fail-on " + fail_on.error());
    // The document first: its errors name the file and line, like validate's.
    auto document = openapi::load(o->openapi);
    if (!document) return invalid(document.error());
    options.document = std::make_shared<const openapi::Document>(std::move(document).value());

    HaltSwitch halt;
    SignalWatcher watcher(halt);
    fuzz::FuzzHooks hooks;
    hooks.stop = &halt;
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    if (!o->quiet) {
      hooks.on_progress = [tty](const fuzz::FuzzProgress& p) {
        std::fprintf(stderr, "%s[%6.1fs] %8.0f req/s  requests %llu  findings %zu  corpus %zu%s", tty ? "\r" : "",
                     p.elapsed_s, p.rps, static_cast<unsigned long long>(p.requests), p.findings, p.corpus,
                     tty ? "   " : "\n");
      };
      hooks.on_finding = [tty](const fuzz::Finding& f) {
        std::fprintf(stderr, "%snew finding: %s %s %s\n", tty ? "\r" : "",
                     std::string(fuzz::severity_name(f.severity)).c_str(), f.oracle.c_str(), f.title.c_str());
      };
    }
    hooks.on_notice = [tty](const std::string& text) {
      std::fprintf(stderr, "%sfuzz: %s\n", tty ? "\r" : "", text.c_str());
    };
    const std::string started_at = utc_now();
    auto summary = fuzz::run_fuzz(options, hooks);
    if (tty && !o->quiet) std::fprintf(stderr, "\n");
    if (!summary) return invalid(summary.error());
    std::fputs(summary_text(*summary).c_str(), stdout);
    std::fputs(fuzz::format_findings(summary->findings).c_str(), stdout);
    std::fflush(stdout);
    fuzz::ToolInfo tool;
    tool.version = runner::chaosplus_version();
    if (!o->findings.empty()) {
      fuzz::FindingsFile file{tool, o->base_url, o->openapi, o->seed, started_at, summary->findings};
      if (auto s = fuzz::write_findings_file(o->findings, file); !s) return invalid("--findings " + s.error());
      std::printf("findings written to %s\n", o->findings.c_str());
    }
    if (!o->sarif.empty()) {
      const std::string sarif = fuzz::to_sarif(summary->findings, tool, options.document.get()).dump(2) + "\n";
      if (auto s = fuzz::write_file_atomically(o->sarif, sarif); !s) return invalid("--sarif " + s.error());
      std::printf("SARIF written to %s\n", o->sarif.c_str());
    }
    exit_code = fuzz::any_at_or_above(summary->findings, *fail_on) ? 1 : 0;
  });
}

}  // namespace chaosplus::cli
