#pragma once
// The agent's writes to etcd that must not hold up the work that made them: its events and the
// statuses of its faults. Written in order on their own thread; a write that fails is tried again
// (etcd may be unreachable for a while: the agent keeps reverting on its own meanwhile). A status
// (no lease) is kept until it is written or the agent stops; a write under a lease is dropped once
// the lease is gone (there is nobody left to read it) or after `leased_patience` of failures.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/units.h"
#include "etcd/client.h"

namespace chaosplus::agent {

class Outbox {
 public:
  explicit Outbox(etcd::Client& client, Duration leased_patience = std::chrono::seconds(10));
  ~Outbox();  // stops at once: what is left is not written (call flush first)
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  void put(std::string key, std::string value, std::int64_t lease = 0);
  // Waits up to `within` for everything queued to be written or dropped; false if some is left.
  bool flush(Duration within);

 private:
  struct Item {
    std::string key;
    std::string value;
    std::int64_t lease = 0;
    std::chrono::steady_clock::time_point queued;
  };
  void loop();

  etcd::Client& client_;
  const Duration leased_patience_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Item> items_;  // guarded by mutex_
  bool busy_ = false;       // an item is being written; guarded by mutex_
  bool stop_ = false;       // guarded by mutex_
  std::thread thread_;
};

}  // namespace chaosplus::agent
