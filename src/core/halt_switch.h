#pragma once
// The stop button of a run. Any thread may trigger it (signal watcher, `chaosplus halt`, a
// guardrail); every engine waits on it instead of sleeping, so a stop interrupts every wait at once.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>

#include "core/units.h"

namespace chaosplus {

class HaltSwitch {
 public:
  // The first reason wins; later triggers are ignored. Returns true if this call halted.
  bool trigger(std::string reason);
  bool triggered() const { return triggered_.load(std::memory_order_acquire); }
  std::string reason() const;

  // Waits up to `d`; returns true as soon as the switch is triggered.
  bool wait_for(Duration d);

 private:
  std::atomic<bool> triggered_{false};
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::string reason_;
};

}  // namespace chaosplus
