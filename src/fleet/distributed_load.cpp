#include "fleet/distributed_load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "fleet/load_merge.h"
#include "load/load_activity.h"
#include "load/segment.h"

namespace chaosplus::fleet {
namespace {

// The barrier: every shard starts this long after the last one said it was ready (wall clock),
// enough for the start key to reach them all through etcd.
constexpr auto kStartMargin = std::chrono::milliseconds(300);
constexpr auto kReplyTimeout = std::chrono::seconds(10);
constexpr auto kReadyTimeout = std::chrono::seconds(15);
// A second is merged when every shard has reported it (or a later one), or this long after the
// first shard did: a slow shard delays the timeline, it does not stop it.
constexpr auto kSecondWait = std::chrono::seconds(2);
// How long after the load's end (or its stop) the shards have to write their summaries.
constexpr auto kSummaryGrace = std::chrono::seconds(10);

using Clock = std::chrono::steady_clock;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string names(const std::vector<std::string>& agents) {
  std::string out;
  for (const auto& a : agents) out += (out.empty() ? "" : ", ") + a;
  return out;
}

struct Shard {
  std::string agent;
  bool idle = false;      // its segment has no users: it sends nothing, nobody waits for its seconds
  bool accepted = false;  // it answered the load command
  bool ready = false;
  std::int64_t latest = -1;                     // the latest second it reported
  std::map<std::int64_t, ShardSecond> seconds;  // reported, not merged yet
  std::optional<ShardSummary> summary;
};

class DistributedLoad final : public Activity {
 public:
  DistributedLoad(Session& session, const load::LoadSpec& spec, ActivityContext context)
      : session_(session), spec_(spec), context_(std::move(context)) {}

  ~DistributedLoad() override {
    stop();
    if (thread_.joinable()) thread_.join();
    watch_.reset();
  }

  Status start(EventBus& bus, HaltSwitch&) override {
    bus_ = &bus;
    auto chosen = choose();
    if (!chosen) return Error{chosen.error()};
    const int n = spec_.generators;
    for (int i = 0; i < n; ++i) {
      auto segment = load::segment_of(spec_, {i, n});
      if (!segment) return Error{segment.error()};
      Shard shard;
      shard.agent = (*chosen)[static_cast<std::size_t>(i)];
      shard.idle = segment->idle;
      shards_.push_back(std::move(shard));
    }
    // Watch the load's keys from before the first command, so no ready key or second is missed.
    const std::string prefix = keys::load_prefix(session_.run(), spec_.name);
    std::int64_t revision = 0;
    if (auto existing = session_.client().get_prefix(prefix, &revision); !existing) {
      return Error{"load " + spec_.name + ": cannot read its keys in etcd: " + existing.error()};
    }
    watch_ = session_.client().watch_prefix(
        prefix, revision + 1,
        [this, prefix](const std::vector<etcd::WatchEvent>& events) { on_events(prefix, events); });
    bus.publish(Event("load.started")
                    .with("load", spec_.name)
                    .with("phase", context_.phase)
                    .with("url", spec_.url)
                    .with("generators", static_cast<std::int64_t>(n))
                    .with("agents", names(*chosen)));
    if (Status s = send_loads(); !s) {
      stop();
      return s;
    }
    thread_ = std::thread([this] { coordinate(); });
    return ok_status();
  }

  void stop() override {
    if (stopping_.exchange(true)) return;
    std::vector<std::string> running;
    {
      std::lock_guard lock(mutex_);
      stopped_at_ = Clock::now();
      for (const Shard& s : shards_) {
        if (s.accepted && !s.summary) running.push_back(s.agent);
      }
    }
    cv_.notify_all();
    // Every shard is told at once, without waiting for answers: a guardrail's abort stops them together.
    for (const std::string& agent : running) {
      Command c;
      c.op = Command::Op::stop_load;
      c.activity = spec_.name;
      c.phase = context_.phase;
      (void)session_.send(agent, c);
    }
  }

