// SARIF 2.1.0 (OASIS) for code-scanning dashboards: fuzz/finding_output.h's to_sarif.
#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>

#include "fuzz/finding_output.h"

namespace chaosplus::fuzz {
namespace {

using Json = nlohmann::json;

struct OracleInfo {
  std::string_view oracle;
  std::string_view description;  // shortDescription
  std::string_view help;         // what it means and what to do
  std::string_view cwe;          // "89", or ""
};

// What the oracles of docs/fuzz.md and docs/security.md look for, for the rules' texts (names as
// fuzz/oracles.h and security/scanner.cpp give them). An oracle missing here still gets a rule,
// with a generic text.
constexpr std::array kOracles{
    // The fuzzer's (fuzz/oracles.h, fuzz/engine.h).
    OracleInfo{"server_error", "The API answered with a 5xx status",
               "A request made the service fail with a server error. Replay the reproducer and read the service's log "
               "for the exception behind it.",
               ""},
    OracleInfo{"timeout", "The API did not answer in time",
               "A request hung past the timeout: a blocking call without a deadline, a lock, a loop.", "400"},
    OracleInfo{"connection_reset", "The connection was reset without a response",
               "The service (or something in front of it) reset the connection instead of answering; it may have "
               "crashed on the request.",
               ""},
    OracleInfo{"closed_without_response", "The connection was closed without a response",
               "The service closed the connection without answering the request.", ""},
    OracleInfo{"malformed_response", "The answer is not a valid HTTP/1.1 response",
               "Bytes came back that an HTTP/1.1 client cannot read as a response.", ""},
    OracleInfo{"error_leak", "An error response leaks internals",
               "The body of an error shows a stack trace, SQL error text, file paths or versions.", "209"},
    OracleInfo{"schema_mismatch", "The response body does not match the OpenAPI document",
               "The body does not match the schema the operation documents for its status and content type.", ""},
    OracleInfo{"status_undocumented", "The response status is not documented",
               "The operation answered with a status its OpenAPI document does not list.", ""},
    OracleInfo{"content_type_mismatch", "The response content type is not documented",
               "The operation answered with a content type its OpenAPI document does not list for that status.", ""},
    OracleInfo{"accepted_invalid", "Invalid input was accepted with a 2xx",
               "A request that breaks the documented schema was accepted; input validation is missing.", "20"},
    OracleInfo{"use_after_delete", "A deleted resource can still be used",
               "After a successful DELETE, the resource could still be read or changed.", ""},
    OracleInfo{"double_delete", "A resource can be deleted twice",
               "A second DELETE of the same resource succeeded as the first did.", ""},
    OracleInfo{"target_died", "The target process died or restarted",
               "The service's process exited or was restarted after the request.", ""},
    OracleInfo{"memory_growth", "The target's memory grew beyond the bound",
               "The service's resident memory kept growing under the requests: a leak or an unbounded cache.", "401"},
    // The security probes' (security/scanner.h).
    OracleInfo{"auth_missing", "An operation that needs credentials answers without valid ones",
               "A request with no, invalid or expired credentials was served.", "306"},
    OracleInfo{"bola", "Another user's object is accessible (BOLA/IDOR)",
               "A user's credentials gave access to an object that belongs to another user.", "639"},
    OracleInfo{"auth_bypass", "An access check can be bypassed",
               "A path or header variant (/%2e/, double slashes, X-Original-URL, X-Forwarded-For, method override) "
               "reached an operation that refuses the plain request.",
               "288"},
    OracleInfo{"fail_open", "Authentication fails open while its dependency is degraded",
               "An operation that refused requests without valid credentials in the baseline answered with data while "
               "faults hit the auth path. A degraded auth dependency must lead to 503, never to access.",
               "636"},
    OracleInfo{"auth_inconsistent", "An operation's access check changes its answer",
               "An operation that refused a request in the baseline later answered it differently, outside an "
               "active fault.",
               "863"},
    OracleInfo{
        "sql_injection", "SQL injection",
        "Input reaches an SQL statement unescaped: the evidence is an SQL error signature or a boolean or timing "
        "differential. Use parameterized queries.",
        "89"},
    OracleInfo{"command_injection", "OS command injection",
               "Input reaches a shell command: a timing differential showed an injected command ran.", "78"},
    OracleInfo{"path_traversal", "Path traversal",
               "Input names a file outside the intended folder: a known file's content came back.", "22"},
    OracleInfo{"template_injection", "Server-side template injection",
               "Input is evaluated by a template engine: {{7*7}} came back as 49.", "1336"},
    OracleInfo{"reflected_markup", "Markup reflected into an HTML response",
               "Input is written into an HTML response unescaped: cross-site scripting.", "79"},
    OracleInfo{"missing_security_header", "A security header is missing",
               "Responses lack a header that browsers use for protection (Content-Security-Policy, "
               "X-Content-Type-Options, Strict-Transport-Security...).",
               "693"},
    OracleInfo{"cors_misconfiguration", "CORS is misconfigured",
               "The service allows any origin (or reflects it), with credentials.", "942"},
    OracleInfo{"banner", "The server announces its software and version",
               "Responses name server software and versions, which helps an attacker pick exploits.", "200"},
    OracleInfo{"weak_tls", "Weak TLS versions or ciphers are offered",
               "The https target accepts an outdated protocol version or a weak cipher suite.", "326"},
};

const OracleInfo* oracle_info(const std::string& oracle) {
  for (const OracleInfo& info : kOracles)
    if (info.oracle == oracle) return &info;
  return nullptr;
}

std::string_view level(Severity severity) {
  switch (severity) {
    case Severity::critical:
    case Severity::high: return "error";
    case Severity::medium: return "warning";
    case Severity::low:
    case Severity::info: break;
  }
  return "note";
}

// GitHub code scanning reads a rule's "security-severity" (a number as text) into its levels:
// over 9.0 critical, 7.0 to 8.9 high, 4.0 to 6.9 medium, 0.1 to 3.9 low.
std::string_view security_severity(Severity severity) {
  switch (severity) {
    case Severity::critical: return "9.5";
    case Severity::high: return "8.0";
    case Severity::medium: return "5.5";
    case Severity::low: return "2.0";
    case Severity::info: break;
  }
  return "0.0";
}

std::string rule_id(const Finding& finding) { return finding.engine + "/" + finding.oracle; }

// A file path as a URI reference: relative to the working folder when it lies below it (what code
// scanning resolves against the checkout), else an absolute file:// URI.
std::string artifact_uri(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path path(file);
  std::string text;
  bool absolute = false;
  if (path.is_absolute()) {
    const fs::path relative = path.lexically_relative(fs::current_path(ec));
    if (!ec && !relative.empty() && *relative.begin() != "..") text = relative.generic_string();
    else text = path.lexically_normal().generic_string(), absolute = true;
  } else {
    text = path.lexically_normal().generic_string();
  }
  std::string out = absolute ? "file://" : "";
  for (const unsigned char c : text) {
    if (std::isalnum(c) || std::string_view("-._~/!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos)
      out += static_cast<char>(c);
    else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

const openapi::Operation* operation_of(const Finding& finding, const openapi::Document* document) {
  if (document == nullptr || finding.operation.empty()) return nullptr;
  for (const openapi::Operation& operation : document->operations)
    if (operation.id == finding.operation) return &operation;
  return nullptr;
}

Json location_of(const Finding& finding, const openapi::Document* document) {
  if (document != nullptr && !document->file.empty()) {
    Json physical = {{"artifactLocation", {{"uri", artifact_uri(document->file)}}}};
    if (const openapi::Operation* operation = operation_of(finding, document); operation && operation->where.line > 0) {
      physical["region"] = {{"startLine", operation->where.line}};
      if (operation->where.column > 0) physical["region"]["startColumn"] = operation->where.column;
    }
    Json location = {{"physicalLocation", physical}};
    if (!finding.operation.empty())
      location["logicalLocations"] = Json::array({{{"name", finding.operation}, {"kind", "function"}}});
    return location;
  }
  if (!finding.operation.empty())
    return {{"logicalLocations", Json::array({{{"name", finding.operation}, {"kind", "function"}}})}};
  return {
      {"logicalLocations", Json::array({{{"name", finding.base_url.empty() ? std::string("target") : finding.base_url},
                                         {"kind", "resource"}}})}};
}

std::string message_text(const Finding& finding) {
  std::string text = finding.title.empty() ? finding.oracle + " in " + finding.operation : finding.title;
  if (!finding.evidence.empty()) text += "\nEvidence: " + finding.evidence;
  if (!finding.active_faults.empty()) {
    text += "\nFaults active when found:";
    for (std::size_t i = 0; i < finding.active_faults.size(); ++i)
      text += (i == 0 ? " " : ", ") + finding.active_faults[i];
    if (finding.without_faults) text += *finding.without_faults ? " (also without faults)" : " (only with faults)";
  }
  text += "\nReproduce: chaosplus replay FINDINGS.json --id " + finding.id();
  return text;
}

}  // namespace

Json to_sarif(const std::vector<Finding>& findings, const ToolInfo& tool, const openapi::Document* document) {
  // One rule per (engine, oracle), in first-seen order, at the most severe level among its findings.
  std::vector<std::string> rule_order;
  std::map<std::string, const Finding*> most_severe;
  for (const Finding& finding : findings) {
    const std::string id = rule_id(finding);
    auto [it, added] = most_severe.emplace(id, &finding);
    if (added) rule_order.push_back(id);
    else if (finding.severity > it->second->severity) it->second = &finding;
  }
  Json rules = Json::array();
  std::map<std::string, std::size_t> rule_index;
  for (const std::string& id : rule_order) {
    const Finding& finding = *most_severe[id];
    const OracleInfo* info = oracle_info(finding.oracle);
    const bool security = finding.engine == "security";
    const std::string docs = security ? "docs/security.md" : "docs/fuzz.md";
    Json tags = security ? Json::array({"security"}) : Json::array({"reliability", "fuzz"});
    if (info != nullptr && !info->cwe.empty()) tags.push_back("external/cwe/cwe-" + std::string(info->cwe));
    Json properties = {{"tags", tags}};
    if (security) properties["security-severity"] = std::string(security_severity(finding.severity));
    const std::string description =
        info != nullptr ? std::string(info->description) : "Findings of the " + finding.oracle + " oracle";
    const std::string help = (info != nullptr ? std::string(info->help) + " " : std::string()) +
                             "The oracle is described in " + docs +
                             "; `chaosplus replay` re-sends a finding's reproducer.";
    rule_index[id] = rules.size();
    rules.push_back(
        {{"id", id},
         {"name", finding.oracle},
         {"shortDescription", {{"text", description}}},
         {"fullDescription", {{"text", description + " (" + finding.engine + " oracle " + finding.oracle + ")"}}},
         {"help", {{"text", help}}},
         {"defaultConfiguration", {{"level", std::string(level(finding.severity))}}},
         {"properties", properties}});
  }

  Json results = Json::array();
  for (const Finding& finding : findings) {
    const std::string id = rule_id(finding);
    Json properties = {{"id", finding.id()},
                       {"engine", finding.engine},
                       {"operation", finding.operation},
                       {"oracle", finding.oracle},
                       {"severity", std::string(severity_name(finding.severity))},
                       {"phase", finding.phase},
                       {"active_faults", finding.active_faults},
                       {"without_faults", finding.without_faults ? Json(*finding.without_faults) : Json(nullptr)},
                       {"count", finding.count},
                       {"curl", finding.curl},
                       {"base_url", finding.base_url}};
    if (!finding.wfc.empty()) properties["wfc"] = finding.wfc;
    results.push_back({{"ruleId", id},
                       {"ruleIndex", rule_index[id]},
                       {"level", std::string(level(finding.severity))},
                       {"message", {{"text", message_text(finding)}}},
                       {"locations", Json::array({location_of(finding, document)})},
                       {"partialFingerprints", {{"chaosplusFindingId/v1", finding.id()}}},
                       {"properties", properties}});
  }

  Json driver = {{"name", tool.name.empty() ? std::string("chaosplus") : tool.name}, {"rules", rules}};
  if (!tool.version.empty()) driver["version"] = tool.version, driver["semanticVersion"] = tool.version;
  if (!tool.information_uri.empty()) driver["informationUri"] = tool.information_uri;
  return {{"$schema", "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", Json::array({{{"tool", {{"driver", driver}}}, {"results", results}}})}};
}

}  // namespace chaosplus::fuzz
