#pragma once
// One share-nothing event loop on one thread (private to the load engine): its own epoll, its
// own connections, users, arrival schedule, counters and histograms. The engine only talks to it
// through snapshot() a few times a second and reads its results after run() returns.
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "load/latency_histogram.h"
#include "load/load_options.h"
#include "load/report.h"
#include "load/scenario.h"
#include "load/tls_transport.h"

namespace chaosplus::load {

// Resolved once, read by every worker.
struct SharedPlan {
  LoadOptions options;
  Model model = Model::connections;
  sockaddr_storage target{};
  socklen_t target_len = 0;
  std::vector<sockaddr_storage> sources;
  std::string host_header;
  std::shared_ptr<const TlsContext> tls;  // https:// targets; null for plain TCP
  std::shared_ptr<const Scenario> scenario;
  std::vector<std::string> static_requests;  // per step; empty when the step is built per request
  std::uint64_t total_users = 0;             // users model: slots across all workers
  bool open_sessions = false;  // open model whose arrivals run multi-step scenarios (user slots as sessions)
  std::uint64_t seed = 1;      // draws of a scenario mix
};

// What one scenario of a mix did (kept only for mixes).
struct FlowStats {
  std::uint64_t iterations = 0;  // passes started (users) or arrivals (open model)
  std::uint64_t requests = 0;
  std::uint64_t failed = 0;  // transport errors and responses with status >= 400
  LatencyHistogram latency;
};

// This worker's part of the work.
struct WorkerShare {
  int index = 0;
  int count = 1;
  int connections = 1;
  std::uint64_t max_requests = 0;  // 0: no cap
};

// What the requests meant to be sent within one second of the run came to, counted by their
// intended send time: an outcome lands in the second its cause was in, however late it came back
// (a timeout 5 s after a fault ended still belongs to the fault's window).
struct SecondCounts {
  std::int64_t second = 0;  // 0: the first second of the run
  double length_s = 1;      // the last second of a run may be shorter
  Counters counters;
  LatencyHistogram latency;  // from the intended send time
};

struct WorkerSnapshot {
  std::vector<SecondCounts> closed;  // seconds closed since the previous snapshot, in order
  std::int64_t open_from = 0;        // the first second not closed yet; INT64_MAX once run() returned
  std::uint64_t active_users = 0;
  std::uint64_t open_connections = 0;
};

class Worker {
 public:
  Worker(const SharedPlan& plan, WorkerShare share);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  Status init();
  // Runs until `end_ns` (steady clock), `stop`, or the request cap.
  void run(std::int64_t start_ns, std::int64_t end_ns, const std::atomic<bool>& stop);

  // Any thread: asks the loop to hand over the seconds it closed; waits (bounded) for it. False if
  // the loop did not answer in time (it then answers next time; nothing is lost).
  bool snapshot(WorkerSnapshot& out, std::int64_t wait_ns);

  // After run() returned: the sum of every second handed over.
  const Counters& counters() const { return counters_; }
  const LatencyHistogram& latency() const { return latency_; }
  const LatencyHistogram& uncorrected() const { return uncorrected_; }
  std::uint64_t peak_connections() const { return peak_open_; }
  std::uint64_t peak_users() const { return peak_users_; }
  std::int64_t finished_ns() const { return finished_ns_.load(std::memory_order_acquire); }
  const std::string& first_tls_error() const { return tls_error_; }
  const std::vector<FlowStats>& flow_stats() const { return flow_stats_; }

 private:
  struct Conn;
  struct Job {
    std::int64_t intended_ns;
    std::uint32_t user;  // kNoUser for single-request open-model arrivals
    std::uint32_t step;
  };
  struct Timer {
    std::int64_t when;
    std::uint32_t id;
    std::uint32_t kind;  // 0 user, 1 reconnect
    bool operator>(const Timer& o) const { return when > o.when; }
  };
  class JobQueue;
  enum class UserState : std::uint8_t { stopped, thinking, queued, busy };
  struct OpenSecond {
    SecondCounts counts;
    std::uint64_t unresolved = 0;  // jobs meant for this second not answered, failed or dropped yet
  };

