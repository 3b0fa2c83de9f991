#pragma once
// The security probes' decisions, kept apart from sending so that each rule is a pure function of
// what was seen: a probe's answer in the baseline against its answer now (fail-open), timing
// samples (time-based injection), response pairs (boolean SQL injection), and single responses
// (error signatures, a read /etc/passwd, evaluated templates, reflected markup, security headers,
// CORS, banners). docs/security.md lists them with their evidence rules.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/exchange.h"
#include "fuzz/finding.h"
#include "net/http_message.h"

namespace chaosplus::security {

// How a protected operation answered a request that should have been refused.
enum class Access : std::uint8_t {
  refused,      // 401, 403 or 404: what the baseline expects
  allowed,      // 2xx
  fail_closed,  // 503 or 504, or no answer at all (timeout, reset, refused): the dependency is down and it said so
  other,        // anything else (400, 405, 3xx, 500...): neither refused nor open
};
Access classify_access(const fuzz::Reply& reply);
std::string_view access_name(Access access);

// What a refused probe answering again means.
enum class AuthChange : std::uint8_t {
  none,          // still refused, failed closed, or not comparable
  fail_open,     // refused in the baseline, allowed (or leaking the resource) now, while a fault is on
  inconsistent,  // the same, with no fault on
};
struct RecheckVerdict {
  AuthChange change = AuthChange::none;
  std::string why;     // "200 where the baseline had 401"
  std::string marker;  // the resource data the answer leaked, when that (not the status) is the evidence
};
// `baseline` is the probe's answer while no fault was active; only a refusal there is compared.
// `markers` are values of the resource as its owner sees it (resource_markers); an answer that is
// not 2xx but holds one the baseline's refusal did not is a leak as well.
RecheckVerdict judge_recheck(const fuzz::Reply& baseline, const fuzz::Reply& now, bool fault_active,
                             const std::vector<std::string>& markers);

// Distinctive values of a resource (string leaves of a JSON body of at least 6 characters, at most
// 8 of them): what a leaked body would contain.
std::vector<std::string> resource_markers(std::string_view owner_body);

// Time-based injection. `baseline_ns`: the unmodified request's latencies (measured in the same
// fault state); `attack_ns`: the payload with the delay, each of which must exceed the baseline's
// median by at least 95% of `delay_ns` (timer slack); at least two of them. `control_ns`: the same
// payload without the delay, each of which must stay under the median plus half the delay.
struct TimingVerdict {
  bool confirmed = false;
  std::string evidence;  // "baseline median 3ms; with the delay 2004ms, 2003ms; control 3ms (delay 2000ms)"
};
TimingVerdict judge_timing(std::span<const std::int64_t> baseline_ns, std::span<const std::int64_t> attack_ns,
                           std::span<const std::int64_t> control_ns, std::int64_t delay_ns);
std::int64_t median_ns(std::span<const std::int64_t> samples);

// Two answers that tell the same thing: same status, and the same body once the value sent (`a_sent`,
// `b_sent`, which a body may echo) is taken out; bodies of 256 bytes and more may differ in length
// by 5% (a timestamp, a request id).
bool similar(const fuzz::Reply& a, std::string_view a_sent, const fuzz::Reply& b, std::string_view b_sent);

// Boolean SQL injection: the plain value (`original`), a payload whose condition leaves the query as
// it was (`alike`: x' AND '1'='1, or x' OR '1'='2) and one that changes it (`differ`: x' AND
// '1'='2, or x' OR '1'='1), sent in rounds. Confirmed when in every round (at least two) `alike`
// answers like the original and `differ` unlike `alike`, all without a server error.
struct BooleanRound {
  fuzz::Reply original, alike, differ;
};
bool judge_boolean(std::span<const BooleanRound> rounds, std::string_view original_value, std::string_view alike_value,
                   std::string_view differ_value);

// A SQL error message in a body: the DBMS and the signature ("PostgreSQL: syntax error at or near"),
// and the text as the body writes it (what a replay looks for).
struct SqlError {
  std::string signature;
  std::string text;
};
std::optional<SqlError> find_sql_error(std::string_view body);
// A read /etc/passwd.
bool shows_passwd(std::string_view body);
// The template payloads compute 7*191: "1337" in the answer, the payload itself not, the baseline not.
inline constexpr std::string_view kTemplateResult = "1337";
bool shows_template_result(std::string_view body, std::string_view payload, std::string_view baseline_body);
// The marker sent back unescaped in an HTML answer.
inline constexpr std::string_view kMarkupMarker = "<cpx91a7>";
bool reflects_markup(const net::Response& response);

// Security headers a response lacks: X-Content-Type-Options (HTML and JSON), Content-Security-Policy
// and X-Frame-Options or frame-ancestors (HTML), Strict-Transport-Security (https), Cache-Control
// with no-store, no-cache or private (2xx to a request with credentials). Names as the header is written.
std::vector<std::string> missing_security_headers(const net::Response& response, bool https, bool authenticated);

// CORS: the answer to a request with `Origin: origin_sent`.
struct CorsProblem {
  fuzz::Severity severity = fuzz::Severity::medium;
  std::string signature;  // "reflects any origin with credentials"
  std::string evidence;
};
std::optional<CorsProblem> judge_cors(const net::Response& response, std::string_view origin_sent);

// Banners and verbose errors: Server with a version, X-Powered-By, X-AspNet-Version; stack traces
// and debug pages in a body.
struct Banner {
  fuzz::Severity severity = fuzz::Severity::info;
  std::string signature;  // "Server: nginx/1.25.3", "stack trace: Traceback (most recent call last)"
  std::string header;     // the header that shows it ("" for a body)
  std::string value;      // the header's value, or the matched text of the body
  bool stack_trace = false;
};
std::vector<Banner> banners(const net::Response& response);

std::string lower(std::string_view text);
bool icontains(std::string_view haystack, std::string_view needle);
// The media type without parameters, lower case: "text/html".
std::string media_type(const net::Response& response);

}  // namespace chaosplus::security
