#pragma once
// The security kind of phase activity as the experiment file gives it (`security:` in a phase):
// which document and target, which users, which checks, how often the auth probes are re-checked,
// and thresholds on the findings. Parsed once by the loader (spec/builder_security.cpp), immutable
// after; each run makes its SecurityActivity from it (security/security_activity.h).
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/activity.h"
#include "core/mark.h"
#include "core/units.h"
#include "fuzz/finding.h"
#include "security/probe_requests.h"
#include "security/scanner.h"

namespace chaosplus::security {

// "findings < 1", "findings{severity>=high} < 1": the count of unique findings (of at least that
// severity) at the end of the phase.
struct FindingsThreshold {
  std::optional<fuzz::Severity> at_least;
  Comparison condition;
  std::string text;  // as written
  Mark mark;
};
Result<FindingsThreshold> parse_findings_threshold(std::string_view text);
// The count a threshold judges.
std::size_t count_findings(const std::vector<fuzz::Finding>& findings, const FindingsThreshold& threshold);

class SecuritySpec : public ActivityConfig {
 public:
  static constexpr const char* kKind = "security";

  std::string name;      // defaults to the phase name
  std::string openapi;   // the OpenAPI document (relative to the working directory)
  std::string base_url;  // loopback only
  std::vector<User> users;
  std::set<std::string> checks{kChecks.begin(), kChecks.end()};
  std::vector<std::string> protected_operations;  // operation ids that need credentials besides the document's
  Duration recheck = std::chrono::seconds(1);     // pause between two rounds of auth re-checks
  Duration timeout = std::chrono::seconds(5);     // per request
  Duration delay = std::chrono::seconds(2);       // what the time-based payloads sleep
  std::uint64_t max_requests = 200'000;
  std::vector<FindingsThreshold> thresholds;

  std::unique_ptr<Activity> make(const ActivityContext& context) const override;  // security_activity.cpp
  bool judges() const override { return !thresholds.empty(); }
};

}  // namespace chaosplus::security
