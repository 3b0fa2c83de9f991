// Distributed load end to end on loopback (docs/load.md, "Distributed load"): a real etcd
// (tests/support/etcd_cluster.h), four real `chaosplus agent` processes, a real nginx, and the
// controller's fleet::Session and DistributedLoad activity in this process. The test reads every
// shard's records from etcd on its own watch and checks the merged figures against them: the merged
// whole-run p99 is the p99 of all samples pooled (record_n of the four summaries' histograms), and
// each merged second's requests are the shards' requests of that second. A guardrail on the merged
// ticks (runner::Monitor, as the runner judges them) stops all four together.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "etcd/client.h"
#include "fleet/distributed_load.h"
#include "fleet/load_merge.h"
#include "fleet/protocol.h"
#include "fleet/session.h"
#include "load/latency_histogram.h"
#include "load/load_spec.h"
#include "runner/monitor.h"
#include "spec/loader.h"
#include "support/etcd_cluster.h"
#include "support/journal.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::wait_until;

constexpr int kGenerators = 4;

std::int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// nginx answering 200 on a loopback port: one master, two workers (the machine's two cores), long
// keep-alive so the generators' connections stay open.
struct Nginx {
  testing::TempDir dir;
  int port = testing::free_port();
  std::unique_ptr<testing::Child> process;
  Nginx() {
    const std::string d = dir.path();
    testing::write_file(
        dir.file("nginx.conf"),
        "worker_processes 2;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " + d +
            "/error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n"
            "  keepalive_requests 1000000;\n  client_body_temp_path " +
            d + "/body;\n  proxy_temp_path " + d + "/proxy;\n  fastcgi_temp_path " + d +
            "/fastcgi;\n  uwsgi_temp_path " + d + "/uwsgi;\n  scgi_temp_path " + d +
            "/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(port) +
            ";\n    location / { return 200 \"ok\\n\"; }\n    location /fail { return 503; }\n  }\n}\n");
    process = std::make_unique<testing::Child>(
        std::vector<std::string>{"nginx", "-p", d, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")});
    const bool up =
        wait_until([&] { return testing::http_request("GET", "127.0.0.1", port, "/", {}, 1s).status == 200; }, 15s);
    if (!up) ADD_FAILURE() << "nginx did not start: " << process->output() << testing::read_file(dir.file("error.log"));
  }
};

// What the shards wrote to etcd, as this test's own watch saw it (not the activity's).
struct ShardRecords {
  std::mutex mutex;
  std::map<std::string, std::map<std::int64_t, fleet::ShardSecond>> seconds;  // agent -> second -> record
  std::map<std::string, fleet::ShardSummary> summaries;
  std::map<std::string, std::int64_t> start_ms;  // from the go key

  void add(const std::string& prefix, const std::vector<etcd::WatchEvent>& events) {
    std::lock_guard lock(mutex);
    for (const auto& e : events) {
      if (e.type != etcd::WatchEvent::Type::put) continue;
      const auto parts = fleet::keys::split(e.kv.key.substr(prefix.size()));
      if (parts.size() == 1 && parts[0] == "go") {
        if (auto s = fleet::start_from_json(e.kv.value)) start_ms["go"] = s->unix_ms;
      } else if (parts.size() == 3 && parts[1] == "s") {
        if (auto s = fleet::second_from_json(e.kv.value)) seconds[parts[0]][s->second] = *s;
      } else if (parts.size() == 2 && parts[1] == "summary") {
        if (auto s = fleet::summary_from_json(e.kv.value)) summaries[parts[0]] = *s;
      }
    }
  }
  std::size_t summary_count() {
    std::lock_guard lock(mutex);
    return summaries.size();
  }
};

struct Recorded {
  std::mutex mutex;
  std::vector<Event> events;
  std::vector<Event> of(const std::string& type) {
    std::lock_guard lock(mutex);
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
};

class DistributedLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_ = std::make_unique<testing::EtcdCluster>(1);
    ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    options_.endpoints = cluster_->endpoints();
    auto client = etcd::Client::connect(options_);
    ASSERT_TRUE(client.ok()) << client.error();
    client_ = std::move(client).value();
    for (int i = 0; i < kGenerators; ++i) {
      const std::string name = "gen-" + std::to_string(i);
      agents_.push_back(std::make_unique<testing::Child>(std::vector<std::string>{
          testing::bin("chaosplus"), "agent", "--etcd", cluster_->endpoint(0), "--name", name, "--label",
          "role=loadgen", "--state-dir", dir_.file("state-" + name), "--ttl", "2s"}));
      ASSERT_TRUE(wait_until(
          [&] {
            auto kv = client_->get(fleet::keys::agent(name));
            return (kv.ok() && kv->has_value()) || !agents_.back()->running();
          },
          20s));
      ASSERT_TRUE(agents_.back()->running()) << agents_.back()->output();
    }
    bus_.subscribe([this](const Event& e) {
      std::lock_guard lock(seen_.mutex);
      seen_.events.push_back(e);
    });
  }

  // Loads the experiment as the controller does, opens the run's session, sets every generator up
  // with the experiment, and watches the load's keys on the test's own watch.
  void open(const std::string& yaml, const std::string& run) {
    write_experiment(yaml);
    auto loaded = spec::load_experiment_file(experiment_path());
    ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
    experiment_ = std::make_unique<spec::Experiment>(std::move(*loaded.experiment));
    fleet::Session::Settings settings;
    settings.etcd = options_;
    settings.run = run;
    settings.experiment = experiment_->name;
    settings.ttl = 5s;
    auto session = fleet::Session::open(settings, bus_, halt_);
    ASSERT_TRUE(session.ok()) << session.error();
    session_ = std::move(session).value();
    for (int i = 0; i < kGenerators; ++i) {
      fleet::Command setup;
      setup.op = fleet::Command::Op::setup;
      setup.experiment_yaml = yaml;
      setup.source_path = experiment_path();
      setup.ttl_ms = 5000;
      auto reply = session_->call("gen-" + std::to_string(i), setup, 30s);
      ASSERT_TRUE(reply.ok()) << reply.error();
      ASSERT_TRUE(reply->ok) << reply->error;
    }
    const std::string prefix = fleet::keys::load_prefix(run, "shoppers");
    std::int64_t revision = 0;
    ASSERT_TRUE(client_->get_prefix(prefix, &revision).ok());
    watch_ = client_->watch_prefix(
        prefix, revision + 1, [this, prefix](const std::vector<etcd::WatchEvent>& ev) { records_.add(prefix, ev); });
  }

  const load::LoadSpec& load_spec() const { return *experiment_->phases.at(0).activities.at(0).as<load::LoadSpec>(); }
  ActivityContext context() const {
    const auto& phase = experiment_->phases.at(0);
    return ActivityContext{"load", "shoppers", phase.name, phase.duration, {}};
  }

  void write_experiment(const std::string& yaml) { testing::write_file(experiment_path(), yaml); }
  std::string experiment_path() const { return dir_.file("spread.yaml"); }

  void TearDown() override {
    watch_.reset();
    if (session_) {
      for (int i = 0; i < kGenerators; ++i) {
        fleet::Command teardown;
        teardown.op = fleet::Command::Op::teardown;
        (void)session_->call("gen-" + std::to_string(i), teardown, 30s);
      }
      session_->close();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::EtcdCluster> cluster_;
  etcd::Options options_;
  std::unique_ptr<etcd::Client> client_;
  std::vector<std::unique_ptr<testing::Child>> agents_;
  EventBus bus_;
  HaltSwitch halt_;
  Recorded seen_;
  std::unique_ptr<spec::Experiment> experiment_;
  std::unique_ptr<fleet::Session> session_;
  ShardRecords records_;
  std::unique_ptr<etcd::Watch> watch_;
};

std::string experiment(int port, const std::string& duration, const std::string& extra = "",
                       const std::string& path = "/") {
  return R"(name: spread
phases:
  - name: peak
    duration: )" +
         duration + R"(
    load:
      name: shoppers
      url: http://127.0.0.1:)" +
         std::to_string(port) + path + R"(
      rate: 40000/s
      connections: 200
      generators: 4
      on: {role: loadgen}
      thresholds: ["p99 < 10s"]
)" + extra;
}

TEST_F(DistributedLoadTest, FourGeneratorsMergeToThePooledFiguresAndAddUpPerSecond) {
  Nginx nginx;
  ASSERT_NO_FATAL_FAILURE(open(experiment(nginx.port, "5s"), "dload-merge"));
  auto activity = fleet::make_distributed_load(*session_, load_spec(), context());
  ASSERT_TRUE(activity->start(bus_, halt_).ok());
  // The phase runs its length: every shard writes its summary when its 5 s are over.
  ASSERT_TRUE(wait_until([&] { return records_.summary_count() == kGenerators; }, 30s))
      << records_.summary_count() << " summaries";
  activity->stop();
  auto judgments = activity->finish();
  ASSERT_TRUE(judgments.ok()) << judgments.error();
  ASSERT_EQ(judgments->size(), 1u);

  const auto summaries = seen_.of("load.summary");
  ASSERT_EQ(summaries.size(), 1u);
  const Event& summary = summaries[0];
  EXPECT_EQ(summary.number("generators"), kGenerators);

  // The pooled figure, computed here from what the shards wrote, not from what the activity merged.
  load::LatencyHistogram pooled;
  std::uint64_t requests = 0;
  double rps = 0;
  std::lock_guard lock(records_.mutex);
  for (const auto& [agent, s] : records_.summaries) {
    EXPECT_TRUE(s.error.empty()) << agent << ": " << s.error;
    EXPECT_GT(s.total.requests, 0u) << agent << " sent nothing";
    fleet::add_latency(s.total, pooled);
    requests += s.total.requests;
    rps += s.elapsed_s > 0 ? static_cast<double>(s.total.requests) / s.elapsed_s : 0;
    std::printf("[ figures  ] %s: %llu requests in %.2f s (%.0f/s), p99 %.3f ms\n", agent.c_str(),
                static_cast<unsigned long long>(s.total.requests), s.elapsed_s,
                s.elapsed_s > 0 ? static_cast<double>(s.total.requests) / s.elapsed_s : 0.0, [&] {
                  load::LatencyHistogram own;
                  fleet::add_latency(s.total, own);
                  return static_cast<double>(own.value_at_percentile(99)) / 1e3;
                }());
  }
  ASSERT_EQ(records_.summaries.size(), static_cast<std::size_t>(kGenerators));
  EXPECT_EQ(static_cast<std::uint64_t>(summary.number("requests")), requests);
  EXPECT_EQ(pooled.count(), requests);
  EXPECT_DOUBLE_EQ(summary.number("p99_ms"), static_cast<double>(pooled.value_at_percentile(99)) / 1e3);
  EXPECT_DOUBLE_EQ(summary.number("p50_ms"), static_cast<double>(pooled.value_at_percentile(50)) / 1e3);
  EXPECT_DOUBLE_EQ(judgments->at(0).measured, static_cast<double>(pooled.value_at_percentile(99)) / 1e6);
  std::printf(
      "[ figures  ] merged: %llu requests, %.0f/s (summary rps %.0f), p50 %.3f ms, p99 %.3f ms, pooled p99 %.3f ms\n",
      static_cast<unsigned long long>(requests), rps, summary.number("rps"), summary.number("p50_ms"),
      summary.number("p99_ms"), static_cast<double>(pooled.value_at_percentile(99)) / 1e3);

  // Each merged second is the sum of the shards' records of that second, and its p99 the pooled one.
  const auto ticks = seen_.of("load.tick");
  ASSERT_GE(ticks.size(), 4u);
  std::uint64_t ticked = 0;
  double most_connections = 0;
  for (const Event& tick : ticks) {
    EXPECT_EQ(tick.text("load"), "shoppers");
    EXPECT_EQ(tick.number("generators"), kGenerators);
    const auto second = static_cast<std::int64_t>(tick.number("second"));
    std::uint64_t shard_requests = 0, shard_connections = 0;
    load::LatencyHistogram second_pooled;
    for (const auto& [agent, by_second] : records_.seconds) {
      if (auto it = by_second.find(second); it != by_second.end()) {
        shard_requests += it->second.requests;
        shard_connections += it->second.open_connections;
        fleet::add_latency(it->second, second_pooled);
      }
    }
    EXPECT_EQ(static_cast<std::uint64_t>(tick.number("requests")), shard_requests) << "second " << second;
    EXPECT_DOUBLE_EQ(tick.number("p99_ms"), static_cast<double>(second_pooled.value_at_percentile(99)) / 1000)
        << "second " << second;
    EXPECT_EQ(static_cast<std::uint64_t>(tick.number("open_connections")), shard_connections) << "second " << second;
    most_connections = std::max(most_connections, tick.number("open_connections"));
    ticked += static_cast<std::uint64_t>(tick.number("requests"));
    std::printf("[ figures  ] second %lld: %.0f requests from %.0f shards, p99 %.3f ms\n",
                static_cast<long long>(second), tick.number("requests"), tick.number("shards"), tick.number("p99_ms"));
  }
  // The seconds of a load add up to its summary (each shard's do; so do the merged ones).
  EXPECT_EQ(ticked, requests);
  EXPECT_GT(most_connections, 0) << "the merged ticks say no connection was open";
}

TEST_F(DistributedLoadTest, AGuardrailOnTheMergedTicksStopsAllFourTogether) {
  // nginx answers 503 on /fail: every request fails, the merged error rate is 100%.
  Nginx nginx;
  ASSERT_NO_FATAL_FAILURE(open(experiment(nginx.port, "20s", R"(guardrails:
  - name: errors
    when: { load: shoppers, error_rate: "> 50%", over: 5s }
)",
                                          "/fail"),
                               "dload-halt"));
  runner::Monitor monitor(*experiment_);
  std::mutex halt_mutex;
  std::int64_t halted_ms = 0;
  std::unique_ptr<Activity> activity;
  bus_.subscribe([&](const Event& e) {
    if (auto trip = monitor.on_event(e)) {
      if (halt_.trigger("guardrail " + trip->guardrail + ": " + trip->message)) {
        std::lock_guard lock(halt_mutex);
        halted_ms = now_unix_ms();
      }
    }
  });
  activity = fleet::make_distributed_load(*session_, load_spec(), context());
  ASSERT_TRUE(activity->start(bus_, halt_).ok());
  // As the runner does: the halt stops the phase's activities.
  ASSERT_TRUE(halt_.wait_for(30s)) << "the guardrail did not trip";
  activity->stop();
  auto judgments = activity->finish();
  ASSERT_TRUE(judgments.ok()) << judgments.error();
  ASSERT_TRUE(wait_until([&] { return records_.summary_count() == kGenerators; }, 15s));

