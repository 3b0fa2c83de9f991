#pragma once
// One run's part on an agent (docs/agents.md): the commands of that run (setup, inject, revert,
// load, stop_load, teardown) handled in order on the run's own thread, with the same code the
// runner uses (runner::Placement for targets and proxies, the fault registry, the ledger), and both
// dead-man switches: each fault's maximum duration, and the run lease (agent/lease_guard.h). When
// either fires, the agent reverts on its own and says so in the fault's status and the run's events.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "etcd/client.h"
#include "fleet/protocol.h"
#include "runner/ledger.h"

namespace chaosplus::spec {
struct Experiment;
}
namespace chaosplus::runner {
class Placement;
class Journal;
}  // namespace chaosplus::runner

namespace chaosplus::agent {

class Outbox;
class LeaseGuard;
class LoadShard;

// What every run of an agent shares.
struct AgentContext {
  etcd::Client& client;
  Outbox& outbox;
  runner::Ledger& ledger;
  std::string agent;      // its name
  std::string state_dir;  // its ledger's folder; each run keeps its files in runs/<run>/ below it
  std::function<void(const std::string&)> log;
};

// Where an agent keeps a run's files, and the file that maps its faults' ledger entries to their
// ids in the run (restart recovery reads it to write their statuses).
std::string run_dir(const std::string& state_dir, const std::string& run);
std::string fault_ids_path(const std::string& state_dir, const std::string& run);

class AgentRun {
 public:
  AgentRun(AgentContext& context, std::string run);
  ~AgentRun();  // stop("agent stopped") when it still holds something
  AgentRun(const AgentRun&) = delete;
  AgentRun& operator=(const AgentRun&) = delete;

  // Queues a command of this run; its reply is written when it has been carried out. False when the
  // run is over here (the command was not taken: the caller answers it).
  bool post(fleet::Command command);
  // The agent stops: everything of the run is reverted now (newest first), then the thread ends.
  void stop(const std::string& why);
  // Torn down, lost or stopped: nothing of it is left on the system, the agent may forget it.
  bool over() const;

 private:
  struct Held;
  void loop();
  void handle(const fleet::Command& command);
  fleet::Reply setup(const fleet::Command& command);
  fleet::Reply inject(const fleet::Command& command);
  fleet::Reply revert(const fleet::Command& command);
  fleet::Reply load(const fleet::Command& command);
  fleet::Reply stop_load(const fleet::Command& command);
  fleet::Reply teardown();
  void reply(const fleet::Command& command, fleet::Reply reply);
  // Answers the commands still queued when the run ended here (called with mutex_ held through lock).
  void answer_left(std::unique_lock<std::mutex>& lock, const std::string& why);
  void lost(const std::string& why);  // from the lease guard's thread
  // Reverts the given faults (newest first, as the runner does); each gets its status and an event.
  void revert_faults(std::vector<Held*> newest_first, const std::string& why, const std::string& event);
  void end_everything(const std::string& why, const std::string& ledger_status);
  void expire_due();
  std::optional<std::chrono::steady_clock::time_point> next_deadline() const;
  void write_status(const Held& fault, const std::string& state, const std::string& why);
  void publish(Event event) { bus_.publish(std::move(event)); }

  AgentContext& context_;
  const std::string run_;
  std::int64_t lease_ = 0;  // the run lease, from setup
  std::int64_t ttl_ms_ = 0;

  // Owned by the run's thread.
  std::unique_ptr<spec::Experiment> experiment_;  // as the controller sent it
  std::unique_ptr<spec::Experiment> mine_;        // only this agent's targets and their faults
  std::unique_ptr<runner::Journal> journal_;      // the run's events on this agent, in runs/<run>/
  std::unique_ptr<runner::Placement> placement_;
  std::vector<std::unique_ptr<Held>> held_;  // faults on, in injection order
  std::map<std::string, std::unique_ptr<LoadShard>> shards_;
  bool begun_ = false;  // in the ledger
  bool ended_ = false;

  EventBus bus_;
  std::atomic<std::int64_t> event_seq_{0};
  HaltSwitch halt_;  // pressed when the run is lost or the agent stops: cuts short a setup's waits

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<fleet::Command> queue_;   // guarded by mutex_
  std::string lost_why_;               // guarded by mutex_
  std::string stop_why_;               // guarded by mutex_
  bool over_ = false;                  // guarded by mutex_
  std::unique_ptr<LeaseGuard> guard_;  // made by the run's thread at setup, reset by the destructor
  std::thread thread_;
};

}  // namespace chaosplus::agent
