#include "agent/agent_run.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "agent/lease_guard.h"
#include "agent/load_shard.h"
#include "agent/outbox.h"
#include "core/allowed_hosts.h"
#include "extension/resolve.h"
#include "faults/fault.h"
#include "runner/journal.h"
#include "runner/placement.h"
#include "runner/revert_plan.h"
#include "spec/loader.h"
#include "targets/process.h"

namespace chaosplus::agent {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Appends one line and syncs it: the map from a fault's ledger entry to its id must be on disk
// before the fault is, so a restarted agent can say which of the run's faults it reverted.
Status append_synced(const std::string& path, const std::string& line) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Error{"cannot open " + path};
  const std::string text = line + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? ok_status() : Status(Error{"cannot write " + path});
}

// The experiment cut down to `names`: those targets, and the faults of the phases that act on
// them. Rollbacks stay with the controller.
Result<spec::Experiment> only_targets(const spec::Experiment& full, const std::vector<std::string>& names) {
  spec::Experiment mine = full;
  const std::set<std::string> wanted(names.begin(), names.end());
  for (const std::string& name : wanted) {
    if (full.find_target(name) == nullptr) {
      return Error{"the experiment " + full.source_path + " has no target '" + name + "'"};
    }
  }
  std::erase_if(mine.targets, [&](const spec::Target& t) { return !wanted.contains(t.name); });
  for (spec::Phase& phase : mine.phases) {
    std::erase_if(phase.faults, [&](const spec::Fault& f) { return !wanted.contains(f.target); });
  }
  mine.rollbacks.clear();
  return mine;
}

}  // namespace

std::string run_dir(const std::string& state_dir, const std::string& run) { return state_dir + "/runs/" + run; }
std::string fault_ids_path(const std::string& state_dir, const std::string& run) {
  return run_dir(state_dir, run) + "/faults.jsonl";
}

struct AgentRun::Held {
  std::string fault_id;
  const spec::Fault* spec = nullptr;
  std::unique_ptr<faults::Fault> fault;
  std::int64_t ledger_id = 0;
  std::string summary;
  std::int64_t max_ms = 0;
  std::optional<Clock::time_point> deadline;  // the first dead-man switch
  bool on = true;
};

AgentRun::AgentRun(AgentContext& context, std::string run) : context_(context), run_(std::move(run)) {
  bus_.subscribe([this](const Event& e) {
    if (journal_) journal_->write(e);
    // Under the run lease: when the run is gone nobody reads them, and etcd drops them with it.
    if (lease_ != 0) {
      context_.outbox.put(fleet::keys::event(run_, context_.agent, ++event_seq_), to_json_line(e), lease_);
    }
  });
  thread_ = std::thread([this] { loop(); });
}

AgentRun::~AgentRun() {
  stop("agent stopped");
  guard_.reset();
}

bool AgentRun::post(fleet::Command command) {
  {
    std::lock_guard lock(mutex_);
    if (over_) return false;
    queue_.push_back(std::move(command));
  }
  cv_.notify_all();
  return true;
}

void AgentRun::stop(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (stop_why_.empty()) stop_why_ = why;
  }
  halt_.trigger(why);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool AgentRun::over() const {
  std::lock_guard lock(mutex_);
  return over_;
}

void AgentRun::lost(const std::string& why) {
  {
    std::lock_guard lock(mutex_);
    if (lost_why_.empty()) lost_why_ = why;
  }
  halt_.trigger(why);
  cv_.notify_all();
}

std::optional<Clock::time_point> AgentRun::next_deadline() const {
  std::optional<Clock::time_point> next;
  for (const auto& h : held_) {
    if (h->on && h->deadline && (!next || *h->deadline < *next)) next = h->deadline;
  }
  return next;
}

