#pragma once
// The security kind of phase activity: the scanner (security/scanner.h) on its own thread for the
// length of the phase. It learns the auth baseline while no fault is active (at once when the phase
// starts clean; if faults are already on, the baseline is missing until they are off), runs the
// injection, header and TLS checks once (again whenever a new set of faults becomes active), and
// re-checks the auth probes in a loop until the phase ends. `security.started`, one
// `security.finding` per new finding and `security.summary` go on the bus; each threshold is judged
// on the count of findings (metric `security.<name>.findings`).
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/activity.h"
#include "core/halt_switch.h"
#include "fuzz/chaos_context.h"
#include "openapi/document.h"
#include "security/scanner.h"
#include "security/security_spec.h"

namespace chaosplus::security {

// Judges each threshold on the findings.
std::vector<Judgment> judge_thresholds(const SecuritySpec& spec, const std::vector<fuzz::Finding>& findings);

class SecurityActivity : public Activity {
 public:
  SecurityActivity(const SecuritySpec& spec, ActivityContext context);
  ~SecurityActivity() override;
  SecurityActivity(const SecurityActivity&) = delete;
  SecurityActivity& operator=(const SecurityActivity&) = delete;

  // Reads the document, publishes security.started and starts the scan.
  Status start(EventBus& bus, HaltSwitch& halt) override;
  void stop() override { stop_.trigger("phase over"); }
  // Waits for the scan to end, publishes security.summary; the thresholds' judgments.
  Result<std::vector<Judgment>> finish() override;

 private:
  void run();

  const SecuritySpec spec_;
  ActivityContext context_;
  EventBus* bus_ = nullptr;
  HaltSwitch stop_;
  fuzz::ChaosContext chaos_;
  std::optional<openapi::Document> document_;
  std::unique_ptr<Scanner> scanner_;
  std::string baseline_;  // how the baseline went, for the summary
  std::int64_t started_ns_ = 0;
  std::thread thread_;
};

}  // namespace chaosplus::security
