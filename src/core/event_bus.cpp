#include "core/event_bus.h"

namespace chaosplus {

EventBus::EventBus() : start_(std::chrono::steady_clock::now()) {}

void EventBus::subscribe(Subscriber subscriber) {
  std::lock_guard lock(mutex_);
  subscribers_.push_back(std::move(subscriber));
}

Event EventBus::publish(Event event) {
  std::lock_guard lock(mutex_);
  event.wall = std::chrono::system_clock::now();
  event.elapsed = std::chrono::steady_clock::now() - start_;
  for (const auto& subscriber : subscribers_) subscriber(event);
  return event;
}

}  // namespace chaosplus
