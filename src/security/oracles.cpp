#include "security/oracles.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>

namespace chaosplus::security {
namespace {

std::string ms(std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fms", static_cast<double>(ns) / 1e6);
  return buf;
}

std::string ms_list(std::span<const std::int64_t> samples) {
  std::string out;
  for (auto s : samples) out += (out.empty() ? "" : ", ") + ms(s);
  return out;
}

// Removes every occurrence of `sent` (and of its JSON-escaped form) from `body`: an echoed value
// must not count as a difference between two answers.
std::string without(std::string body, std::string_view sent) {
  if (sent.empty()) return body;
  std::string escaped = nlohmann::json(std::string(sent)).dump();
  escaped = escaped.substr(1, escaped.size() - 2);
  for (const std::string& s : {std::string(sent), escaped}) {
    for (auto at = body.find(s); at != std::string::npos; at = body.find(s, at)) body.erase(at, s.size());
  }
  return body;
}

void collect_strings(const nlohmann::json& value, std::vector<std::string>& out) {
  if (out.size() >= 8) return;
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (s.size() >= 6 && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  } else if (value.is_structured()) {
    for (const auto& item : value) collect_strings(item, out);
  }
}

struct SqlSignature {
  std::string_view dbms;
  std::string_view text;  // lower case, matched case-insensitively
};
constexpr std::array kSqlSignatures{
    SqlSignature{"PostgreSQL", "syntax error at or near"},
    SqlSignature{"PostgreSQL", "unterminated quoted string at or near"},
    SqlSignature{"PostgreSQL", "pg::syntaxerror"},
    SqlSignature{"PostgreSQL", "invalid input syntax for"},
    SqlSignature{"MySQL", "you have an error in your sql syntax"},
    SqlSignature{"MySQL", "check the manual that corresponds to your mysql"},
    SqlSignature{"MySQL", "check the manual that corresponds to your mariadb"},
    SqlSignature{"MySQL", "warning: mysql_"},
    SqlSignature{"SQLite", "sqlite_error"},
    SqlSignature{"SQLite", "sqlite3.operationalerror"},
    SqlSignature{"SQLite", "unrecognized token:"},
    SqlSignature{"SQLite", "sqlite error"},
    SqlSignature{"Oracle", "quoted string not properly terminated"},
    SqlSignature{"Oracle", "sql command not properly ended"},
    SqlSignature{"MSSQL", "unclosed quotation mark after the character string"},
    SqlSignature{"MSSQL", "incorrect syntax near"},
    SqlSignature{"MSSQL", "microsoft ole db provider for sql server"},
};

struct TraceSignature {
  std::string_view text;  // lower case
  std::string_view what;
};
constexpr std::array kTraceSignatures{
    TraceSignature{"traceback (most recent call last)", "Python traceback"},
    TraceSignature{"exception in thread \"", "Java exception"},
    TraceSignature{"\tat java.", "Java stack frame"},
    TraceSignature{"\n    at java.", "Java stack frame"},
    TraceSignature{"goroutine 1 [running]", "Go panic"},
    TraceSignature{"panic: runtime error", "Go panic"},
    TraceSignature{"\n    at object.<anonymous>", "Node.js stack frame"},
    TraceSignature{"server error in '/' application", "ASP.NET error page"},
    TraceSignature{"whitelabel error page", "Spring error page"},
    TraceSignature{"werkzeug debugger", "Werkzeug debugger"},
    TraceSignature{"terminate called after throwing", "C++ exception"},
    TraceSignature{"stack trace:", "stack trace"},
};

}  // namespace

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  return lower(haystack).find(lower(needle)) != std::string::npos;
}

std::string media_type(const net::Response& response) {
  std::string type = lower(response.header("Content-Type"));
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  return type;
}

Access classify_access(const fuzz::Reply& reply) {
  if (reply.outcome != fuzz::Outcome::response) {
    return reply.outcome == fuzz::Outcome::bad_response ? Access::other : Access::fail_closed;
  }
  const int s = reply.response.status;
  if (s == 401 || s == 403 || s == 404) return Access::refused;
  if (s >= 200 && s < 300) return Access::allowed;
  if (s == 503 || s == 504) return Access::fail_closed;
  return Access::other;
}

std::string_view access_name(Access access) {
  switch (access) {
    case Access::refused: return "refused";
    case Access::allowed: return "allowed";
    case Access::fail_closed: return "failed closed";
    case Access::other: return "other";
  }
  return "?";
}

