#pragma once
// The fuzzer's oracles: what makes one request and its reply a finding. Each verdict says which
// oracle, how severe, a signature built so that repeats of one problem collapse into one finding
// (digits, hex and ids masked), and the Trigger `chaosplus replay` re-checks. Stateless but for the
// schema checker's cache; the engine stamps the verdicts with the request and the chaos context.
//
// Oracles (docs/fuzz.md has the table):
//   server_error          5xx; high. 503/504 while a fault is active is expected degradation, not a finding
//   timeout               no answer within the timeout; high (not while a fault is active)
//   connection_reset      reset before a complete answer; high
//   closed_without_response  closed cleanly without an answer; high
//   malformed_response    bytes that are not an HTTP/1.1 response; medium
//   error_leak            an error body leaks internals (stack trace, SQL error, file path, version); medium
//   schema_mismatch       the body does not match the documented schema; medium
//   status_undocumented   a status the operation does not document; low
//   content_type_mismatch a content type the operation does not document; low
//   accepted_invalid      a generated negative case answered 2xx; low
// (use_after_delete, double_delete, target_died and memory_growth come from the engine's stateful
// and target watches: fuzz/engine.h.)
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/exchange.h"
#include "fuzz/finding.h"
#include "fuzz/request_case.h"
#include "openapi/document.h"

namespace chaosplus::fuzz {

// What one oracle concluded; the engine turns it into a Finding.
struct Verdict {
  std::string oracle;
  Severity severity = Severity::medium;
  std::string signature;
  std::string title;
  std::string evidence;
  std::string wfc;
  Trigger trigger;
};

// A leaked internal found in a body: what kind ("python traceback", "postgresql error", "file
// path", "version banner") and the exact text that shows it (what a replay looks for).
struct Leak {
  std::string kind;
  std::string marker;
};
// The first leak in `body` that does not also appear in `request` (an echo of the input is not a leak).
std::optional<Leak> find_leak(std::string_view body, std::string_view request = {});

// A line of a body, normalized for a signature: the message of a JSON error body ("error",
// "message", "detail", "title") or the first non-empty line of text with HTML tags removed, every
// word holding a digit masked as '#', at most 80 characters. "division by zero at shop.cpp:12
// (order 41)" -> "division by zero at shop.cpp:# (order #)".
std::string normalize_message(std::string_view body);
// Masks the words of `text` that hold a digit ("/items/3/price" -> "/items/#/price").
std::string mask_digits(std::string_view text);

struct OracleInput {
  const openapi::Operation* operation = nullptr;  // null for raw protocol requests
  const RequestCase* request = nullptr;
  std::string_view bytes;  // the request as sent
  const Reply* reply = nullptr;
  bool fault_active = false;
  bool raw = false;  // a raw protocol mutation: closing or waiting on it is allowed
  // The request is certainly invalid (a generated negative case): a 2xx to it is accepted_invalid.
  bool claims_invalid = false;
};

class Oracles {
 public:
  // `document` may be null (no schema checks); it must outlive the oracles.
  explicit Oracles(const openapi::Document* document);
  ~Oracles();
  Oracles(const Oracles&) = delete;
  Oracles& operator=(const Oracles&) = delete;

  // Every verdict on one reply (none for most). Replies of outcome `refused` are the target
  // watch's business and give none here.
  std::vector<Verdict> judge(const OracleInput& input);
  // The schema checker (for reply_triggers on schema findings); null without a document.
  openapi::ResponseChecker* checker() { return checker_.get(); }

 private:
  std::unique_ptr<openapi::ResponseChecker> checker_;
};

// "GET /orders/{id}" or "raw request" for titles.
std::string describe_operation(const openapi::Operation* operation, const RequestCase& request);

}  // namespace chaosplus::fuzz
