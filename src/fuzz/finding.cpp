#include "fuzz/finding.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <utility>

namespace chaosplus::fuzz {
namespace {

constexpr std::array<std::string_view, 5> kSeverityNames{"info", "low", "medium", "high", "critical"};

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::int64_t> parse_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

// The outcome an `outcome` rule names, by outcome_name.
std::optional<Outcome> outcome_named(std::string_view name) {
  for (auto i = static_cast<int>(Outcome::response); i <= static_cast<int>(Outcome::bad_response); ++i)
    if (outcome_name(static_cast<Outcome>(i)) == name) return static_cast<Outcome>(i);
  return std::nullopt;
}

// "2xx" -> 2; nullopt for anything else.
std::optional<int> status_class(std::string_view value) {
  if (value.size() != 3 || value[0] < '1' || value[0] > '5') return std::nullopt;
  if (std::tolower(static_cast<unsigned char>(value[1])) != 'x' ||
      std::tolower(static_cast<unsigned char>(value[2])) != 'x')
    return std::nullopt;
  return value[0] - '0';
}

std::optional<std::pair<std::string_view, std::string_view>> header_pair(std::string_view value) {
  const auto colon = value.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto name = trim(value.substr(0, colon));
  if (name.empty()) return std::nullopt;
  return std::pair{name, trim(value.substr(colon + 1))};
}

}  // namespace

std::string_view severity_name(Severity severity) {
  const auto index = static_cast<std::size_t>(severity);
  return index < kSeverityNames.size() ? kSeverityNames[index] : "unknown";
}

Result<Severity> parse_severity(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::size_t i = 0; i < kSeverityNames.size(); ++i)
    if (kSeverityNames[i] == lower) return static_cast<Severity>(i);
  return Error{"'" + std::string(text) + "': expected a severity: info, low, medium, high or critical",
               ErrorCode::invalid_argument};
}

std::string Finding::key() const { return engine + "|" + operation + "|" + oracle + "|" + signature; }

std::string Finding::id() const {
  // FNV-1a 64: stable across runs, builds and machines (std::hash is none of these).
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : key()) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  // Fold the high bits in before keeping 40: FNV's top bits mix the last bytes poorly.
  const std::uint64_t folded = (hash ^ (hash >> 40)) & 0xffffffffffULL;
  char text[16];
  std::snprintf(text, sizeof text, "F%010llx", static_cast<unsigned long long>(folded));
  return text;
}

bool FindingLog::add(Finding finding) {
  const std::uint64_t occurrences = std::max<std::uint64_t>(finding.count, 1);
  std::string key = finding.key();
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) {
    findings_[it->second].count += occurrences;
    return false;
  }
  finding.count = occurrences;
  index_.emplace(std::move(key), findings_.size());
  findings_.push_back(std::move(finding));
  return true;
}

bool FindingLog::bump(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) return false;
  ++findings_[it->second].count;
  return true;
}

std::vector<Finding> FindingLog::all() const {
  std::lock_guard lock(mutex_);
  return findings_;
}

std::size_t FindingLog::size() const {
  std::lock_guard lock(mutex_);
  return findings_.size();
}

void FindingLog::update(const Finding& finding) {
  std::string key = finding.key();
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    // Nothing to replace: it is new (a caller that minimized a finding another log holds).
    Finding added = finding;
    added.count = std::max<std::uint64_t>(added.count, 1);
    index_.emplace(std::move(key), findings_.size());
    findings_.push_back(std::move(added));
    return;
  }
  Finding& stored = findings_[it->second];
  // The caller worked on a copy from all(): occurrences counted meanwhile, and when it was first
  // seen, stay as the log has them.
  const std::uint64_t count = std::max(stored.count, finding.count);
  const std::int64_t first_seen = stored.first_seen_ms;
  stored = finding;
  stored.count = count;
  stored.first_seen_ms = first_seen;
}

Status check_trigger(const Trigger& trigger) {
  const auto bad = [&](const std::string& expected) -> Status {
    return Error{"trigger " + trigger.rule + " '" + trigger.value + "': expected " + expected,
                 ErrorCode::invalid_argument};
  };
  const std::string& rule = trigger.rule;
  if (rule == "status_5xx" || rule == "schema_mismatch") return ok_status();
  if (rule == "status_class") return status_class(trigger.value) ? ok_status() : bad("a status class: 2xx ... 5xx");
  if (rule == "status_equals") {
    const auto status = parse_integer(trigger.value);
    return status && *status >= 100 && *status <= 999 ? ok_status() : bad("a status code: 100 ... 999");
  }
  if (rule == "outcome")
    return outcome_named(trigger.value) ? ok_status()
                                        : bad("an outcome: response, timeout, reset, closed, refused, connect_failed "
                                              "or bad_response");
  if (rule == "body_contains" || rule == "header_missing")
    return trigger.value.empty() ? bad("a text that is not empty") : ok_status();
  if (rule == "latency_over") {
    const auto ms = parse_integer(trigger.value);
    return ms && *ms > 0 ? ok_status() : bad("milliseconds, a whole number above 0");
  }
  if (rule == "header_equals") return header_pair(trigger.value) ? ok_status() : bad("'Name: value'");
  return Error{"trigger rule '" + rule +
                   "': expected status_5xx, status_class, status_equals, outcome, body_contains, schema_mismatch, "
                   "latency_over, header_missing or header_equals",
               ErrorCode::invalid_argument};
}

bool reply_triggers(const Trigger& trigger, const Reply& reply, openapi::ResponseChecker* checker,
                    const openapi::Operation* operation) {
  if (!check_trigger(trigger)) return false;
  const std::string& rule = trigger.rule;
  const bool answered = reply.outcome == Outcome::response;
  const net::Response& response = reply.response;

  if (rule == "outcome") return reply.outcome == outcome_named(trigger.value);
  if (rule == "latency_over") {
    // A hang is over any bound below the timeout it ran into.
    if (!answered && reply.outcome != Outcome::timeout) return false;
    return reply.latency_ns > *parse_integer(trigger.value) * 1'000'000;
  }
  if (!answered) return false;
  if (rule == "status_5xx") return response.status >= 500 && response.status <= 599;
  if (rule == "status_class") return response.status / 100 == *status_class(trigger.value);
  if (rule == "status_equals") return response.status == *parse_integer(trigger.value);
  if (rule == "body_contains") return response.body.find(trigger.value) != std::string::npos;
  if (rule == "header_missing") return !response.has_header(trigger.value);
  if (rule == "header_equals") {
    const auto [name, value] = *header_pair(trigger.value);
    return std::any_of(response.headers.begin(), response.headers.end(),
                       [&](const net::Header& h) { return net::iequals(h.name, name) && trim(h.value) == value; });
  }
  if (rule == "schema_mismatch") {
    if (checker == nullptr || operation == nullptr || reply.body_truncated) return false;
    return checker->check(*operation, response.status, response.header("Content-Type"), response.body).has_value();
  }
  return false;
}

}  // namespace chaosplus::fuzz