void AgentRun::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    const auto deadline = next_deadline();
    const auto wake = deadline ? std::min(*deadline, Clock::now() + 1s) : Clock::now() + 1s;
    cv_.wait_until(lock, wake, [&] {
      return !lost_why_.empty() || !stop_why_.empty() || !queue_.empty() || (deadline && Clock::now() >= *deadline);
    });
    if (!lost_why_.empty() || !stop_why_.empty()) {
      const bool lost_run = !lost_why_.empty();
      const std::string why = lost_run ? lost_why_ : stop_why_;
      lock.unlock();
      if (!ended_) {
        context_.log("run " + run_ + ": " + why + "; reverting everything of it");
        end_everything(lost_run ? "run lease lost" : "agent stopped", lost_run ? "run lease lost" : "agent stopped");
        publish(Event("agent.run_lost").with("reason", why));
      }
      lock.lock();
      over_ = true;
      answer_left(lock, why);
      return;
    }
    if (deadline && Clock::now() >= *deadline) {
      lock.unlock();
      expire_due();
      lock.lock();
      continue;
    }
    if (queue_.empty()) continue;
    fleet::Command command = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    handle(command);
    lock.lock();
    if (ended_) {
      over_ = true;
      answer_left(lock, "the run was torn down");
      return;
    }
  }
}

void AgentRun::handle(const fleet::Command& command) {
  using Op = fleet::Command::Op;
  if (command.op == Op::teardown && !experiment_) {  // a setup that failed left nothing to take down
    reply(command, teardown());
    return;
  }
  // A load generator that holds no target of the run gets no setup: its `load` carries the experiment.
  if (command.op == Op::load && !experiment_ && !command.experiment_yaml.empty()) {
    fleet::Command implicit = command;
    implicit.op = Op::setup;
    implicit.targets.clear();
    if (fleet::Reply r = setup(implicit); !r.ok) {
      reply(command, std::move(r));
      return;
    }
  }
  if (command.op != Op::setup && !experiment_) {
    fleet::Reply r;
    r.error = "agent " + context_.agent + " has no setup of run " + run_ + " (" + fleet::to_string(command.op) +
              " needs a setup first)";
    reply(command, std::move(r));
    return;
  }
  switch (command.op) {
    case Op::setup: reply(command, setup(command)); break;
    case Op::inject: reply(command, inject(command)); break;
    case Op::revert: reply(command, revert(command)); break;
    case Op::load: reply(command, load(command)); break;
    case Op::stop_load: reply(command, stop_load(command)); break;
    case Op::teardown: reply(command, teardown()); break;
  }
}

// Commands that came while the run ended here (a revert the controller sends after this agent lost
// the run lease and reverted everything by itself) are answered, not dropped: a controller waiting
// for them would otherwise call the revert failed. Nothing of the run is on any more.
void AgentRun::answer_left(std::unique_lock<std::mutex>& lock, const std::string& why) {
  std::deque<fleet::Command> left;
  left.swap(queue_);
  lock.unlock();
  using Op = fleet::Command::Op;
  for (const auto& command : left) {
    fleet::Reply r;
    r.ok = command.op == Op::revert || command.op == Op::stop_load || command.op == Op::teardown;
    if (!r.ok) r.error = "run " + run_ + " is over on agent " + context_.agent + ": " + why;
    reply(command, std::move(r));
  }
  lock.lock();
}

void AgentRun::reply(const fleet::Command& command, fleet::Reply r) {
  r.run = run_;
  r.agent = context_.agent;
  r.seq = command.seq;
  if (!r.ok) context_.log("run " + run_ + ": " + fleet::to_string(command.op) + " failed: " + r.error);
  const std::int64_t lease = command.lease != 0 ? command.lease : lease_;
  if (auto s = context_.client.put(fleet::keys::reply(run_, context_.agent, command.seq), fleet::to_json(r), lease);
      !s) {
    context_.log("run " + run_ + ": cannot write the reply to command " + std::to_string(command.seq) + ": " +
                 s.error());
  }
}

