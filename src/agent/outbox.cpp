#include "agent/outbox.h"

namespace chaosplus::agent {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Outbox::Outbox(etcd::Client& client, Duration leased_patience)
    : client_(client), leased_patience_(leased_patience), thread_([this] { loop(); }) {}

Outbox::~Outbox() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Outbox::put(std::string key, std::string value, std::int64_t lease) {
  {
    std::lock_guard lock(mutex_);
    items_.push_back({std::move(key), std::move(value), lease, Clock::now()});
  }
  cv_.notify_all();
}

bool Outbox::flush(Duration within) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, within, [this] { return items_.empty() && !busy_; });
}

void Outbox::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    cv_.wait(lock, [this] { return stop_ || !items_.empty(); });
    if (stop_) return;
    Item item = items_.front();
    busy_ = true;
    lock.unlock();
    auto written = client_.put(item.key, item.value, item.lease);
    lock.lock();
    busy_ = false;
    // In order: a failed write is retried before anything queued after it.
    const bool gone = !written && item.lease != 0 &&
                      (written.code() == ErrorCode::not_found || Clock::now() - item.queued > leased_patience_);
    if (written || gone) {
      items_.pop_front();
      cv_.notify_all();
      continue;
    }
    cv_.wait_for(lock, 250ms, [this] { return stop_; });
  }
}

}  // namespace chaosplus::agent
