#pragma once
// Fan-out of events to every subscriber, in publish order, from any thread. The bus stamps each
// event with wall time and elapsed time since the run started.
#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include "core/event.h"

namespace chaosplus {

class EventBus {
 public:
  using Subscriber = std::function<void(const Event&)>;

  EventBus();

  // Subscribers are called synchronously, one event at a time; they must be quick.
  void subscribe(Subscriber subscriber);
  // Stamps (wall, elapsed) and delivers. Returns the stamped event.
  Event publish(Event event);

  std::chrono::steady_clock::time_point start() const { return start_; }
  Duration elapsed() const { return std::chrono::steady_clock::now() - start_; }

 private:
  std::chrono::steady_clock::time_point start_;
  std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
};

}  // namespace chaosplus