fleet::Reply AgentRun::setup(const fleet::Command& command) {
  fleet::Reply r;
  if (experiment_) {
    r.error = "run " + run_ + " is already set up on agent " + context_.agent;
    return r;
  }
  lease_ = command.lease;
  ttl_ms_ = command.ttl_ms;
  // The run lease first: a run already gone is not set up at all.
  std::int64_t revision = 0;
  auto live = context_.client.get_prefix(fleet::keys::live(run_), &revision);
  if (!live) {
    r.error = "cannot read the live key of run " + run_ + ": " + live.error();
    return r;
  }
  const bool is_live = std::any_of(live->begin(), live->end(),
                                   [&](const etcd::KeyValue& kv) { return kv.key == fleet::keys::live(run_); });
  if (!is_live) {
    r.error = "run " + run_ + " is not live (its lease is gone)";
    return r;
  }
  if (ttl_ms_ <= 0) {
    for (const auto& kv : *live) {
      if (auto info = fleet::run_from_json(kv.value); info && kv.key == fleet::keys::live(run_)) ttl_ms_ = info->ttl_ms;
    }
  }
  if (ttl_ms_ <= 0) ttl_ms_ = 5000;

  // The experiment may name the fleet's hosts (a probe of a target on another agent): their
  // addresses join the allow-list, as they do on the controller.
  if (auto agents = context_.client.get_prefix(fleet::keys::agents_prefix())) {
    for (const auto& kv : *agents) {
      auto agent = fleet::agent_from_json(kv.value);
      if (!agent) continue;
      for (const auto& address : agent->addresses) (void)allowed_hosts().add(address, "agent " + agent->name);
    }
  }
  // Loaded exactly as `chaosplus run` loads a file; the file name is the controller's, for messages.
  const std::string name = command.source_path.empty() ? "experiment.yaml" : command.source_path;
  spec::LoadResult loaded = spec::load_experiment_text(command.experiment_yaml, name, command.vars);
  if (loaded.ok()) loaded.errors = extension::resolve(*loaded.experiment);
  if (!loaded.ok()) {
    r.error = "the experiment does not load on agent " + context_.agent + ":";
    for (const auto& d : loaded.errors) r.error += " " + d.to_string() + ";";
    return r;
  }
  auto mine = only_targets(*loaded.experiment, command.targets);
  if (!mine) {
    r.error = mine.error();
    return r;
  }
  experiment_ = std::make_unique<spec::Experiment>(std::move(*loaded.experiment));
  mine_ = std::make_unique<spec::Experiment>(std::move(mine).value());

  const std::string dir = run_dir(context_.state_dir, run_);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto journal = runner::Journal::create(dir + "/agent.jsonl");
  if (!journal) {
    r.error = "cannot keep the run's journal on agent " + context_.agent + ": " + journal.error();
    return r;
  }
  journal_ = std::make_unique<runner::Journal>(std::move(journal).value());
  {
    std::ofstream copy(dir + "/experiment.yaml", std::ios::binary);
    copy << command.experiment_yaml;
  }

  auto self = targets::identify(::getpid());
  runner::RunRecord record{run_,     ::getpid(), self ? self->start_time : 0, experiment_->name, journal_->path(),
                           "running"};
  if (auto s = context_.ledger.begin_run(record); !s) {
    r.error = "cannot write the ledger of agent " + context_.agent + ": " + s.error();
    return r;
  }
  begun_ = true;
  // The run lease is watched from here on: whatever is placed below is reverted if it goes.
  guard_ = std::make_unique<LeaseGuard>(context_.client, run_, lease_, std::chrono::milliseconds(ttl_ms_), revision,
                                        [this](const std::string& why) { lost(why); });

  placement_ = std::make_unique<runner::Placement>(*mine_, context_.ledger, run_, journal_->logs_dir(), bus_, halt_);
  for (const auto& t : mine_->targets) {
    if (auto* h = placement_->handle(t.name)) h->state_dir = context_.state_dir;
  }
  Status placed = placement_->claim(mine_->name);
  if (placed) placed = placement_->place_proxies();
  if (placed) placed = placement_->start_targets();
  if (!placed) {
    r.error = "agent " + context_.agent + ": " + placed.error();
    return r;  // what was placed stays until teardown or the run lease ends
  }
  r.ok = true;
  r.pids = placement_->target_pids();
  return r;
}

