#pragma once
// What the fuzzer and the security probes report: a finding, deduplicated by (engine, operation,
// oracle, signature) so a count means unique problems, not raw 5xx; each with the minimized request
// that still triggers it (bytes and a curl command), the test that says whether a reply still shows
// it (`Trigger`, what `chaosplus replay` re-runs), and the chaos context it was found in: the phase
// and the faults active at that moment, and whether it also happens with no fault active.
// Shared by fuzz/ and security/; the writers (JSON findings file, SARIF 2.1.0, journal events) are
// in fuzz/finding_output.h.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/exchange.h"
#include "fuzz/request_case.h"

namespace chaosplus::fuzz {

enum class Severity : std::uint8_t { info, low, medium, high, critical };
std::string_view severity_name(Severity severity);  // "info" ... "critical"
Result<Severity> parse_severity(std::string_view text);

// What a reply must show for the finding to count as reproduced. One rule per finding:
//   status_5xx                   status 500-599
//   status_class   value "2xx"   a status in that class ("2xx", "3xx", "4xx")
//   status_equals  value "200"
//   outcome        value "timeout" | "reset" | "closed" | "refused" | "bad_response"
//   body_contains  value text    the body holds the text (a leaked stack frame, a reflected marker, 49 for {{7*7}})
//   schema_mismatch              the reply does not match the documented responses (needs the document)
//   latency_over   value "ms"    the answer took longer (time-based injection; compared to the baseline)
//   header_missing value name    a response lacks the header (security headers)
//   header_equals  value "name: value"   a response has the header with that value (CORS, banners)
struct Trigger {
  std::string rule;
  std::string value;
};
// Ok when the rule is one of the above and its value has the form the rule needs; otherwise what
// is wrong ("trigger status_class '2x': expected a status class: 2xx ... 5xx").
Status check_trigger(const Trigger& trigger);

// A value a setup request's answer gives that the later requests must use: the id a create made is
// new at each replay, so the recorded one (`placeholder`, as it appears in a request's path) is
// replaced by the one read from setup request `setup_index`'s reply. `source` says where:
//   "header:Location"   the Location path matched against `path_template` (its tail: a base path may
//                        come first), the value of its parameter `param`
//   "body:<pointer>"    the JSON pointer in the JSON body ("body:/id", "body:/data/0/id")
// Replay replaces the placeholder in the later setup requests and the finding's request: a path
// segment equal to it (percent-encoded as sent).
struct Binding {
  std::size_t setup_index = 0;
  std::string source;
  std::string path_template;  // header:Location only
  std::string param;          // header:Location only
  std::string placeholder;
};

struct Finding {
  std::string engine;     // "fuzz" or "security"
  std::string oracle;     // "server_error", "timeout", "fail_open", "sql_injection"... (docs/fuzz.md lists them)
  std::string operation;  // operation id; "" for target-wide findings (headers, TLS)
  std::string signature;  // what tells two problems of one oracle and operation apart: "500 + ZeroDivision at shop.cpp"
  Severity severity = Severity::medium;
  std::string title;     // one line for people: "GET /orders/{id} answers 500 to id=-1"
  std::string evidence;  // what was seen: status, excerpt of the body, timings
  std::string wfc;       // WebFuzzing Commons fault code when one fits ("100", "309"), else ""
  Trigger trigger;

  RequestCase request;      // the minimized request
  std::string raw_request;  // its bytes, as sent
  std::string curl;
  std::size_t original_bytes = 0;  // size of the request as first found (the minimized one is no larger)
  // Earlier requests the reproducer needs, in order (create before use-after-delete); their bytes.
  std::vector<std::string> setup_requests;
  std::vector<Binding> bindings;  // values the setup answers give (none: the requests are replayed as recorded)

  std::string base_url;                    // where it was found
  std::string phase;                       // "" outside a run
  std::vector<std::string> active_faults;  // fault summaries active when it was first seen
  std::optional<bool> without_faults;      // re-checked with no fault active: still there? (unset: not checked)
  std::uint64_t count = 0;                 // raw occurrences folded into it
  std::int64_t first_seen_ms = 0;          // ms since the engine started

  std::string key() const;  // engine|operation|oracle|signature
  std::string id() const;   // "F" + 10 hex digits of a hash of key(): stable across runs
};

// Deduplicates: the first occurrence of a key is kept (and may be minimized later), the others are counted.
class FindingLog {
 public:
  // True when it is new; otherwise its count is bumped. A finding's `count` is how many occurrences
  // it stands for (0 counts as 1).
  bool add(Finding finding);
  // When a finding of this key is known, bumps its count and answers true: a caller can count a
  // repeat without building the full finding (its reproducer, curl, raw bytes) first.
  bool bump(const std::string& key);
  std::vector<Finding> all() const;  // in first-seen order
  std::size_t size() const;
  // Replaces the stored finding of the same key (after minimization or the no-fault re-check),
  // keeping the log's count (the larger of the two) and first_seen_ms; adds it when the key is new.
  void update(const Finding& finding);

 private:
  mutable std::mutex mutex_;
  std::vector<Finding> findings_;
  std::map<std::string, std::size_t> index_;
};

// Does this reply show the finding? `checker` and `operation` are needed for schema_mismatch
// (nullptr: that rule cannot be checked and answers false; so does a body the sender cut short).
// latency_over also holds for a timeout; every other rule needs a response. A trigger that
// check_trigger refuses answers false.
bool reply_triggers(const Trigger& trigger, const Reply& reply, openapi::ResponseChecker* checker = nullptr,
                    const openapi::Operation* operation = nullptr);

}  // namespace chaosplus::fuzz
