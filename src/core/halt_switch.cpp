#include "core/halt_switch.h"

namespace chaosplus {

bool HaltSwitch::trigger(std::string reason) {
  {
    std::lock_guard lock(mutex_);
    if (triggered_.load()) return false;
    reason_ = std::move(reason);
    triggered_.store(true, std::memory_order_release);
  }
  cv_.notify_all();
  return true;
}

std::string HaltSwitch::reason() const {
  std::lock_guard lock(mutex_);
  return reason_;
}

bool HaltSwitch::wait_for(Duration d) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, d, [this] { return triggered_.load(); });
}

}  // namespace chaosplus