fleet::Reply AgentRun::inject(const fleet::Command& command) {
  fleet::Reply r;
  const spec::Fault* spec = nullptr;
  for (const spec::Phase& phase : experiment_->phases) {
    if (phase.name == command.phase && command.index >= 0 &&
        static_cast<std::size_t>(command.index) < phase.faults.size()) {
      spec = &phase.faults[static_cast<std::size_t>(command.index)];
    }
  }
  if (spec == nullptr) {
    r.error = "the experiment has no fault #" + std::to_string(command.index) + " in phase '" + command.phase + "'";
    return r;
  }
  faults::TargetHandle* target = mine_->find_target(spec->target) ? placement_->handle(spec->target) : nullptr;
  if (target == nullptr) {
    r.error = "target '" + spec->target + "' of fault " + command.fault_id + " is not on agent " + context_.agent;
    return r;
  }
  for (const auto& h : held_) {
    if (h->on && h->fault_id == command.fault_id) {
      r.error = "fault " + command.fault_id + " is already on at agent " + context_.agent;
      return r;
    }
  }
  auto fault = faults::make_fault(*spec, *target);
  if (!fault) {
    r.error = fault.error();
    return r;
  }
  auto held = std::make_unique<Held>();
  held->fault_id = command.fault_id;
  held->spec = spec;
  held->fault = std::move(fault).value();
  held->summary = held->fault->summary();
  held->max_ms = command.max_ms;
  // Written and synced before the system is touched: a crash from here on is undone at restart.
  auto entry = context_.ledger.record(run_, held->fault->kind(), held->fault->record());
  if (!entry) {
    r.error = "cannot write the ledger, fault not injected: " + entry.error();
    return r;
  }
  held->ledger_id = *entry;
  const nlohmann::json line = {{"ledger_id", *entry}, {"fault_id", held->fault_id}, {"summary", held->summary}};
  if (auto s = append_synced(fault_ids_path(context_.state_dir, run_), line.dump()); !s) {
    context_.log("run " + run_ + ": " + s.error() + " (a restart could not name this fault's status)");
  }
  held->fault->set_record_sink(
      [this, id = *entry](const std::string& record) { return context_.ledger.update_record(id, record); });
  if (Status s = held->fault->inject(halt_); !s) {
    HaltSwitch uninterrupted;  // it may have half-happened: undo what it can
    Status undone = held->fault->revert(uninterrupted);
    (void)context_.ledger.set_state(held->ledger_id,
                                    undone ? runner::EntryState::reverted : runner::EntryState::revert_failed,
                                    undone ? "" : undone.error());
    r.error = "fault could not be injected: " + held->summary + ": " + s.error();
    return r;
  }
  (void)context_.ledger.set_state(held->ledger_id, runner::EntryState::active);
  if (held->max_ms > 0) held->deadline = Clock::now() + std::chrono::milliseconds(held->max_ms);
  write_status(*held, "active", "");
  r.ok = true;
  r.kind = held->fault->kind();
  r.summary = held->summary;
  held_.push_back(std::move(held));
  return r;
}

fleet::Reply AgentRun::revert(const fleet::Command& command) {
  fleet::Reply r;
  r.ok = true;  // a fault that is not on (reverted already, by its maximum duration) is reverted
  for (auto& h : held_) {
    if (!h->on || h->fault_id != command.fault_id) continue;
    revert_faults({h.get()}, "controller", "");
    r.reach = h->fault->reach();
    if (auto entries = context_.ledger.entries(run_)) {
      for (const auto& e : *entries) {
        if (e.id == h->ledger_id && e.state == runner::EntryState::revert_failed) {
          r.ok = false;
          r.error = "revert of " + h->summary + " failed: " + e.error;
        }
      }
    }
  }
  std::erase_if(held_, [](const auto& h) { return !h->on; });
  return r;
}

fleet::Reply AgentRun::load(const fleet::Command& command) {
  fleet::Reply r;
  if (shards_.contains(command.activity)) {
    r.error = "load '" + command.activity + "' already runs on agent " + context_.agent;
    return r;
  }
  auto shard = LoadShard::start(context_.client, context_.agent, *experiment_, command);
  if (!shard) {
    r.error = shard.error();
    return r;
  }
  shards_[command.activity] = std::move(shard).value();
  r.ok = true;
  return r;
}

