#include "core/event_bus.h"

namespace chaosplus {

EventBus::EventBus() : start_(std::chrono::steady_clock::now()) {}

void EventBus::subscribe(Subscriber subscriber) {
  std::lock_guard lock(mutex_);
  subscribers_.push_back(std::move(subscriber));
}

void EventBus::stamp(Event& event) const {
  event.wall = std::chrono::system_clock::now();
  event.elapsed = std::chrono::steady_clock::now() - start_;
}

Event EventBus::publish(Event event) {
  if (delivering_.load() == std::this_thread::get_id()) {
    // A subscriber publishes while we deliver (we hold the lock): it goes next, to everyone.
    stamp(event);
    pending_.push_back(event);
    return event;
  }
  std::lock_guard lock(mutex_);
  delivering_.store(std::this_thread::get_id());
  stamp(event);
  for (const auto& subscriber : subscribers_) subscriber(event);
  while (!pending_.empty()) {
    const Event next = std::move(pending_.front());
    pending_.pop_front();
    for (const auto& subscriber : subscribers_) subscriber(next);
  }
  delivering_.store(std::thread::id{});
  return event;
}

}  // namespace chaosplus