  Result<std::vector<Judgment>> finish() override {
    if (thread_.joinable()) thread_.join();
    watch_.reset();
    std::vector<std::string> problems;
    load::Report report;
    report.model = model();
    report.url = spec_.url;
    report.target_rate = spec_.rate_stages.empty() ? spec_.rate : spec_.rate_stages.back().target;
    {
      std::lock_guard lock(mutex_);
      if (!failure_.empty()) problems.push_back(failure_);
      report.ticks = ticks_;
      for (const Shard& s : shards_) {
        if (!s.accepted) continue;
        if (!s.summary) {
          problems.push_back("generator " + s.agent + " never reported the end of its load");
          continue;
        }
        if (!s.summary->error.empty()) {
          problems.push_back("generator " + s.agent + " failed: " + s.summary->error);
          continue;
        }
        report.counters.add(to_counters(s.summary->total));
        add_latency(s.summary->total, report.latency);
        report.elapsed_s = std::max(report.elapsed_s, s.summary->elapsed_s);
      }
    }
    for (const Shard& s : shards_) {
      if (!s.accepted) continue;
      auto part = load::segment_of(spec_, {static_cast<int>(&s - shards_.data()), spec_.generators});
      if (!part) continue;
      report.connections += part->load.connections;
      report.threads += part->load.threads;
      report.users += part->load.vus;
    }
    report.processes = spec_.generators;
    auto judgments = load::judge_thresholds(spec_, report);
    Event summary = load::summary_event(spec_, report, judgments);
    summary.with("generators", static_cast<std::int64_t>(spec_.generators));
    bus_->publish(std::move(summary));
    if (!problems.empty()) {
      std::string message = "load " + spec_.name + " on " + std::to_string(spec_.generators) + " generators: ";
      for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
      return Error{message};
    }
    return judgments;
  }

 private:
  load::Model model() const {
    if (spec_.rate > 0 || !spec_.rate_stages.empty()) return load::Model::open;
    if (spec_.vus > 0 || !spec_.vu_stages.empty() || !spec_.scenario.empty()) return load::Model::users;
    return load::Model::connections;
  }

  Result<std::vector<std::string>> choose() {
    auto agents = session_.agents();
    if (!agents) return Error{"load " + spec_.name + ": cannot list the agents: " + agents.error()};
    return generator_agents(spec_, *agents);
  }

  // Sends every shard its segment, then collects the answers; a refusal stops those that accepted.
  Status send_loads() {
    const auto duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(context_.duration).count();
    std::vector<std::optional<std::int64_t>> seqs;
    std::vector<std::string> problems;
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      Command c;
      c.op = Command::Op::load;
      c.activity = spec_.name;
      c.phase = context_.phase;
      c.segment_index = static_cast<int>(i);
      c.segment_count = spec_.generators;
      c.duration_ms = duration_ms;
      auto seq = session_.send(shards_[i].agent, c);
      if (!seq) problems.push_back(shards_[i].agent + ": " + seq.error());
      seqs.push_back(seq ? std::optional<std::int64_t>(*seq) : std::nullopt);
    }
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      if (!seqs[i]) continue;
      auto reply = session_.await(shards_[i].agent, *seqs[i], kReplyTimeout);
      if (!reply) {
        problems.push_back(reply.error());
        continue;
      }
      if (!reply->ok) {
        problems.push_back(shards_[i].agent + " refused: " + reply->error);
        continue;
      }
      std::lock_guard lock(mutex_);
      shards_[i].accepted = true;
    }
    if (problems.empty()) return ok_status();
    std::string message = "load " + spec_.name + ": not every generator took its part: ";
    for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    return Error{message};
  }