  std::lock_guard lock(records_.mutex);
  std::lock_guard halt_lock(halt_mutex);
  ASSERT_GT(halted_ms, 0);
  const std::int64_t start_ms = records_.start_ms.at("go");
  std::printf("[ figures  ] halted %.3f s after the start: %s\n", (halted_ms - start_ms) / 1000.0,
              halt_.reason().c_str());
  for (const auto& [agent, s] : records_.summaries) {
    // Each shard ended within 2 s of the halt: its run lasted no longer, and its last second began before.
    const double ended_s = s.elapsed_s;
    const double halt_s = static_cast<double>(halted_ms - start_ms) / 1000.0;
    std::int64_t last = -1;
    if (auto it = records_.seconds.find(agent); it != records_.seconds.end() && !it->second.empty()) {
      last = it->second.rbegin()->first;
    }
    std::printf("[ figures  ] %s: ran %.3f s, last second %lld, %llu failed of %llu attempted\n", agent.c_str(),
                ended_s, static_cast<long long>(last), static_cast<unsigned long long>(s.total.failed),
                static_cast<unsigned long long>(s.total.requests + s.total.transport_errors));
    EXPECT_TRUE(s.error.empty()) << agent << ": " << s.error;
    EXPECT_LT(ended_s, halt_s + 2.0) << agent;
    EXPECT_LT(static_cast<double>(last), halt_s + 2.0) << agent;
    EXPECT_LT(ended_s, 10.0) << agent << " ran on towards its 20 s: the stop did not reach it";
  }
}

