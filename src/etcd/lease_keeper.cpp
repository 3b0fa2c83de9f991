#include <condition_variable>
#include <thread>

#include "etcd/client_impl.h"

namespace chaosplus::etcd {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// The keeper's state and thread. The thread holds it too, so a keeper destroyed from inside its own
// on_lost (which cannot join its own thread) leaves the thread to end on its own, safely.
struct KeeperState {
  std::shared_ptr<Core> core;
  std::int64_t lease = 0;
  Duration ttl{};
  std::function<void(const std::string&)> on_lost;
  std::mutex mutex;
  std::condition_variable wake;
  std::atomic<bool> stopping{false};
  std::atomic<bool> lost{false};
  std::thread thread;

  // Waits until `until` or stop; false when stopping.
  bool wait_until(Clock::time_point until) {
    std::unique_lock lock(mutex);
    return !wake.wait_until(lock, until, [&] { return stopping.load(); });
  }

  void lose(const std::string& why) {
    lost.store(true);
    if (on_lost) on_lost(why);
  }

  void run() {
    // The lease was just granted or renewed by its owner: its TTL counts from about now.
    auto renewed_at = Clock::now();
    auto next = renewed_at + ttl / 3;
    // After a failed renewal, try again soon, but not in a tight loop.
    const auto retry = std::clamp<Duration>(ttl / 10, std::chrono::milliseconds(100), std::chrono::seconds(1));
    std::string last_failure;
    while (wait_until(next)) {
      const auto sent = Clock::now();
      const auto expires = renewed_at + ttl;
      if (sent >= expires) {
        lose("lease " + std::to_string(lease) + ": no renewal succeeded for its whole TTL (" + format_duration(ttl) +
             "); last failure: " + last_failure);
        return;
      }
      // A renewal that cannot succeed before the lease would expire is not waited for.
      CallOptions how;
      how.deadline = expires;
      how.cancel = &stopping;
      auto renewal = lease_keep_alive(*core, lease, how);
      if (stopping.load()) return;
      if (renewal) {
        renewed_at = sent;  // etcd's TTL restarted at some point after we sent it
        next = sent + ttl / 3;
        continue;
      }
      if (renewal.code() == ErrorCode::not_found) {
        lose(renewal.error());
        return;
      }
      last_failure = renewal.error();
      next = std::min(Clock::now() + retry, renewed_at + ttl);
    }
  }
};

struct LeaseKeeper::Impl {
  std::shared_ptr<KeeperState> state;
};

LeaseKeeper::LeaseKeeper(Client& client, std::int64_t lease, Duration ttl,
                         std::function<void(const std::string& why)> on_lost)
    : lease_(lease), impl_(std::make_unique<Impl>()) {
  auto state = std::make_shared<KeeperState>();
  state->core = client.impl_->core;
  state->lease = lease;
  state->ttl = ttl;
  state->on_lost = std::move(on_lost);
  state->thread = std::thread([state] { state->run(); });
  impl_->state = std::move(state);
}

LeaseKeeper::~LeaseKeeper() {
  auto& state = *impl_->state;
  {
    std::lock_guard lock(state.mutex);
    state.stopping.store(true);
  }
  state.wake.notify_all();
  if (state.thread.joinable()) {
    if (state.thread.get_id() == std::this_thread::get_id()) state.thread.detach();  // from its own on_lost
    else state.thread.join();
  }
}

bool LeaseKeeper::lost() const { return impl_->state->lost.load(); }

}  // namespace chaosplus::etcd
