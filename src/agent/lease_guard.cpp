#include "agent/lease_guard.h"

#include "fleet/protocol.h"

namespace chaosplus::agent {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {
std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}
}  // namespace

LeaseGuard::LeaseGuard(etcd::Client& client, std::string run, std::int64_t lease, Duration ttl,
                       std::int64_t live_revision, OnLost on_lost)
    : client_(client),
      run_(std::move(run)),
      lease_(lease),
      ttl_(ttl),
      on_lost_(std::move(on_lost)),
      confirmed_ns_(now_ns()) {
  const std::string live = fleet::keys::live(run_);
  // The prefix also matches longer run ids: only the run's own key counts.
  watch_ = client_.watch_prefix(live, live_revision + 1, [this, live](const std::vector<etcd::WatchEvent>& events) {
    for (const auto& e : events) {
      if (e.type == etcd::WatchEvent::Type::erase && e.kv.key == live)
        lose("the run lease ended (its live key was deleted)");
    }
  });
  poller_ = std::thread([this] { poll_loop(); });
  judge_ = std::thread([this] { judge_loop(); });
}

LeaseGuard::~LeaseGuard() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watch_) watch_->stop();
  judge_.join();
  poller_.join();
}

void LeaseGuard::lose(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (!why_.empty()) return;
    why_ = why;
  }
  cv_.notify_all();
}

void LeaseGuard::poll_loop() {
  std::unique_lock lock(mutex_);
  while (!stop_ && why_.empty()) {
    lock.unlock();
    const std::int64_t began = now_ns();
    auto remaining = client_.lease_remaining(lease_);
    if (remaining && *remaining) {
      confirmed_ns_.store(began);
    } else if (remaining) {
      lose("the run lease expired or was revoked");
    }
    // An error (no member answered) confirms nothing: the judge decides when that lasted too long.
    lock.lock();
    cv_.wait_for(lock, kPollEvery, [this] { return stop_ || !why_.empty(); });
  }
}

// Apart from the looks, which may each take several request timeouts when etcd is out of reach.
void LeaseGuard::judge_loop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    if (!why_.empty()) break;
    const auto unconfirmed = std::chrono::nanoseconds(now_ns() - confirmed_ns_.load());
    if (unconfirmed >= ttl_) {
      why_ = "the run lease could not be confirmed for " + format_duration(ttl_) + " (etcd out of reach)";
      break;
    }
    cv_.wait_for(lock, 50ms);
  }
  if (stop_) return;
  const std::string why = why_;
  lock.unlock();
  cv_.notify_all();
  on_lost_(why);
}

}  // namespace chaosplus::agent
