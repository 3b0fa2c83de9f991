#pragma once
// The second dead-man switch of one run on an agent (docs/agents.md): the run is lost when its live
// key is deleted (the run lease expired or was revoked), when etcd says the lease does not exist,
// or when the agent could not confirm the lease for a whole TTL (cut off from etcd: partitioned, or
// every member down). A few failed looks within the TTL are not a loss: a leader failover that the
// lease survives costs a retry, not a revert.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/units.h"
#include "etcd/client.h"

namespace chaosplus::agent {

class LeaseGuard {
 public:
  using OnLost = std::function<void(const std::string& why)>;
  // Starts watching at once. `live_revision`: the store revision at which the live key was seen,
  // so a delete after it is not missed. `on_lost` is called once, from the guard's own thread.
  LeaseGuard(etcd::Client& client, std::string run, std::int64_t lease, Duration ttl, std::int64_t live_revision,
             OnLost on_lost);
  ~LeaseGuard();  // stops watching (waits for a look in flight to end)
  LeaseGuard(const LeaseGuard&) = delete;
  LeaseGuard& operator=(const LeaseGuard&) = delete;

  static constexpr auto kPollEvery = std::chrono::milliseconds(250);

 private:
  void poll_loop();
  void judge_loop();
  void lose(const std::string& why);  // records the first reason; the judge reports it

  etcd::Client& client_;
  const std::string run_;
  const std::int64_t lease_;
  const Duration ttl_;
  OnLost on_lost_;
  std::atomic<std::int64_t> confirmed_ns_;  // steady clock: when the last look that found the lease began
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mutex_
  std::string why_;    // guarded by mutex_: set once the run is lost
  std::unique_ptr<etcd::Watch> watch_;
  std::thread poller_;
  std::thread judge_;
};

}  // namespace chaosplus::agent
