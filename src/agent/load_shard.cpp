#include "agent/load_shard.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "core/halt_switch.h"
#include "fleet/load_merge.h"
#include "load/engine.h"
#include "load/load_activity.h"
#include "load/segment.h"

namespace chaosplus::agent {
namespace {

// How long a shard waits for the barrier's start time once it is ready: the controller writes it
// as soon as every shard is ready, so this only bounds a controller that went away.
constexpr auto kGoTimeout = std::chrono::seconds(60);
constexpr auto kGoPoll = std::chrono::milliseconds(10);

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const load::LoadSpec* find_load(const spec::Experiment& experiment, const fleet::Command& command) {
  for (const spec::Phase& phase : experiment.phases) {
    if (!command.phase.empty() && phase.name != command.phase) continue;
    for (const spec::ActivitySpec& a : phase.activities) {
      if (a.name != command.activity) continue;
      if (const auto* l = a.as<load::LoadSpec>()) return l;
    }
  }
  return nullptr;
}

class Shard final : public LoadShard {
 public:
  Shard(etcd::Client& client, std::string agent, fleet::Command command, load::LoadSegment segment,
        load::LoadOptions options)
      : client_(client),
        agent_(std::move(agent)),
        command_(std::move(command)),
        segment_(std::move(segment)),
        options_(std::move(options)) {
    writer_ = std::thread([this] { write_loop(); });
    thread_ = std::thread([this] { run(); });
  }

  ~Shard() override {
    stop();
    if (thread_.joinable()) thread_.join();
    if (writer_.joinable()) writer_.join();
  }

  void stop() override { stop_.trigger("stop_load"); }
  bool finished() const override { return finished_.load(); }

 private:
  void run() {
    fleet::ShardSummary summary = drive();
    {
      std::lock_guard lock(mutex_);
      summary_ = std::move(summary);
      ending_ = true;
    }
    cv_.notify_all();
  }

  // Ready, barrier, load; the summary to write (with `error` set when it could not run).
  fleet::ShardSummary drive() {
    fleet::ShardSummary failed;
    failed.total.second = -1;
    const std::string& run = command_.run;
    const std::string& activity = command_.activity;
    if (auto r = client_.put(fleet::keys::load_ready(run, activity, agent_), "{}", command_.lease); !r) {
      failed.error = agent_ + ": cannot write its ready key: " + r.error();
      return failed;
    }
    std::optional<fleet::StartAt> go;
    const auto give_up = std::chrono::steady_clock::now() + kGoTimeout;
    while (!go && !stop_.triggered() && std::chrono::steady_clock::now() < give_up) {
      auto kv = client_.get(fleet::keys::load_go(run, activity));
      if (kv && *kv) {
        auto start = fleet::start_from_json((*kv)->value);
        if (!start) {
          failed.error = agent_ + ": the start key of load " + activity + " is unreadable: " + start.error();
          return failed;
        }
        go = *start;
        break;
      }
      stop_.wait_for(kGoPoll);
    }
    // Stopped before the start: nothing ran, which is no failure (the run halted, or the phase ended).
    fleet::ShardSummary nothing;
    nothing.total.second = -1;
    if (!go && stop_.triggered()) return nothing;
    if (!go) {
      failed.error = agent_ + ": no start time for load " + activity + " within 60 s";
      return failed;
    }
    // Every shard starts at the same wall-clock instant and ends at the same one: a shard that
    // learned of the start late runs that much shorter.
    const std::int64_t wait_ms = go->unix_ms - now_unix_ms();
    if (wait_ms > 0 && stop_.wait_for(std::chrono::milliseconds(wait_ms))) return nothing;
    const std::int64_t late_ms = std::max<std::int64_t>(0, now_unix_ms() - go->unix_ms);
    const auto length = std::chrono::milliseconds(std::max<std::int64_t>(1, command_.duration_ms - late_ms));
    if (segment_.idle) {
      // No users in this segment: nothing to send, but the run still hears from it when it ends.
      const auto began = std::chrono::steady_clock::now();
      stop_.wait_for(length);
      fleet::ShardSummary summary;
      summary.total.second = -1;
      summary.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      return summary;
    }
    load::LoadOptions options = options_;
    options.duration = length;
    load::RunHooks hooks;
    hooks.halt = &stop_;
    hooks.on_tick_latency = [this](const load::Tick& tick, const load::LatencyHistogram& latency) {
      {
        std::lock_guard lock(mutex_);
        seconds_.push_back(fleet::to_shard_second(tick, latency));
      }
      cv_.notify_all();
    };
    auto report = load::run_load(options, hooks);
    if (!report) {
      failed.error = agent_ + ": load " + activity + " could not run: " + report.error();
      return failed;
    }
    return fleet::to_shard_summary(*report);
  }

  // Writes each second as it comes, off the engine's thread (a slow etcd must not hold the load's
  // clock), then the summary once every second is out.
  void write_loop() {
    for (;;) {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return !seconds_.empty() || ending_; });
      if (!seconds_.empty()) {
        fleet::ShardSecond s = std::move(seconds_.front());
        seconds_.pop_front();
        lock.unlock();
        // A lost second is a gap in the merged timeline, not a failed load: the summary carries the totals.
        (void)client_.put(fleet::keys::load_second(command_.run, command_.activity, agent_, s.second),
                          fleet::to_json(s), command_.lease);
        continue;
      }
      fleet::ShardSummary summary = summary_.value_or(fleet::ShardSummary{});
      lock.unlock();
      (void)client_.put(fleet::keys::load_summary(command_.run, command_.activity, agent_), fleet::to_json(summary),
                        command_.lease);
      finished_.store(true);
      return;
    }
  }

  etcd::Client& client_;
  const std::string agent_;
  const fleet::Command command_;
  const load::LoadSegment segment_;
  const load::LoadOptions options_;
  HaltSwitch stop_;
  std::atomic<bool> finished_{false};
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<fleet::ShardSecond> seconds_;      // guarded by mutex_: written by the load, read by the writer
  std::optional<fleet::ShardSummary> summary_;  // guarded by mutex_
  bool ending_ = false;                         // guarded by mutex_: the summary is set, no more seconds come
  std::thread writer_;
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<LoadShard>> LoadShard::start(etcd::Client& client, const std::string& agent,
                                                    const spec::Experiment& experiment, const fleet::Command& command) {
  const load::LoadSpec* whole = find_load(experiment, command);
  if (whole == nullptr) {
    return Error{"agent " + agent + ": the experiment has no load '" + command.activity + "'" +
                 (command.phase.empty() ? "" : " in phase '" + command.phase + "'")};
  }
  auto segment = load::segment_of(*whole, {command.segment_index, command.segment_count});
  if (!segment) return Error{"agent " + agent + ": " + segment.error()};
  if (command.duration_ms <= 0) return Error{"agent " + agent + ": load " + command.activity + " has no duration"};
  load::LoadOptions options;
  if (!segment->idle) {
    auto built = load::to_load_options(segment->load, std::chrono::milliseconds(command.duration_ms));
    if (!built) return Error{"agent " + agent + ": " + built.error()};
    options = std::move(built).value();
  }
  return std::unique_ptr<LoadShard>(
      std::make_unique<Shard>(client, agent, command, std::move(segment).value(), std::move(options)));
}

}  // namespace chaosplus::agent
