#pragma once
// Fan-out of events to every subscriber, in publish order, from any thread. The bus stamps each
// event with wall time and elapsed time since the run started.
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/event.h"

namespace chaosplus {

class EventBus {
 public:
  using Subscriber = std::function<void(const Event&)>;

  EventBus();

  // Subscribers are called synchronously, one event at a time; they must be quick. A subscriber
  // may publish (a guardrail that trips on a probe result): that event is delivered to everyone
  // once the one being delivered has reached every subscriber, so all see the same order.
  void subscribe(Subscriber subscriber);
  // Stamps (wall, elapsed) and delivers. Returns the stamped event.
  Event publish(Event event);

  std::chrono::steady_clock::time_point start() const { return start_; }
  Duration elapsed() const { return std::chrono::steady_clock::now() - start_; }

 private:
  std::chrono::steady_clock::time_point start_;
  void stamp(Event& event) const;

  std::mutex mutex_;
  std::vector<Subscriber> subscribers_;
  std::atomic<std::thread::id> delivering_{};  // the thread inside publish, while it delivers
  std::deque<Event> pending_;                  // published by subscribers during a delivery
};

}  // namespace chaosplus
