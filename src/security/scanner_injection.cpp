// The injection, header and CORS parts of the scanner (scanner.h); the auth part is scanner.cpp.
#include <cstdio>

#include "security/oracles.h"
#include "security/scanner.h"
#include "security/tls_probe.h"

namespace chaosplus::security {
namespace {

std::string short_excerpt(const fuzz::Reply& reply) {
  if (reply.outcome != fuzz::Outcome::response) return std::string(fuzz::outcome_name(reply.outcome));
  std::string body = reply.response.body.substr(0, 100);
  for (char& c : body) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return std::to_string(reply.response.status) + (body.empty() ? "" : " " + body);
}

// Payloads that make the target wait `seconds` when it runs them, with a control that waits 0.
struct TimedPayload {
  std::string_view oracle;         // sql_injection, command_injection
  std::string_view name;           // for the signature
  std::string_view before, after;  // around the number of seconds
};
constexpr TimedPayload kTimed[] = {
    {"sql_injection", "MySQL SLEEP", "' OR SLEEP(", ")-- -"},
    {"sql_injection", "PostgreSQL pg_sleep", "'||pg_sleep(", ")--"},
    {"command_injection", "; sleep", "; sleep ", ""},
    {"command_injection", "| sleep", "| sleep ", ""},
    {"command_injection", "$(sleep)", "$(sleep ", ")"},
    {"command_injection", "`sleep`", "`sleep ", "`"},
};

constexpr std::string_view kTraversal[] = {
    "../../../../../../../../etc/passwd",
    "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "....//....//....//....//....//....//....//etc/passwd",
    "/etc/passwd",
};

constexpr std::string_view kTemplates[] = {"{{7*191}}", "${7*191}", "<%= 7*191 %>", "#{7*191}"};

bool is_success(const fuzz::Reply& r) {
  return r.outcome == fuzz::Outcome::response && r.response.status >= 200 && r.response.status < 300;
}

}  // namespace

void Scanner::passive(const fuzz::Reply& reply, const std::string& bytes, const fuzz::RequestCase& request,
                      bool authenticated) {
  if (!options_.checks.contains("headers") || reply.outcome != fuzz::Outcome::response) return;
  fuzz::RequestCase sent = request;
  sent.raw = bytes;  // the exact request that showed it
  const bool https = options_.base.scheme == "https";
  for (const std::string& header : missing_security_headers(reply.response, https, authenticated)) {
    fuzz::Finding f;
    f.oracle = "missing_security_header";
    f.signature = header;
    f.severity = fuzz::Severity::low;
    f.title = "responses lack " + header;
    f.evidence = request.method + " " + request_target(bytes) + " answered " + std::to_string(reply.response.status) +
                 " " + std::string(reply.response.header("Content-Type")) + " without " + header +
                 (header == "Cache-Control" ? " (no-store, no-cache or private)" : "");
    f.trigger = {"header_missing", header};
    f.raw_request = bytes;
    report(std::move(f), sent, {}, context_.active_faults());
  }
  for (const Banner& b : banners(reply.response)) {
    fuzz::Finding f;
    f.oracle = "banner";
    f.signature = b.signature;
    f.severity = b.severity;
    f.title =
        b.stack_trace ? "an error page shows internals (" + b.signature + ")" : "responses announce " + b.signature;
    f.evidence = request.method + " " + request_target(bytes) + " answered " + short_excerpt(reply);
    f.wfc = b.stack_trace ? "309" : "";
    f.trigger = b.header.empty() ? fuzz::Trigger{"body_contains", b.value}
                                 : fuzz::Trigger{"header_equals", b.header + ": " + b.value};
    f.raw_request = bytes;
    if (b.stack_trace) f.operation = request.operation_id;
    report(std::move(f), sent, {}, context_.active_faults());
  }
}

void Scanner::scan_headers() {
  if (!options_.checks.contains("headers")) return;
  int tried = 0;
  for (const openapi::Operation& op : document_.operations) {
    if (op.method != "GET" || tried >= 3 || stopped()) continue;
    std::vector<std::string> setup;
    bool owned = false;
    const fuzz::RequestCase base = prepare(op, setup, owned);
    const Headers credentials = needs_credentials(op) ? owner_credentials() : Headers{};
    ++tried;
    for (std::string_view origin : {"https://evil.example", "null"}) {
      fuzz::RequestCase c = base;
      c.headers.emplace_back("Origin", std::string(origin));
      Sent sent = send_case(c, credentials, !credentials.empty());
      if (sent.reply.outcome != fuzz::Outcome::response) continue;
      auto problem = judge_cors(sent.reply.response, origin);
      if (!problem) continue;
      fuzz::Finding f;
      f.oracle = "cors_misconfiguration";
      f.signature = problem->signature;
      f.severity = problem->severity;
      f.title = "CORS " + problem->signature;
      f.evidence = op.method + " " + op.path + ": " + problem->evidence;
      f.trigger = {"header_equals", "Access-Control-Allow-Origin: " +
                                        std::string(sent.reply.response.header("Access-Control-Allow-Origin"))};
      f.setup_requests = setup;
      report(std::move(f), c, credentials, sent.faults);
    }
  }
}

void Scanner::scan_injection() {
  if (!options_.checks.contains("injection")) return;
  for (const openapi::Operation& op : document_.operations) {
    if (stopped()) return;
    inject(op);
  }
}

void Scanner::inject(const openapi::Operation& op) {
  std::vector<std::string> setup;
  bool owned = false;
  const fuzz::RequestCase valid = prepare(op, setup, owned);
  const std::vector<Input> inputs = injectable_inputs(op, valid);
  if (inputs.empty()) return;
  const Headers credentials = needs_credentials(op) ? owner_credentials() : Headers{};
  const bool authenticated = !credentials.empty();
  const Sent baseline = send_case(valid, credentials, authenticated);
  if (baseline.reply.outcome != fuzz::Outcome::response) return;
  const std::string& baseline_body = baseline.reply.response.body;
  const auto sql_in_baseline = find_sql_error(baseline_body).has_value();

  // Time checks compare with a baseline taken in the same fault state, and only with no fault
  // active: an injected latency would make every request look like a sleep (docs/security.md).
  std::vector<std::int64_t> baseline_ns;
  const bool timing = baseline.faults.empty() && options_.delay.count() > 0;
  if (timing) {
    baseline_ns.push_back(baseline.reply.latency_ns);
    for (int i = 0; i < 2 && !stopped(); ++i)
      baseline_ns.push_back(send_case(valid, credentials, authenticated).reply.latency_ns);
  }
  const std::int64_t delay_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.delay).count();
  const long long delay_s = std::max<long long>(1, delay_ns / 1'000'000'000);

  auto finding = [&](std::string oracle, const Input& in, std::string technique, fuzz::Severity severity,
                     std::string wfc, fuzz::Trigger trigger, std::string evidence, const fuzz::RequestCase& c,
                     const std::vector<std::string>& faults) {
    fuzz::Finding f;
    f.oracle = std::move(oracle);
    f.operation = op.id;
    f.signature = std::string(where_name(in.where)) + "." + in.name + ": " + technique;
    f.severity = severity;
    f.title = op.method + " " + op.path + ": " + f.oracle + " in " + std::string(where_name(in.where)) + " " + in.name +
              " (" + technique + ")";
    f.evidence = std::move(evidence);
    f.wfc = std::move(wfc);
    f.trigger = std::move(trigger);
    f.setup_requests = setup;
    report(std::move(f), c, credentials, faults);
  };

  for (const Input& in : inputs) {
    if (stopped()) return;
    auto attack = [&](const std::string& value) {
      fuzz::RequestCase c = with_input(valid, in, value);
      Sent s = send_case(c, credentials, authenticated);
      return std::pair{std::move(c), std::move(s)};
    };
    bool sql_found = false;
    // SQL: an error message that the quote alone brings.
    for (std::string_view quote : {"'", "\""}) {
      if (sql_found || stopped()) break;
      auto [c, s] = attack(in.original + std::string(quote));
      if (s.reply.outcome != fuzz::Outcome::response || sql_in_baseline) continue;
      if (auto e = find_sql_error(s.reply.response.body)) {
        sql_found = true;
        finding("sql_injection", in, "error " + e->signature, fuzz::Severity::high, "300", {"body_contains", e->text},
                "a " + std::string(quote) + " in the value brings a SQL error the plain request does not: " +
                    short_excerpt(s.reply) + " (plain: " + short_excerpt(baseline.reply) + ")",
                c, s.faults);
      }
    }
    // SQL: a condition that holds leaves the answer as it was; one that fails changes it.
    struct Pair {
      std::string alike, differ;
      bool reproduce_with_differ;  // OR '1'='1 shows more than the plain value
    };
    const Pair pairs[] = {{in.original + "' AND '1'='1", in.original + "' AND '1'='2", false},
                          {in.original + "' OR '1'='2", in.original + "' OR '1'='1", true}};
    for (const Pair& pair : pairs) {
      if (sql_found || stopped()) break;
      std::vector<BooleanRound> rounds;
      fuzz::RequestCase alike_case, differ_case;
      std::vector<std::string> faults;
      for (int round = 0; round < 2 && !stopped(); ++round) {
        BooleanRound r;
        r.original = round == 0 ? baseline.reply : send_case(valid, credentials, authenticated).reply;
        auto [ac, as] = attack(pair.alike);
        auto [dc, ds] = attack(pair.differ);
        r.alike = as.reply;
        r.differ = ds.reply;
        alike_case = ac;
        differ_case = dc;
        faults = ds.faults;
        rounds.push_back(std::move(r));
        if (!judge_boolean(rounds, in.original, pair.alike, pair.differ) && round == 0 &&
            similar(rounds[0].alike, pair.alike, rounds[0].differ, pair.differ)) {
          break;  // nothing differs: no second round needed
        }
      }
      if (!judge_boolean(rounds, in.original, pair.alike, pair.differ)) continue;
      // The reproducer: the request whose answer holds data the other lacks.
      const BooleanRound& last = rounds.back();
      const fuzz::Reply& shows = pair.reproduce_with_differ ? last.differ : last.alike;
      const fuzz::Reply& lacks = pair.reproduce_with_differ ? last.original : last.differ;
      fuzz::Trigger trigger{"status_equals", std::to_string(shows.response.status)};
      for (const std::string& m : resource_markers(shows.response.body)) {
        if (lacks.response.body.find(m) == std::string::npos) {
          trigger = {"body_contains", m};
          break;
        }
      }
      sql_found = true;
      finding("sql_injection", in, "boolean differential", fuzz::Severity::high, "300", trigger,
              "twice: '" + pair.alike + "' answers like the plain value (" + short_excerpt(last.alike) + "), '" +
                  pair.differ + "' differently (" + short_excerpt(last.differ) + ")",
              pair.reproduce_with_differ ? differ_case : alike_case, faults);
    }
    // SQL and OS commands: a payload that sleeps, confirmed twice, and the same without the sleep stays fast.
    if (timing && !context_.any_fault_active()) {
      const std::int64_t median = median_ns(baseline_ns);
      for (const TimedPayload& t : kTimed) {
        if (stopped()) break;
        if (sql_found && t.oracle == "sql_injection") continue;
        const std::string slow = in.original + std::string(t.before) + std::to_string(delay_s) + std::string(t.after);
        const std::string control = in.original + std::string(t.before) + "0" + std::string(t.after);
        auto [c, first] = attack(slow);
        if (first.reply.latency_ns < median + delay_s * 950'000'000LL) continue;
        auto [c2, second] = attack(slow);
        auto [cc, fast] = attack(control);
        if (!first.faults.empty() || !second.faults.empty() || !fast.faults.empty()) continue;
        const std::vector<std::int64_t> attacks{first.reply.latency_ns, second.reply.latency_ns};
        const std::vector<std::int64_t> controls{fast.reply.latency_ns};
        const TimingVerdict v = judge_timing(baseline_ns, attacks, controls, delay_s * 1'000'000'000LL);
        if (!v.confirmed) continue;
        if (t.oracle == "sql_injection") sql_found = true;
        char over[32];
        std::snprintf(over, sizeof over, "%lld",
                      static_cast<long long>((median + delay_s * 900'000'000LL) / 1'000'000));
        finding(std::string(t.oracle), in, "time " + std::string(t.name),
                t.oracle == "sql_injection" ? fuzz::Severity::high : fuzz::Severity::critical,
                t.oracle == "sql_injection" ? "300" : "", {"latency_over", over}, v.evidence, c, {});
        if (t.oracle == "command_injection") break;
      }
    }
    // Path traversal: the answer holds /etc/passwd.
    if (!shows_passwd(baseline_body)) {
      for (std::string_view payload : kTraversal) {
        if (stopped()) break;
        auto [c, s] = attack(std::string(payload));
        if (s.reply.outcome != fuzz::Outcome::response || !shows_passwd(s.reply.response.body)) continue;
        finding("path_traversal", in, std::string(payload), fuzz::Severity::high, "", {"body_contains", "root:x:0:0:"},
                "the answer holds /etc/passwd: " + short_excerpt(s.reply), c, s.faults);
        break;
      }
    }
    // Templates: 7*191 evaluated.
    for (std::string_view payload : kTemplates) {
      if (stopped()) break;
      auto [c, s] = attack(in.original + std::string(payload));
      if (s.reply.outcome != fuzz::Outcome::response ||
          !shows_template_result(s.reply.response.body, payload, baseline_body))
        continue;
      finding("template_injection", in, std::string(payload), fuzz::Severity::high, "",
              {"body_contains", std::string(kTemplateResult)},
              "'" + std::string(payload) + "' came back evaluated as 1337: " + short_excerpt(s.reply), c, s.faults);
      break;
    }
    // Markup sent back unescaped in HTML.
    if (!stopped()) {
      auto [c, s] = attack(in.original + std::string(kMarkupMarker));
      if (s.reply.outcome == fuzz::Outcome::response && reflects_markup(s.reply.response)) {
        finding("reflected_markup", in, "unescaped marker", fuzz::Severity::medium, "301",
                {"body_contains", std::string(kMarkupMarker)},
                "the marker " + std::string(kMarkupMarker) + " came back unescaped in " + media_type(s.reply.response) +
                    (is_success(s.reply) ? "" : " (an error page)"),
                c, s.faults);
      }
    }
  }
}

}  // namespace chaosplus::security

namespace chaosplus::security {

void Scanner::scan_tls() {
  if (!options_.checks.contains("tls") || options_.base.scheme != "https" || stopped()) return;
  const TlsProbeResult result = probe_tls(options_.base.host, options_.base.port, options_.timeout);
  requests_ += result.accepted.size();
  for (const TlsWeakness& w : result.weaknesses) {
    fuzz::Finding f;
    f.oracle = "weak_tls";
    f.signature = w.signature;
    f.severity = fuzz::Severity::medium;
    f.title = options_.base.authority() + " " + w.signature;
    // A replay re-sends HTTP, which cannot tell the protocol version: the evidence is the handshake.
    f.evidence = w.evidence + " (found by a handshake restricted to it; replay with openssl s_client)";
    fuzz::RequestCase root;
    root.method = "GET";
    root.path = "/";
    // No Trigger rule can see it (f.trigger stays empty): `chaosplus replay` cannot confirm it.
    report(std::move(f), root, {}, context_.active_faults());
  }
}

}  // namespace chaosplus::security
