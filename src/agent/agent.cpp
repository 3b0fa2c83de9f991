#include "agent/agent.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <ostream>
#include <set>
#include <sstream>

#include "agent/agent_run.h"
#include "agent/outbox.h"
#include "agent/restart_recovery.h"
#include "core/event.h"
#include "fleet/protocol.h"
#include "runner/ledger.h"
#include "runner/provenance.h"
#include "runner/recovery.h"

namespace chaosplus::agent {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> own_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_UP) == 0) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text, sizeof text);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, text, sizeof text);
    } else {
      continue;
    }
    out.emplace_back(text);
  }
  ::freeifaddrs(list);
  return out;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Daemon {
 public:
  Daemon(AgentOptions options, HaltSwitch& stop, std::ostream& out)
      : options_(std::move(options)), stop_(stop), out_(out) {}
  Status run();

 private:
  void log(const std::string& line);
  bool connect();
  bool register_self();
  bool start_watching();
  void dispatch(const etcd::KeyValue& kv);
  void answer_without_run(const fleet::Command& command);
  void shutdown();

  AgentOptions options_;
  HaltSwitch& stop_;
  std::ostream& out_;
  std::mutex log_mutex_;
  std::unique_ptr<runner::Ledger> ledger_;
  std::unique_ptr<etcd::Client> client_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<AgentContext> context_;
  std::map<std::string, std::unique_ptr<AgentRun>> runs_;  // by run id; the main thread's
  std::set<std::pair<std::string, std::int64_t>> seen_;    // commands taken, by run and seq
  std::int64_t lease_ = 0;                                 // the registration lease
  std::unique_ptr<etcd::LeaseKeeper> keeper_;
  std::unique_ptr<etcd::Watch> watch_;
  std::mutex work_mutex_;
  std::condition_variable work_cv_;
  std::deque<etcd::KeyValue> work_;   // guarded by work_mutex_: commands seen, not yet dispatched
  std::deque<etcd::KeyValue> retry_;  // the main thread's: commands to look at again (etcd did not answer)
};

void Daemon::log(const std::string& line) {
  std::lock_guard lock(log_mutex_);
  out_ << format_wall_time(std::chrono::system_clock::now()) << " agent " << options_.name << ": " << line << std::endl;
}

bool Daemon::connect() {
  auto last_said = Clock::now() - 1h;
  while (!stop_.triggered()) {
    auto client = etcd::Client::connect(options_.etcd);
    if (client) {
      client_ = std::move(client).value();
      log("connected to etcd");
      return true;
    }
    if (Clock::now() - last_said > 30s) {  // said once in a while, not at every attempt
      log("cannot reach etcd yet: " + client.error() + " (trying again)");
      last_said = Clock::now();
    }
    stop_.wait_for(options_.connect_retry);
  }
  return false;
}

bool Daemon::register_self() {
  auto lease = client_->grant_lease(options_.ttl);
  if (!lease) {
    log("cannot register (no lease): " + lease.error());
    return false;
  }
  fleet::AgentInfo info;
  info.name = options_.name;
  info.host = runner::host_name();
  info.labels = options_.labels;
  info.addresses = own_addresses();
  info.pid = ::getpid();
  info.version = runner::chaosplus_version();
  info.started_unix_ms = unix_ms();
  if (auto put = client_->put(fleet::keys::agent(options_.name), fleet::to_json(info), *lease); !put) {
    log("cannot register: " + put.error());
    (void)client_->revoke_lease(*lease);
    return false;
  }
  lease_ = *lease;
  keeper_ = std::make_unique<etcd::LeaseKeeper>(*client_, *lease, options_.ttl, [this](const std::string& why) {
    log("registration lease lost: " + why + "; registering again");
    work_cv_.notify_all();
  });
  log("registered at " + fleet::keys::agent(options_.name));
  return true;
}

// From the revision of a first look, so no command written meanwhile is missed.
bool Daemon::start_watching() {
  std::int64_t revision = 0;
  auto existing = client_->get_prefix(fleet::keys::work_prefix(options_.name), &revision);
  if (!existing) {
    log("cannot read the work addressed to this agent: " + existing.error());
    return false;
  }
  {
    std::lock_guard lock(work_mutex_);
    for (auto& kv : *existing) work_.push_back(std::move(kv));
  }
  watch_ = client_->watch_prefix(
      fleet::keys::work_prefix(options_.name), revision + 1,
      [this](const std::vector<etcd::WatchEvent>& events) {
        {
          std::lock_guard lock(work_mutex_);
          for (const auto& e : events) {
            if (e.type == etcd::WatchEvent::Type::put) work_.push_back(e.kv);
          }
        }
        work_cv_.notify_all();
      },
      [this](const std::string& error) { log("work watch broke, reopening: " + error); });
  return true;
}