  void connect(Conn& c, std::int64_t now);
  void connected(Conn& c, std::int64_t now);
  void continue_handshake(Conn& c);
  ssize_t transport_recv(Conn& c, char* buffer, std::size_t size);
  ssize_t transport_send(Conn& c, const char* data, std::size_t size);
  void close_conn(Conn& c);
  void fail(Conn& c, ErrorKind kind, std::int64_t now);
  void on_event(Conn& c, std::uint32_t events);
  bool read_ready(Conn& c);
  void write_some(Conn& c);
  void start_request(Conn& c, const Job& job);
  void complete(Conn& c);
  void finish_job(const Job& job, std::int64_t now, Conn* conn);
  void submit(const Job& job);
  void make_idle(Conn& c);
  void run_timers(std::int64_t now);
  void issue_arrivals(std::int64_t now);
  void set_user_target(std::uint64_t target, std::int64_t now, bool stagger);
  void housekeeping(std::int64_t now);
  void serve_snapshot();
  void add_timer(std::int64_t when, std::uint32_t id, std::uint32_t kind);
  std::uint32_t begin_pass(std::uint32_t user);  // first step of the user's next pass
  void end_session(std::uint32_t user);          // open sessions: the slot is free again
  // The open second an outcome of a job meant for `intended_ns` counts in. An outcome that comes
  // after its second was closed (it waited longer than the timeout) counts in the oldest open one.
  SecondCounts& second_of(std::int64_t intended_ns);
  void expect(const Job& job);  // a job is created: its second stays open until it is resolved
  void settle(const Job& job);  // answered, failed or dropped
  // Closes, in order, the seconds that are over and whose jobs are all resolved (or that are
  // over by more than the timeout); at the end of the run, every second up to `final_ns`.
  void close_seconds(std::int64_t now);
  void close_all(std::int64_t final_ns);
  void close_front(double length_s);

  const SharedPlan& plan_;
  WorkerShare share_;
  int epoll_fd_ = -1;
  std::vector<Conn> conns_;
  std::vector<std::uint32_t> idle_;
  std::unique_ptr<JobQueue> pending_;
  std::vector<Timer> timers_;  // a min-heap
  std::vector<UserState> users_;
  std::vector<std::uint16_t> user_step_;
  std::vector<std::uint32_t> user_pass_;             // mixes only: passes each user has started
  std::vector<std::vector<std::string>> user_vars_;  // only when the scenario has variables
  std::uint64_t user_base_ = 0;                      // global index of this worker's first user
  std::uint64_t user_target_ = 0;                    // users that should be active
  std::uint64_t active_users_ = 0;
  std::uint64_t peak_users_ = 0;
  std::unique_ptr<class ArrivalSchedule> schedule_;
  std::int64_t next_arrival_ = INT64_MAX;
  std::int64_t start_ns_ = 0;
  std::int64_t next_housekeeping_ = 0;
  std::int64_t next_timeout_scan_ = 0;
  std::int64_t timeout_ns_ = 0;
  std::vector<char> read_buffer_;
  bool done_ = false;

  Counters counters_;            // of the seconds closed so far
  std::uint64_t responses_ = 0;  // for the request cap
  std::deque<OpenSecond> open_seconds_;
  std::int64_t first_open_ = 0;       // the second open_seconds_.front() is
  std::vector<SecondCounts> closed_;  // closed, not yet handed to the engine
  LatencyHistogram latency_;
  LatencyHistogram uncorrected_;
  std::uint64_t open_conns_ = 0;
  std::uint32_t connecting_ = 0;  // connects in progress
  std::size_t next_to_open_ = 0;  // connections are opened in order, a bounded number at a time
  std::uint64_t peak_open_ = 0;
  std::string tls_error_;                     // the first TLS failure, for the report
  std::vector<FlowStats> flow_stats_;         // mixes only
  std::uint64_t arrivals_ = 0;                // open-model arrivals issued (the mix's draw number)
  std::vector<std::uint32_t> free_sessions_;  // open sessions: user slots not in use
  std::uint64_t sessions_started_ = 0;

  // Snapshot mailbox: the engine bumps wanted_, the loop publishes and sets served_.
  std::atomic<std::uint64_t> wanted_{0};
  std::atomic<std::uint64_t> served_{0};
  std::mutex mailbox_mutex_;
  WorkerSnapshot mailbox_;
  std::atomic<std::int64_t> finished_ns_{0};
};

}  // namespace chaosplus::load
