#pragma once
// The continuous probes of a run's steady state (`every:`), each on its own schedule from the start
// of the phases until stop(): an attempt fires on time whether or not earlier ones have come back,
// so a slow system shows as slow or failed results, not as fewer results (no coordinated omission).
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/event.h"
#include "core/halt_switch.h"
#include "probes/probe.h"
#include "spec/experiment.h"

namespace chaosplus::runner {

// The probe.result event of one probe run; `phase` empty outside the phases.
Event probe_event(const spec::Probe& probe, const probes::ProbeResult& outcome, const std::string& stage,
                  const std::string& phase);

class ProbeSchedule {
 public:
  // Called on a worker thread with each result that came back before stop().
  using OnResult = std::function<void(const spec::Probe&, const probes::ProbeResult&)>;

  // Starts every continuous probe of `probes`; the schedule also ends when `halt` is triggered.
  ProbeSchedule(const std::vector<spec::Probe>& probes, HaltSwitch& halt, OnResult on_result);
  ~ProbeSchedule();
  ProbeSchedule(const ProbeSchedule&) = delete;
  ProbeSchedule& operator=(const ProbeSchedule&) = delete;

  // Stops scheduling and waits for the attempts in flight (their results are dropped).
  void stop();

 private:
  HaltSwitch& halt_;
  OnResult on_result_;
  HaltSwitch stop_;
  std::vector<std::thread> threads_;
};

}  // namespace chaosplus::runner
