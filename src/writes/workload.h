#pragma once
// The write workload (Jepsen's model, our code): N clients, each with its own PostgreSQL
// connection, insert unique ids into one table at a set total rate (an open model: each insert has
// its intended time, and a client that fell behind skips the slots it missed rather than bursting),
// and every attempt is logged with its outcome, times and the node that answered. Faults come in
// through note_fault() (the activity follows fault.injected on the bus); with Patroni APIs, one
// thread per member asks GET /primary all along, so the promotion after each fault can be timed.
// finish() reads every id of this run back, retrying until the cluster answers or a bound passes.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/halt_switch.h"
#include "core/result.h"
#include "core/units.h"
#include "writes/history.h"
#include "writes/promotion.h"

namespace chaosplus::writes {

struct WorkloadOptions {
  std::string dsn;
  std::string table = "chaosplus_writes";
  int clients = 4;
  double rate = 200;                       // per second, all clients together
  Duration timeout = std::chrono::seconds(2);          // per insert, once connected
  Duration connect_timeout = std::chrono::seconds(10); // per reconnect, all hosts together
  Duration duration = std::chrono::seconds(60);  // bounds the count: rate x duration inserts at most
  std::vector<std::string> patroni;
  Duration poll_every = std::chrono::milliseconds(100);      // each member's /primary
  Duration read_back_for = std::chrono::seconds(60);         // how long finish() retries the read-back
};

// At most this many inserts per workload: the ids of a run are base .. base + kMaxWrites - 1.
inline constexpr std::int64_t kMaxWrites = 1'000'000;

struct WorkloadResult {
  std::vector<Attempt> history;        // in no particular order
  std::vector<std::int64_t> present;   // this run's ids read back
  std::string read_back_error;         // "" when the read-back succeeded
  std::vector<FaultMark> faults;       // with their promotion times
  Clock::time_point started;
  std::int64_t skipped = 0;            // slots a client missed while an attempt of its own ran long
};

class Workload {
 public:
  explicit Workload(WorkloadOptions options);
  ~Workload();
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;

  // Connects once and creates the table when missing; an error means nothing was started.
  Status prepare();
  void start();
  // Ends the inserts: attempts in flight finish (each bounded by the timeout). Any thread, any time.
  void stop();
  // A fault injected now (from the bus). Ignored before start() and after stop().
  void note_fault(const std::string& summary);
  // Stops, waits for the clients, reads the ids back and times the promotions. Once.
  WorkloadResult finish();

  std::int64_t id_base() const { return base_; }

 private:
  void run_client(int client);
  void poll_member(const std::string& api);
  void read_back(WorkloadResult& result);

  const WorkloadOptions options_;
  std::int64_t base_ = 0;  // this run's first id
  std::int64_t slots_ = 0;
  Clock::time_point started_;
  HaltSwitch stop_;
  std::atomic<bool> running_{false};
  std::atomic<std::int64_t> skipped_{0};

  std::mutex mutex_;
  std::vector<Attempt> history_;         // guarded by mutex_
  std::vector<FaultMark> faults_;        // guarded by mutex_
  std::vector<PrimarySample> samples_;   // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace chaosplus::writes