  // From the watch's thread: ready keys, seconds and summaries of the shards.
  void on_events(const std::string& prefix, const std::vector<etcd::WatchEvent>& events) {
    {
      std::lock_guard lock(mutex_);
      for (const etcd::WatchEvent& e : events) {
        if (e.type != etcd::WatchEvent::Type::put || !e.kv.key.starts_with(prefix)) continue;
        const auto parts = keys::split(e.kv.key.substr(prefix.size()));
        if (parts.size() < 2) continue;
        Shard* shard = find(parts[0]);
        if (shard == nullptr) continue;
        if (parts[1] == "ready") {
          shard->ready = true;
        } else if (parts[1] == "summary") {
          auto summary = summary_from_json(e.kv.value);
          if (summary) shard->summary = std::move(*summary);
          else {
            shard->summary = ShardSummary{};
            shard->summary->error = "unreadable summary: " + summary.error();
          }
        } else if (parts[1] == "s") {
          auto second = second_from_json(e.kv.value);
          if (!second || second->second < next_second_) continue;  // too late for the timeline; the summary has it
          if (!first_seen_.contains(second->second)) first_seen_[second->second] = Clock::now();
          shard->latest = std::max(shard->latest, second->second);
          shard->seconds[second->second] = std::move(*second);
        }
      }
    }
    cv_.notify_all();
  }

  Shard* find(const std::string& agent) {
    for (auto& s : shards_) {
      if (s.agent == agent) return &s;
    }
    return nullptr;
  }

  // The barrier, then the merged timeline until every shard has ended.
  void coordinate() {
    std::unique_lock lock(mutex_);
    const auto ready_by = Clock::now() + kReadyTimeout;
    const auto all_ready = [this] {
      return std::all_of(shards_.begin(), shards_.end(), [](const Shard& s) { return !s.accepted || s.ready; });
    };
    cv_.wait_until(lock, ready_by, [&] { return stopping_.load() || all_ready(); });
    if (stopping_.load()) {  // stopped before the start: the shards still say they ended
      wait_for_summaries(lock, Clock::now() + kSummaryGrace);
      return;
    }
    if (!all_ready()) {
      std::vector<std::string> late;
      for (const Shard& s : shards_) {
        if (!s.ready) late.push_back(s.agent);
      }
      failure_ = "generators not ready within 15 s: " + names(late);
      lock.unlock();
      stop();
      lock.lock();
      wait_for_summaries(lock, Clock::now() + kSummaryGrace);
      return;
    }
    const std::int64_t start_ms = now_unix_ms() + kStartMargin.count();
    lock.unlock();
    auto put =
        session_.client().put(keys::load_go(session_.run(), spec_.name), to_json(StartAt{start_ms}), session_.lease());
    lock.lock();
    if (!put) {
      failure_ = "cannot write the start time: " + put.error();
      lock.unlock();
      stop();
      lock.lock();
      wait_for_summaries(lock, Clock::now() + kSummaryGrace);
      return;
    }
    // The load's second 0 on the run's timeline begins at the start instant.
    started_at_ = bus_->elapsed() + std::chrono::milliseconds(start_ms - now_unix_ms());
    const auto end = Clock::now() + std::chrono::milliseconds(start_ms - now_unix_ms()) + context_.duration;
    merge_until_done(lock, end + kSummaryGrace);
  }

  bool all_ended() const {
    return std::all_of(shards_.begin(), shards_.end(), [](const Shard& s) { return !s.accepted || s.summary; });
  }

  void wait_for_summaries(std::unique_lock<std::mutex>& lock, Clock::time_point by) {
    cv_.wait_until(lock, by, [this] { return all_ended(); });
  }

  void merge_until_done(std::unique_lock<std::mutex>& lock, Clock::time_point give_up) {
    for (;;) {
      publish_due(lock, false);
      if (all_ended()) break;
      auto by = give_up;
      if (stopped_at_) by = std::min(by, *stopped_at_ + kSummaryGrace);
      if (Clock::now() >= by) break;
      cv_.wait_for(lock, std::chrono::milliseconds(100));
    }
    publish_due(lock, true);
  }