// The whole way a user takes it: `chaosplus run --etcd` of an experiment whose phase's load has
// generators: 4. The runner sets the four agents up, the phase's load runs on them, the merged ticks
// reach the run's guardrail, which aborts the run (exit 2), and every generator stops with it.
TEST_F(DistributedLoadTest, ChaosplusRunSpreadsTheLoadAndItsGuardrailAbortsAllFour) {
  Nginx nginx;
  write_experiment(experiment(nginx.port, "20s", R"(guardrails:
  - name: errors
    when: { load: shoppers, error_rate: "> 50%", over: 5s }
)",
                              "/fail"));
  // Every shard's records, whatever the run's id: the run's keys go with its lease at the end.
  const std::string prefix = "/chaosplus/load/";
  std::mutex mutex;
  std::map<std::string, fleet::ShardSummary> summaries;  // by agent
  std::int64_t start_ms = 0;
  std::int64_t revision = 0;
  ASSERT_TRUE(client_->get_prefix(prefix, &revision).ok());
  auto watch = client_->watch_prefix(prefix, revision + 1, [&](const std::vector<etcd::WatchEvent>& events) {
    std::lock_guard lock(mutex);
    for (const auto& e : events) {
      if (e.type != etcd::WatchEvent::Type::put) continue;
      const auto parts = fleet::keys::split(e.kv.key);  // load, run, activity, agent|go, ...
      if (parts.size() == 4 && parts[3] == "go") {
        if (auto go = fleet::start_from_json(e.kv.value)) start_ms = go->unix_ms;
      } else if (parts.size() == 5 && parts[4] == "summary") {
        if (auto summary = fleet::summary_from_json(e.kv.value)) summaries[parts[3]] = *summary;
      }
    }
  });
  const std::string journal = dir_.file("journal.jsonl");
  testing::Child run({testing::bin("chaosplus"), "run", experiment_path(), "--plain", "--state-dir",
                      dir_.file("run-state"), "--journal", journal, "--etcd", cluster_->endpoint(0)});
  const auto code = run.wait(90s);
  ASSERT_TRUE(code.has_value()) << run.output();
  EXPECT_EQ(*code, 2) << run.output();  // aborted by the guardrail

  const auto trips = testing::journal_events(journal, "guardrail.tripped");
  ASSERT_EQ(trips.size(), 1u) << run.output();
  const auto ticks = testing::journal_events(journal, "load.tick");
  ASSERT_FALSE(ticks.empty());
  EXPECT_EQ(ticks.front().value("generators", 0), kGenerators);
  const auto summary = testing::journal_events(journal, "load.summary");
  ASSERT_EQ(summary.size(), 1u) << run.output();
  EXPECT_EQ(summary[0].value("generators", 0), kGenerators);
  EXPECT_DOUBLE_EQ(summary[0].value("error_rate", 0.0), 1.0);

  // Every generator ended with the run, long before its 20 s, and its requests are in the summary.
  // The run read the four shard summaries before it ended; this test's own watch may see them later.
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return summaries.size() == static_cast<std::size_t>(kGenerators);
      },
      15s));
  std::lock_guard lock(mutex);
  ASSERT_GT(start_ms, 0);
  std::uint64_t requests = 0;
  double longest = 0;
  for (const auto& [agent, s] : summaries) {
    EXPECT_TRUE(s.error.empty()) << agent << ": " << s.error;
    requests += s.total.requests;
    longest = std::max(longest, s.elapsed_s);
    std::printf("[ figures  ] run: %s ran %.3f s, %llu requests\n", agent.c_str(), s.elapsed_s,
                static_cast<unsigned long long>(s.total.requests));
  }
  EXPECT_EQ(static_cast<std::uint64_t>(summary[0].value("requests", std::int64_t{0})), requests);
  EXPECT_LT(longest, 10.0);
}

}  // namespace
}  // namespace chaosplus
