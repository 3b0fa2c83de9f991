#pragma once
// What a person watching a run sees: a line per important event (phase, fault, probe turning
// bad or good, guardrail, verdict) and, on a terminal, a status line redrawn in place with the
// phase, elapsed/total time, each continuous probe's recent success rate and p99, active faults.
// Everything it shows comes from the events it is given (it subscribes to the run's stream).
#include <atomic>
#include <iosfwd>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "core/event.h"
#include "runner/probe_window.h"

namespace chaosplus::runner {

class LiveView {
 public:
  LiveView(std::ostream& out, bool status_line, Duration total, std::chrono::steady_clock::time_point run_start);
  ~LiveView();
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;

  void on_event(const Event& event);
  void stop();  // clears the status line and stops redrawing

 private:
  void print_line(const Event& event, const std::string& text);
  std::string status_text() const;
  void redraw_loop();

  std::ostream& out_;
  const bool status_line_;
  const Duration total_;
  const std::chrono::steady_clock::time_point start_;
  mutable std::mutex mutex_;
  std::string phase_;
  std::multiset<std::string> active_faults_;
  std::map<std::string, bool> probe_ok_;       // last state of each continuous probe
  std::map<std::string, ProbeWindow> recent_;  // its results, for the status line
  std::string last_load_;                      // the load of the last tick, and its figures
  double last_load_rps_ = 0;
  double last_load_p99_ms_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread redraw_;
};

}  // namespace chaosplus::runner