RecheckVerdict judge_recheck(const fuzz::Reply& baseline, const fuzz::Reply& now, bool fault_active,
                             const std::vector<std::string>& markers) {
  RecheckVerdict v;
  if (classify_access(baseline) != Access::refused) return v;
  const AuthChange change = fault_active ? AuthChange::fail_open : AuthChange::inconsistent;
  const int was = baseline.response.status;
  switch (classify_access(now)) {
    case Access::allowed:
      v.change = change;
      v.why = std::to_string(now.response.status) + " where the baseline had " + std::to_string(was);
      return v;
    case Access::fail_closed: return v;  // 503/504 or no answer: failing closed is the right thing
    case Access::refused:
    case Access::other:
      for (const std::string& m : markers) {
        if (now.response.body.find(m) != std::string::npos && baseline.response.body.find(m) == std::string::npos) {
          v.change = change;
          v.marker = m;
          v.why = std::to_string(now.response.status) + " with the resource's data ('" + m +
                  "') where the baseline had " + std::to_string(was) + " without it";
          return v;
        }
      }
      return v;
  }
  return v;
}

std::vector<std::string> resource_markers(std::string_view owner_body) {
  std::vector<std::string> out;
  auto json = nlohmann::json::parse(owner_body, nullptr, false);
  if (!json.is_discarded()) collect_strings(json, out);
  return out;
}

