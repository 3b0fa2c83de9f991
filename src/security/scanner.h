#pragma once
// The security scan of one target from its OpenAPI document: what `chaosplus scan` runs once and
// the `security:` phase activity runs in a loop while faults come and go.
//
//   auth       every operation that needs credentials is sent without them, with invalid, garbled
//              and empty ones, and with another user's on the first user's objects (BOLA). The
//              answers while no fault is active are the baseline; refused probes are tried again
//              with bypass variants, and re-checked: an answer that lets in (2xx, or the resource's
//              data) where the baseline refused is `fail_open` when a fault is active,
//              `auth_inconsistent` when none is; 503/504 is failing closed, a pass.
//   injection  each free-text string input: SQL (error signatures, boolean and time differentials),
//              OS commands (time), path traversal, templates, reflected markup.
//   headers    security headers, CORS, banners and verbose errors (every answer is looked at).
//   tls        protocol versions and weak cipher classes an https target accepts.
//
// Requests go one at a time on a fresh connection (fuzz::exchange_once): a scan is about evidence,
// not speed, and a lone request's latency is what the time differentials compare.
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "fuzz/chaos_context.h"
#include "fuzz/exchange.h"
#include "fuzz/finding.h"
#include "openapi/document.h"
#include "security/probe_requests.h"

namespace chaosplus {
class HaltSwitch;
}

namespace chaosplus::security {

inline constexpr std::array<std::string_view, 4> kChecks{"auth", "injection", "headers", "tls"};
// "auth,injection" -> the set; errors name the unknown check.
Result<std::set<std::string>> parse_checks(std::string_view text);

struct ScanOptions {
  net::Url base;            // loopback only
  std::vector<User> users;  // the first owns the objects, the second tries them
  std::set<std::string> checks{kChecks.begin(), kChecks.end()};
  // Operations (ids) that need credentials although the document does not say so.
  std::vector<std::string> protected_operations;
  Duration timeout = std::chrono::seconds(5);  // per request
  Duration delay = std::chrono::seconds(2);    // what the time-based payloads sleep
  std::uint64_t max_requests = 200'000;        // a scan never sends more
  bool tls_verify = false;                     // loopback test servers are self-signed
  std::string tls_ca_file;
};

class Scanner {
 public:
  using OnFinding = std::function<void(const fuzz::Finding&)>;

  // `context` says which faults are active (none outside a run); `stop` ends every loop early.
  Scanner(const openapi::Document& document, ScanOptions options, const fuzz::ChaosContext& context,
          const HaltSwitch* stop = nullptr);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // Called with each new finding (not with repeats of one already found), on the scanning thread.
  void on_finding(OnFinding callback) { on_finding_ = std::move(callback); }

  enum class Baseline { learned, fault_active, stopped, not_needed };
  // Creates the first user's objects, sends every auth probe and keeps the answers; reports what
  // the baseline alone shows (auth_missing, bola, auth_bypass). Kept only if no fault was active
  // from the first request to the last.
  Baseline learn_baseline();
  bool has_baseline() const { return has_baseline_; }
  std::size_t auth_probes() const;
  // One round over the probes refused in the baseline; returns how many were sent.
  std::size_t recheck_auth();
  void scan_injection();
  void scan_headers();  // CORS on GET operations; the passive checks run on every answer anyway
  void scan_tls();

  std::uint64_t requests() const { return requests_.load(); }
  bool capped() const { return requests_.load() >= options_.max_requests; }
  const fuzz::FindingLog& findings() const { return log_; }
  const ScanOptions& options() const { return options_; }

 private:
  struct Probe;
  struct Sent {
    fuzz::Reply reply;
    std::vector<std::string> faults;  // active before or after it was sent
  };

  bool stopped() const;
  // One probe; refused or cut with no fault active, it is sent again once the target is back.
  Sent send(const std::string& bytes, bool head = false);
  bool wait_until_back();
  Sent send_case(const fuzz::RequestCase& request, const Headers& credentials, bool authenticated);
  void passive(const fuzz::Reply& reply, const std::string& bytes, const fuzz::RequestCase& request,
               bool authenticated);
  void report(fuzz::Finding finding, const fuzz::RequestCase& request, const Headers& credentials,
              const std::vector<std::string>& faults);
  Headers owner_credentials() const;
  bool needs_credentials(const openapi::Operation& operation) const;
  // The valid case with its path parameters taken from an object the owner created (when a POST on
  // the collection makes one); the creating request's bytes go to `setup`, the owner's view of the
  // object to `markers`.
  fuzz::RequestCase prepare(const openapi::Operation& operation, std::vector<std::string>& setup, bool& owned);
  void probe_bypass(const Probe& probe);
  void inject(const openapi::Operation& operation);

  const openapi::Document& document_;
  ScanOptions options_;
  const fuzz::ChaosContext& context_;
  const HaltSwitch* stop_;
  OnFinding on_finding_;
  fuzz::SenderOptions sender_;
  fuzz::FindingLog log_;
  std::atomic<std::uint64_t> requests_{0};
  std::int64_t started_ns_ = 0;
  std::vector<Probe> probes_;
  bool has_baseline_ = false;
  std::uint64_t restarts_seen_ = 0;  // refusals that a wait for the target ended
  int relearns_ = 0;
  bool target_gone_ = false;  // waited for in vain: later refusals are not waited on until an answer
  struct Created {
    std::string id;
    std::string setup;  // the request that created it
  };
  // collection path (and " <operation id>" for a DELETE's own object) -> the object
  std::map<std::string, std::optional<Created>> created_;
};

}  // namespace chaosplus::security
