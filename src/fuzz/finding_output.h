#pragma once
// Where findings go: a JSON findings file (what `chaosplus replay` reads back), SARIF 2.1.0 for
// code-scanning dashboards, an event on the run's stream (`fuzz.finding`, `security.finding`),
// one line per finding for the terminal, and the severity gate behind the exit code of the
// standalone `fuzz` and `scan` (`--fail-on SEVERITY`).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/result.h"
#include "fuzz/finding.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

// The writing tool, for the findings file and SARIF's tool.driver.
struct ToolInfo {
  std::string name = "chaosplus";
  std::string version;          // "0.1.0"
  std::string information_uri;  // absolute URI of the tool's home page; left out when empty
};

// The default of `--fail-on`: medium. Low and info findings (invalid input accepted with a 2xx,
// a missing security header) are worth reading but too noisy to fail a build on by default.
inline constexpr Severity kDefaultFailOn = Severity::medium;

// A findings file:
//   {"chaosplus_findings": 1, "tool": {"name", "version"}, "base_url", "openapi", "seed",
//    "started_at", "findings": [...]}
// `openapi` is the OpenAPI document's path as given (absent when there was none); `started_at` is
// ISO 8601 UTC. Each finding has every field of fuzz::Finding, plus its `id`; `request` is the
// request case's JSON (request_case.h); `raw_request` and each of `setup_requests` are a string
// when the bytes are UTF-8, else {"base64": "..."}, so a replay sends exactly the bytes found;
// `without_faults` is null when it was not checked.
struct FindingsFile {
  ToolInfo tool;
  std::string base_url;
  std::string openapi;
  std::uint64_t seed = 0;
  std::string started_at;
  std::vector<Finding> findings;
};

nlohmann::json to_json(const Finding& finding);
// Errors name the field and what was expected: "findings[2].severity: 'urgent': expected a severity...".
Result<Finding> finding_from_json(const nlohmann::json& json);
nlohmann::json to_json(const FindingsFile& file);
Result<FindingsFile> findings_file_from_json(const nlohmann::json& json);

// Writes the file atomically (write_file_atomically): a crash or a failed write leaves the old file
// (or none) and no partial one. The file is readable by its owner only: a reproducer may carry the
// credentials it was sent with.
Status write_findings_file(const std::string& path, const FindingsFile& file);
// Errors say which file and what is wrong in it ("f.json: findings[0].trigger.rule: missing").
// A trigger is read as written, not judged (check_trigger): one odd finding does not make the
// others unreadable.
Result<FindingsFile> read_findings_file(const std::string& path);

// SARIF 2.1.0: one run; tool.driver with one rule per (engine, oracle) among the findings (id
// "fuzz/server_error", "security/fail_open"; tags, level and "security-severity" from the most
// severe of its findings); one result per finding: level error (high, critical), warning (medium)
// or note (low, info); the OpenAPI document and the operation's line as location when `document`
// knows them, else a logical location naming the operation or the base URL; the finding id as
// partial fingerprint; the chaos context in properties.
nlohmann::json to_sarif(const std::vector<Finding>& findings, const ToolInfo& tool,
                        const openapi::Document* document = nullptr);
// to_sarif written as the findings file is: atomically.
Status write_sarif_file(const std::string& path, const std::vector<Finding>& findings, const ToolInfo& tool,
                        const openapi::Document* document = nullptr);
// Any text file: a temporary file beside it, fsynced, renamed over `path`, the folder fsynced.
Status write_file_atomically(const std::string& path, const std::string& content);

// `fuzz.finding` or `security.finding` (by engine) with the finding's fields; the request's bytes
// up to kEventRequestBytes (the findings file has them all).
inline constexpr std::size_t kEventRequestBytes = 64 * 1024;
Event finding_event(const Finding& finding);

// The start and end of a fuzz or security activity (standalone or in a phase), the same shape for
// both engines (docs/journal.md): `fuzz.started` / `security.started` with name, base_url,
// operations, seed; `fuzz.summary` / `security.summary` with name, requests, requests_per_s,
// findings (unique), by_severity (JSON text: {"high": 1, "low": 2}), duration_s.
Event started_event(const std::string& engine, const std::string& name, const std::string& base_url,
                    std::size_t operations, std::uint64_t seed);
Event summary_event(const std::string& engine, const std::string& name, std::uint64_t requests, double duration_s,
                    const std::vector<Finding>& findings);

// The gate of `--fail-on`: some finding is at least `threshold`.
bool any_at_or_above(const std::vector<Finding>& findings, Severity threshold);

// For the terminal, one line per finding:
//   "high     F1a2b3c4d5e server_error  createOrder  POST /orders answers 500 ...  [faults: latency token]"
std::string format_findings(const std::vector<Finding>& findings);

}  // namespace chaosplus::fuzz