  // Publishes every second that is due (all of them at the end), in order.
  void publish_due(std::unique_lock<std::mutex>& lock, bool flush) {
    for (;;) {
      const std::int64_t s = next_second_;
      const auto seen = first_seen_.find(s);
      bool due = false;
      if (seen == first_seen_.end()) {
        // Nobody reported it: at the end, skip to the next one somebody did.
        if (!flush) return;
        if (first_seen_.empty() || first_seen_.rbegin()->first < s) return;
        ++next_second_;
        continue;
      }
      due = flush || Clock::now() - seen->second >= kSecondWait ||
            std::all_of(shards_.begin(), shards_.end(),
                        [s](const Shard& sh) { return !sh.accepted || sh.idle || sh.summary || sh.latest >= s; });
      if (!due) return;
      std::vector<const ShardSecond*> parts;
      for (const Shard& sh : shards_) {
        if (auto it = sh.seconds.find(s); it != sh.seconds.end()) parts.push_back(&it->second);
      }
      load::Tick tick = merge_second(s, parts);
      tick.at_s = std::chrono::duration<double>(std::chrono::seconds(s)).count() + tick.length_s;
      Event e = load::load_tick_event(spec_.name, tick, started_at_);
      e.with("generators", static_cast<std::int64_t>(spec_.generators))
          .with("shards", static_cast<std::int64_t>(parts.size()));
      ticks_.push_back(tick);
      for (Shard& sh : shards_) sh.seconds.erase(s);
      first_seen_.erase(s);
      ++next_second_;
      // Published without the lock: a guardrail may trip on it and stop() us from this thread.
      lock.unlock();
      bus_->publish(std::move(e));
      lock.lock();
    }
  }

  Session& session_;
  const load::LoadSpec spec_;
  const ActivityContext context_;
  EventBus* bus_ = nullptr;
  std::unique_ptr<etcd::Watch> watch_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Shard> shards_;  // the agent names are set before the watch starts; the rest guarded by mutex_
  std::map<std::int64_t, Clock::time_point> first_seen_;  // guarded by mutex_: when a second was first reported
  std::int64_t next_second_ = 0;                          // guarded by mutex_: the next second to publish
  std::vector<load::Tick> ticks_;                         // guarded by mutex_: the merged seconds
  std::optional<Clock::time_point> stopped_at_;           // guarded by mutex_
  std::string failure_;                                   // guarded by mutex_: the barrier failed
  Duration started_at_{0};                                // the load's start on the run's timeline
};

}  // namespace

Result<std::vector<std::string>> generator_agents(const load::LoadSpec& spec, const std::vector<AgentInfo>& agents) {
  AgentSelector selector = spec.generators_on;
  selector.pick = AgentSelector::Pick::all;
  // The `on:` of the load, when it has one: the experiment's line that chose these agents.
  const std::string where =
      spec.generators_on.mark.line > 0 ? "line " + std::to_string(spec.generators_on.mark.line) + ": " : "";
  auto matching = select_agents(selector, agents, 0);
  if (!matching) return Error{where + "load " + spec.name + ": " + matching.error()};
  const auto wanted = static_cast<std::size_t>(spec.generators);
  std::vector<std::string> found;
  for (const auto& a : *matching) found.push_back(a.name);
  if (found.size() < wanted) {
    return Error{where + "load " + spec.name + ": generators: " + std::to_string(wanted) + " needs " +
                 std::to_string(wanted) + " agents, found " + std::to_string(found.size()) + " (" + names(found) + ")"};
  }
  found.resize(wanted);
  return found;
}

std::unique_ptr<Activity> make_distributed_load(Session& session, const load::LoadSpec& spec, ActivityContext context) {
  return std::make_unique<DistributedLoad>(session, spec, std::move(context));
}

}  // namespace chaosplus::fleet
