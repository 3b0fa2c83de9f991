#pragma once
// Turns SIGINT, SIGTERM and SIGHUP into a halt. The signals are blocked in every thread (block()
// must run before any thread starts) and taken by one watcher thread, so a stop never interrupts
// a revert half-way and works however busy the other threads are.
#include <atomic>
#include <thread>

#include "core/halt_switch.h"
#include "runner/halt_request.h"

namespace chaosplus::cli {

// The value `chaosplus halt` and the server queue with their SIGTERM (runner/halt_request.h), so
// the run reports a halt rather than a plain SIGTERM. Any other signal is reported with its sender's pid.
inline constexpr int kHaltSignalValue = runner::kHaltSignalValue;

class SignalWatcher {
 public:
  static void block();  // call first thing in main
  explicit SignalWatcher(HaltSwitch& halt);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace chaosplus::cli
