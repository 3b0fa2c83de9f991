#pragma once
// One run of the real `chaosplus run` on a small experiment around the demo token service: the run
// starts the service on a free port (its `endpoint`) behind a fault proxy, probes /health through
// the proxy every 100ms, and plays one phase with the fault under test. The journal is then read
// back to see what the probe saw while the fault was on.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus::testing {

struct TokenServiceExperiment {
  TempDir dir;
  int port = free_port();
  int proxy = free_port();

  // Runs the experiment with `fault` (one list item, e.g. "reject: { target: tokens }") in a phase
  // of length `phase`; returns the exit code of the run (-1 if it did not end within a minute).
  // `load`, when given, is the phase's load block without its `load:` line (keys indented by 6).
  int run(const std::string& fault, std::string* output, const std::string& phase = "1500ms",
          const std::string& load = "");

  // The first journal event of `type`, or an empty object.
  nlohmann::json event(const std::string& type) const;
  // Every journal event of `type`, in order.
  std::vector<nlohmann::json> events(const std::string& type) const;
  // Probe results that started after the fault was on (a probe here takes well under 100ms plus
  // the fault's delay) and ended before its revert began (the event comes after the revert is done).
  std::vector<nlohmann::json> results_under_fault() const;
  // Probe results of the phases that started after the fault's revert was done.
  std::vector<nlohmann::json> results_after_revert() const;
  // Probe results of one stage: "before", "during", "after".
  std::vector<nlohmann::json> probe_results(const std::string& stage) const;
};

}  // namespace chaosplus::testing
