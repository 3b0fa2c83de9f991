#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "fuzz/finding_output.h"
#include "runner/provenance.h"
#include "security/scanner.h"

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

}  // namespace

void add_scan_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "scan",
      "Security probes against an HTTP API from its OpenAPI document (loopback only): auth invariants\n"
      "(no, invalid, garbled credentials; another user's objects; bypass variants), injection with\n"
      "evidence (SQL, OS command, path traversal, template, reflected markup), security headers, CORS,\n"
      "banners, TLS. Exit 0 no finding at or above --fail-on, 1 some, 3 invalid input.\n"
      "  chaosplus scan --openapi api.yaml --base-url http://127.0.0.1:8080 \\\n"
      "      --user alice='Authorization: Bearer t1' --user bob='Authorization: Bearer t2' --findings f.json");
  struct Options {
    std::string openapi;
    std::string base_url;
    std::string duration;
    std::vector<std::string> users;
    std::string checks = "auth,injection,headers,tls";
    std::vector<std::string> protected_operations;
    std::string timeout = "5s";
    std::string delay = "2s";
    std::uint64_t max_requests = 200'000;
    std::string findings;
    std::string sarif;
    std::string fail_on = std::string(fuzz::severity_name(fuzz::kDefaultFailOn));
    bool quiet = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--openapi", o->openapi, "the OpenAPI 3.0/3.1 document, JSON or YAML")->required();
  cmd->add_option("--base-url", o->base_url, "where the API is: http://127.0.0.1:8080 (loopback only)")->required();
  cmd->add_option("-d,--duration", o->duration,
                  "keep re-checking the auth probes for this long after the first pass (default: one pass)");
  cmd->add_option("--user", o->users,
                  "NAME='Header: value': a user's credentials (repeatable; the first creates objects, the second "
                  "must not reach them)");
  cmd->add_option("--checks", o->checks, "which checks: auth,injection,headers,tls (default all)");
  cmd->add_option("--protected", o->protected_operations,
                  "operation id that needs credentials although the document does not say so (repeatable)");
  cmd->add_option("--timeout", o->timeout, "per request (default 5s)");
  cmd->add_option("--delay", o->delay, "what the time-based payloads sleep, whole seconds (default 2s)");
  cmd->add_option("-n,--max-requests", o->max_requests, "never send more than this (default 200000)");
  cmd->add_option("--findings", o->findings, "write the findings as JSON here (what chaosplus replay reads)");
  cmd->add_option("--sarif", o->sarif, "write the findings as SARIF 2.1.0 here");
  cmd->add_option("--fail-on", o->fail_on,
                  "exit 1 when a finding is at least this severe: info, low, medium (default), high, critical");
  cmd->add_flag("-q,--quiet", o->quiet, "no line per new finding on stderr");
  cmd->callback([o, &exit_code] {
    auto invalid = [&](const std::string& what) {
      std::cerr << "scan: " << what << "\n";
      exit_code = kExitInvalid;
    };
    security::ScanOptions options;
    auto base = net::Url::parse(o->base_url);
    if (!base) return invalid("--base-url " + o->base_url + ": " + base.error());
    if (!allowed_hosts().allows_host(base->host)) {
      return invalid("--base-url " + o->base_url + ": host '" + base->host + "' is not on the allow-list; " +
                     allow_hint());
    }
    options.base = *base;
    for (const std::string& u : o->users) {
      auto user = security::parse_user(u);
      if (!user) return invalid("--user " + user.error());
      options.users.push_back(*user);
    }
    auto checks = security::parse_checks(o->checks);
    if (!checks) return invalid("--checks " + checks.error());
    options.checks = *checks;
    options.protected_operations = o->protected_operations;
    auto timeout = parse_duration(o->timeout);
    if (!timeout) return invalid("--timeout " + timeout.error());
    options.timeout = *timeout;
    auto delay = parse_duration(o->delay);
    if (!delay || *delay < std::chrono::seconds(1)) return invalid("--delay: expected whole seconds such as 2s");
    options.delay = *delay;
    options.max_requests = o->max_requests;
    Duration duration{0};
    if (!o->duration.empty()) {
      auto d = parse_duration(o->duration);
      if (!d) return invalid("--duration " + d.error());
      duration = *d;
    }
    auto fail_on = fuzz::parse_severity(o->fail_on);
    if (!fail_on) return invalid("--fail-on " + fail_on.error());
    // The document first: its errors name the file and line, like validate's.
    auto document = openapi::load(o->openapi);
    if (!document) return invalid(document.error());

    HaltSwitch halt;
    SignalWatcher watcher(halt);
    fuzz::ChaosContext context;  // outside a run no fault is ever active
    security::Scanner scanner(*document, options, context, &halt);
    if (!o->quiet) {
      scanner.on_finding([](const fuzz::Finding& f) {
        std::fprintf(stderr, "new finding: %s %s %s\n", std::string(fuzz::severity_name(f.severity)).c_str(),
                     f.oracle.c_str(), f.title.c_str());
      });
    }
    const std::string started_at = utc_now();
    const auto began = std::chrono::steady_clock::now();
    const auto baseline = scanner.learn_baseline();
    scanner.scan_injection();
    scanner.scan_headers();
    scanner.scan_tls();
    std::size_t rounds = 0;
    while (baseline == security::Scanner::Baseline::learned && !halt.triggered() && !scanner.capped() &&
           std::chrono::steady_clock::now() - began < duration) {
      scanner.recheck_auth();
      ++rounds;
      halt.wait_for(std::chrono::seconds(1));
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    const auto findings = scanner.findings().all();
    std::printf("scan: %llu requests in %.1fs; %zu auth probes, baseline %s, %zu re-check rounds\n",
                static_cast<unsigned long long>(scanner.requests()), elapsed, scanner.auth_probes(),
                baseline == security::Scanner::Baseline::learned ? "learned" : "not taken", rounds);
    std::fputs(fuzz::format_findings(findings).c_str(), stdout);
    std::printf("findings: %zu\n", findings.size());
    std::fflush(stdout);
    fuzz::ToolInfo tool;
    tool.version = runner::chaosplus_version();
    if (!o->findings.empty()) {
      fuzz::FindingsFile file{tool, o->base_url, o->openapi, 0, started_at, findings};
      if (auto s = fuzz::write_findings_file(o->findings, file); !s) return invalid("--findings " + s.error());
      std::printf("findings written to %s\n", o->findings.c_str());
    }
    if (!o->sarif.empty()) {
      if (auto s = fuzz::write_sarif_file(o->sarif, findings, tool, &*document); !s) {
        return invalid("--sarif " + s.error());
      }
      std::printf("SARIF written to %s\n", o->sarif.c_str());
    }
    if (halt.triggered()) {
      exit_code = 2;
      return;
    }
    exit_code = fuzz::any_at_or_above(findings, *fail_on) ? 1 : 0;
  });
}

}  // namespace chaosplus::cli