fleet::Reply AgentRun::stop_load(const fleet::Command& command) {
  fleet::Reply r;
  r.ok = true;  // a load that is not running is stopped
  if (auto it = shards_.find(command.activity); it != shards_.end()) it->second->stop();
  return r;
}

fleet::Reply AgentRun::teardown() {
  end_everything("controller", "ended");
  // The ledger is the truth of what is left on this host: a revert or a stop that failed here makes
  // the run not restored on the controller, with what is left named.
  fleet::Reply r;
  auto left = context_.ledger.open_entries(run_);
  if (!left) {
    r.error = "cannot read its ledger to see what is left: " + left.error();
    return r;
  }
  r.ok = left->empty();
  for (const runner::LedgerEntry& entry : *left)
    r.error += (r.error.empty() ? "left on this host: " : "; ") + entry.kind + " " + runner::to_string(entry.state) +
               (entry.error.empty() ? "" : " (" + entry.error + ")");
  return r;
}

void AgentRun::write_status(const Held& fault, const std::string& state, const std::string& why) {
  fleet::FaultStatus status{state, fault.summary, why, unix_ms()};
  // No lease: it outlives the run, so a controller's recover can see what the agent did.
  context_.outbox.put(fleet::keys::status(run_, context_.agent, fault.fault_id), fleet::to_json(status));
}

void AgentRun::revert_faults(std::vector<Held*> newest_first, const std::string& why, const std::string& event) {
  std::vector<runner::PendingRevert> plan;
  for (Held* h : newest_first) {
    if (!h->on) continue;
    plan.push_back({h->fault->brings_back(), [h] { return h->fault->back(); }, h->fault->return_grace(),
                    [this, h, why, event] {
                      HaltSwitch uninterrupted;  // a revert is what every stop asks for
                      const auto started = Clock::now();
                      const Status s = h->fault->revert(uninterrupted);
                      h->on = false;
                      (void)context_.ledger.set_state(
                          h->ledger_id, s ? runner::EntryState::reverted : runner::EntryState::revert_failed,
                          s ? "" : s.error());
                      write_status(*h, s ? "reverted" : "revert_failed", s ? why : s.error());
                      if (!s) context_.log("run " + run_ + ": revert of " + h->summary + " failed: " + s.error());
                      if (event.empty()) return;  // the controller asked: it reports the revert itself
                      Event e(event);
                      e.with("fault_id", h->fault_id)
                          .with("fault", h->spec->type)
                          .with("target", h->spec->target)
                          .with("summary", h->summary)
                          .with("why", why)
                          .with("ok", s.ok())
                          .with("took_ms", std::chrono::duration<double, std::milli>(Clock::now() - started).count())
                          .with("max_ms", h->max_ms);
                      if (!s) e.with("error", s.error());
                      publish(std::move(e));
                    }});
  }
  HaltSwitch paced;
  runner::revert_in_order(std::move(plan), [&](Duration d) { paced.wait_for(d); });
}

void AgentRun::expire_due() {
  std::vector<Held*> due;
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) {
    if ((*it)->on && (*it)->deadline && Clock::now() >= *(*it)->deadline) due.push_back(it->get());
  }
  for (Held* h : due) context_.log("run " + run_ + ": " + h->summary + " reached its maximum duration; reverting it");
  revert_faults(due, "max duration", "fault.expired");
  std::erase_if(held_, [](const auto& h) { return !h->on; });
}

// Faults newest first, then the load shards, then the targets and proxies (newest first).
void AgentRun::end_everything(const std::string& why, const std::string& ledger_status) {
  if (ended_) return;
  ended_ = true;
  std::vector<Held*> newest_first;
  for (auto it = held_.rbegin(); it != held_.rend(); ++it) newest_first.push_back(it->get());
  revert_faults(newest_first, why, "agent.reverted");
  held_.clear();
  for (auto& [name, shard] : shards_) shard->stop();
  if (placement_) placement_->stop();
  if (begun_) (void)context_.ledger.end_run(run_, ledger_status);
  if (journal_) journal_->sync();
}

}  // namespace chaosplus::agent