void Daemon::dispatch(const etcd::KeyValue& kv) {
  auto command = fleet::command_from_json(kv.value);
  if (!command) {
    log("ignoring " + kv.key + ": " + command.error());
    return;
  }
  if (!seen_.insert({command->run, command->seq}).second) return;
  if (auto it = runs_.find(command->run); it != runs_.end()) {
    if (it->second->post(*command)) return;
    runs_.erase(it);  // over here (lost, stopped or torn down): answered below as a run it holds nothing of
  }
  // A command a previous agent process answered is not carried out again (it was, and its
  // changes were reverted when this process started).
  auto answered = client_->get(fleet::keys::reply(command->run, options_.name, command->seq));
  if (answered && *answered) return;
  auto live = client_->get(fleet::keys::live(command->run));
  if (!live) {
    seen_.erase({command->run, command->seq});  // looked at again at the next retry
    retry_.push_back(kv);
    return;
  }
  if (!*live) {
    log("ignoring " + fleet::to_string(command->op) + " of run " + command->run + ": the run is not live");
    return;
  }
  const bool sets_up = command->op == fleet::Command::Op::setup ||
                       (command->op == fleet::Command::Op::load && !command->experiment_yaml.empty());
  if (!sets_up) {
    answer_without_run(*command);
    return;
  }
  const std::string id = command->run;
  auto run = std::make_unique<AgentRun>(*context_, id);
  log("run " + id + ": " + fleet::to_string(command->op) + " (" + std::to_string(command->targets.size()) +
      " target(s))");
  (void)run->post(std::move(*command));  // a new run is not over
  runs_[id] = std::move(run);
}

// A command of a live run this agent holds nothing of: it restarted since the setup (its ledger
// reverted what the run had here), or the setup never came.
void Daemon::answer_without_run(const fleet::Command& command) {
  using Op = fleet::Command::Op;
  fleet::Reply r;
  r.run = command.run;
  r.agent = options_.name;
  r.seq = command.seq;
  r.ok = command.op == Op::revert || command.op == Op::stop_load || command.op == Op::teardown;  // nothing is on
  if (!r.ok) {
    r.error = "agent " + options_.name + " holds nothing of run " + command.run +
              " (no setup, or the agent restarted since and reverted it)";
  }
  (void)client_->put(fleet::keys::reply(command.run, options_.name, command.seq), fleet::to_json(r), command.lease);
}

Status Daemon::run() {
  if (options_.name.empty()) options_.name = runner::host_name();
  if (options_.name.empty() || options_.name.find('/') != std::string::npos) {
    return Error{"agent name '" + options_.name + "': expected a non-empty name without '/'",
                 ErrorCode::invalid_argument};
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  auto ledger = runner::Ledger::open(runner::ledger_path(options_.state_dir));
  if (!ledger) return Error{ledger.error()};
  ledger_ = std::move(ledger).value();

  // What a previous process left is put back before anything else, etcd or not.
  std::ostringstream recovery_log;
  std::vector<RecoveredFault> recovered = recover_previous(*ledger_, options_.state_dir, recovery_log);
  if (!recovery_log.str().empty()) {
    std::istringstream lines(recovery_log.str());
    for (std::string line; std::getline(lines, line);) log(line);
  }

  if (!connect()) return ok_status();
  outbox_ = std::make_unique<Outbox>(*client_);
  context_ = std::make_unique<AgentContext>(AgentContext{*client_, *outbox_, *ledger_, options_.name,
                                                         options_.state_dir, [this](const std::string& l) { log(l); }});
  bool watching = false;
  auto next_try = Clock::now();
  while (!stop_.triggered()) {
    if (Clock::now() >= next_try) {
      next_try = Clock::now() + options_.connect_retry;
      if (!recovered.empty() && report_recovered(*client_, options_.name, recovered)) recovered.clear();
      if (!keeper_ || keeper_->lost()) {
        keeper_.reset();
        (void)register_self();
      }
      if (!watching) watching = start_watching();
      std::lock_guard lock(work_mutex_);
      work_.insert(work_.end(), retry_.begin(), retry_.end());
      retry_.clear();
    }
    std::deque<etcd::KeyValue> work;
    {
      std::unique_lock lock(work_mutex_);
      work_cv_.wait_for(lock, 250ms, [this] { return !work_.empty() || stop_.triggered(); });
      work.swap(work_);
    }
    if (stop_.triggered()) break;
    for (const auto& kv : work) dispatch(kv);
    std::erase_if(runs_, [](const auto& entry) { return entry.second->over(); });
  }
  shutdown();
  return ok_status();
}

// Everything held is reverted before the agent leaves the fleet.
void Daemon::shutdown() {
  log("stopping: reverting everything this agent holds");
  watch_.reset();
  for (auto& [id, run] : runs_) run->stop("agent stopped");
  runs_.clear();
  if (outbox_ && !outbox_->flush(3s)) log("some statuses or events could not be written to etcd before stopping");
  keeper_.reset();
  if (lease_ != 0) {
    (void)client_->erase(fleet::keys::agent(options_.name));
    (void)client_->revoke_lease(lease_);
  }
  outbox_.reset();
  log("stopped");
}

}  // namespace

Status run_agent(AgentOptions options, HaltSwitch& stop, std::ostream& log) {
  Daemon daemon(std::move(options), stop, log);
  return daemon.run();
}

}  // namespace chaosplus::agent