std::int64_t median_ns(std::span<const std::int64_t> samples) {
  if (samples.empty()) return 0;
  std::vector<std::int64_t> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

TimingVerdict judge_timing(std::span<const std::int64_t> baseline_ns, std::span<const std::int64_t> attack_ns,
                           std::span<const std::int64_t> control_ns, std::int64_t delay_ns) {
  TimingVerdict v;
  const std::int64_t median = median_ns(baseline_ns);
  v.evidence = "baseline median " + ms(median) + " (" + std::to_string(baseline_ns.size()) +
               " samples); with the delay " + ms_list(attack_ns) + "; control without it " + ms_list(control_ns) +
               " (delay " + ms(delay_ns) + ")";
  if (baseline_ns.empty() || attack_ns.size() < 2 || control_ns.empty() || delay_ns <= 0) return v;
  const std::int64_t slow_from = median + delay_ns * 95 / 100;
  const std::int64_t fast_below = median + delay_ns / 2;
  const bool slow = std::all_of(attack_ns.begin(), attack_ns.end(), [&](auto s) { return s >= slow_from; });
  const bool fast = std::all_of(control_ns.begin(), control_ns.end(), [&](auto s) { return s < fast_below; });
  v.confirmed = slow && fast;
  return v;
}

bool similar(const fuzz::Reply& a, std::string_view a_sent, const fuzz::Reply& b, std::string_view b_sent) {
  if (a.outcome != b.outcome) return false;
  if (a.outcome != fuzz::Outcome::response) return true;
  if (a.response.status != b.response.status) return false;
  const std::string x = without(a.response.body, a_sent);
  const std::string y = without(b.response.body, b_sent);
  if (x == y) return true;
  // Long pages may carry a timestamp or a request id; short bodies must be equal.
  const auto shorter = static_cast<double>(std::min(x.size(), y.size()));
  const auto diff = static_cast<double>(x.size() > y.size() ? x.size() - y.size() : y.size() - x.size());
  return shorter >= 256 && diff <= shorter * 0.05;
}

bool judge_boolean(std::span<const BooleanRound> rounds, std::string_view original_value, std::string_view alike_value,
                   std::string_view differ_value) {
  if (rounds.size() < 2) return false;
  for (const BooleanRound& r : rounds) {
    // The answers of each round must be real answers: an error or a timeout says nothing.
    for (const auto* reply : {&r.original, &r.alike, &r.differ}) {
      if (reply->outcome != fuzz::Outcome::response || reply->response.status >= 500) return false;
    }
    if (!similar(r.original, original_value, r.alike, alike_value)) return false;
    if (similar(r.alike, alike_value, r.differ, differ_value)) return false;
  }
  return true;
}

std::optional<SqlError> find_sql_error(std::string_view body) {
  const std::string raw(body.substr(0, 1 << 16));
  const std::string text = lower(raw);
  for (const SqlSignature& s : kSqlSignatures) {
    if (const auto at = text.find(s.text); at != std::string::npos) {
      return SqlError{std::string(s.dbms) + ": " + std::string(s.text), raw.substr(at, s.text.size())};
    }
  }
  // Oracle error codes and SQLite's 'near "x": syntax error' (its quotes escaped in a JSON body).
  static const std::regex oracle(R"(ORA-0[0-9]{4})");
  static const std::regex sqlite(R"re(near \\?"[^"]{0,80}": syntax error)re");
  std::smatch m;
  if (std::regex_search(raw, m, oracle)) return SqlError{"Oracle: " + m.str(), m.str()};
  if (std::regex_search(raw, m, sqlite)) return SqlError{"SQLite: near \"...\": syntax error", m.str()};
  return std::nullopt;
}

bool shows_passwd(std::string_view body) { return body.find("root:x:0:0:") != std::string_view::npos; }

bool shows_template_result(std::string_view body, std::string_view payload, std::string_view baseline_body) {
  return body.find(kTemplateResult) != std::string_view::npos && body.find(payload) == std::string_view::npos &&
         baseline_body.find(kTemplateResult) == std::string_view::npos;
}

bool reflects_markup(const net::Response& response) {
  const std::string type = media_type(response);
  return (type == "text/html" || type == "application/xhtml+xml") &&
         response.body.find(kMarkupMarker) != std::string::npos;
}

std::vector<std::string> missing_security_headers(const net::Response& response, bool https, bool authenticated) {
  std::vector<std::string> out;
  const std::string type = media_type(response);
  const bool html = type == "text/html" || type == "application/xhtml+xml";
  const bool json = type == "application/json" || type.ends_with("+json");
  if ((html || json) && !icontains(response.header("X-Content-Type-Options"), "nosniff")) {
    out.emplace_back("X-Content-Type-Options");
  }
  if (html) {
    const std::string_view csp = response.header("Content-Security-Policy");
    if (csp.empty()) out.emplace_back("Content-Security-Policy");
    if (!response.has_header("X-Frame-Options") && !icontains(csp, "frame-ancestors")) {
      out.emplace_back("X-Frame-Options");
    }
  }
  if (https && !response.has_header("Strict-Transport-Security")) out.emplace_back("Strict-Transport-Security");
  if (authenticated && response.status >= 200 && response.status < 300) {
    const std::string_view cc = response.header("Cache-Control");
    if (!icontains(cc, "no-store") && !icontains(cc, "private") && !icontains(cc, "no-cache")) {
      out.emplace_back("Cache-Control");
    }
  }
  return out;
}

std::optional<CorsProblem> judge_cors(const net::Response& response, std::string_view origin_sent) {
  const std::string_view allow = response.header("Access-Control-Allow-Origin");
  if (allow.empty()) return std::nullopt;
  const bool credentials = net::iequals(response.header("Access-Control-Allow-Credentials"), "true");
  const std::string evidence = "Origin: " + std::string(origin_sent) +
                               " answered with Access-Control-Allow-Origin: " + std::string(allow) +
                               (credentials ? " and Access-Control-Allow-Credentials: true" : "");
  if (allow == "*") {
    if (!credentials) return std::nullopt;  // a public API may be readable from anywhere
    return CorsProblem{fuzz::Severity::medium, "wildcard origin with credentials", evidence};
  }
  if (allow != origin_sent) return std::nullopt;
  if (origin_sent == "null") {
    return CorsProblem{credentials ? fuzz::Severity::high : fuzz::Severity::medium,
                       credentials ? "null origin allowed with credentials" : "null origin allowed", evidence};
  }
  return CorsProblem{credentials ? fuzz::Severity::high : fuzz::Severity::medium,
                     credentials ? "reflects any origin with credentials" : "reflects any origin", evidence};
}

std::vector<Banner> banners(const net::Response& response) {
  std::vector<Banner> out;
  const auto has_digit = [](std::string_view v) {
    return std::any_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  };
  if (const std::string_view server = response.header("Server"); !server.empty() && has_digit(server)) {
    out.push_back({fuzz::Severity::low, "Server: " + std::string(server), "Server", std::string(server)});
  }
  for (std::string_view name : {"X-Powered-By", "X-AspNet-Version", "X-AspNetMvc-Version"}) {
    if (const std::string_view v = response.header(name); !v.empty()) {
      out.push_back({has_digit(v) ? fuzz::Severity::low : fuzz::Severity::info,
                     std::string(name) + ": " + std::string(v), std::string(name), std::string(v)});
    }
  }
  const std::string body = lower(std::string_view(response.body).substr(0, 1 << 16));
  for (const TraceSignature& t : kTraceSignatures) {
    if (const auto at = body.find(t.text); at != std::string::npos) {
      out.push_back({fuzz::Severity::low, "verbose error: " + std::string(t.what), "",
                     response.body.substr(at, t.text.size()), true});
      break;
    }
  }
  return out;
}

}  // namespace chaosplus::security
