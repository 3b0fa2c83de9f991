#include "fleet/protocol.h"

#include <gtest/gtest.h>

#include <set>

namespace chaosplus::fleet {
namespace {

std::vector<AgentInfo> fleet_of_four() {
  auto agent = [](std::string name, std::map<std::string, std::string> labels) {
    AgentInfo a;
    a.name = std::move(name);
    a.host = a.name + ".lab";
    a.labels = std::move(labels);
    return a;
  };
  return {agent("node-3", {{"role", "app"}}), agent("node-1", {{"role", "db"}, {"zone", "a"}}),
          agent("node-4", {{"role", "db"}, {"zone", "b"}}), agent("node-2", {{"role", "db"}, {"zone", "b"}})};
}

std::vector<std::string> names(const std::vector<AgentInfo>& agents) {
  std::vector<std::string> out;
  for (const auto& a : agents) out.push_back(a.name);
  return out;
}

TEST(FleetKeys, SequencesSortAsNumbersAndSplitBackIntoTheirParts) {
  EXPECT_LT(keys::work("a", "r", 9), keys::work("a", "r", 10));
  EXPECT_EQ(keys::work("node-1", "run-7", 42), "/chaosplus/work/node-1/run-7/0000000042");
  EXPECT_TRUE(keys::work("node-1", "run-7", 42).starts_with(keys::work_prefix("node-1")));
  EXPECT_TRUE(keys::reply("run-7", "node-1", 3).starts_with(keys::reply_prefix("run-7")));
  EXPECT_TRUE(keys::load_second("r", "spike", "node-2", 5).starts_with(keys::load_prefix("r", "spike")));
  EXPECT_LT(keys::load_second("r", "l", "n", 99), keys::load_second("r", "l", "n", 100));
  EXPECT_EQ(keys::split(keys::status("run-7", "node-1", "f3")),
            (std::vector<std::string>{"status", "run-7", "node-1", "f3"}));
  // One run's prefix is not a prefix of another run's keys.
  EXPECT_FALSE(keys::live("run-10").starts_with(keys::live("run-1") + "/"));
  EXPECT_FALSE(keys::reply("run-10", "a", 1).starts_with(keys::reply_prefix("run-1")));
}

TEST(FleetMessages, EveryMessageComesBackAsItWasWritten) {
  AgentInfo agent = fleet_of_four()[1];
  agent.addresses = {"10.77.0.11"};
  agent.pid = 4242;
  const auto agent_back = agent_from_json(to_json(agent));
  ASSERT_TRUE(agent_back) << agent_back.error();
  EXPECT_EQ(agent_back->labels, agent.labels);
  EXPECT_EQ(agent_back->addresses, agent.addresses);
  EXPECT_EQ(agent_back->pid, 4242);

  Command setup;
  setup.op = Command::Op::setup;
  setup.run = "run-1";
  setup.seq = 1;
  setup.lease = 7587869785L;
  setup.experiment_yaml = "name: x\n";
  setup.vars = {{"HOST", "10.77.0.11"}};
  setup.targets = {"tokens"};
  setup.ttl_ms = 5000;
  const auto setup_back = command_from_json(to_json(setup));
  ASSERT_TRUE(setup_back) << setup_back.error();
  EXPECT_EQ(setup_back->op, Command::Op::setup);
  EXPECT_EQ(setup_back->lease, 7587869785L);
  EXPECT_EQ(setup_back->experiment_yaml, "name: x\n");
  EXPECT_EQ(setup_back->vars, setup.vars);
  EXPECT_EQ(setup_back->targets, setup.targets);

  Command load;
  load.op = Command::Op::load;
  load.activity = "spike";
  load.segment_index = 3;
  load.segment_count = 4;
  load.duration_ms = 5000;
  const auto load_back = command_from_json(to_json(load));
  ASSERT_TRUE(load_back) << load_back.error();
  EXPECT_EQ(load_back->segment_index, 3);
  EXPECT_EQ(load_back->segment_count, 4);
  EXPECT_TRUE(load_back->experiment_yaml.empty());
  // To a generator that had no setup, the load brings the experiment.
  load.experiment_yaml = "name: x\n";
  load.source_path = "x.yaml";
  load.vars = {{"PORT", "8080"}};
  load.ttl_ms = 5000;
  const auto with_experiment = command_from_json(to_json(load));
  ASSERT_TRUE(with_experiment) << with_experiment.error();
  EXPECT_EQ(with_experiment->experiment_yaml, "name: x\n");
  EXPECT_EQ(with_experiment->source_path, "x.yaml");
  EXPECT_EQ(with_experiment->vars.at("PORT"), "8080");
  EXPECT_EQ(with_experiment->ttl_ms, 5000);

  Reply reply;
  reply.ok = true;
  reply.kind = "process.paused";
  reply.pids = {{"tokens", 99}};
  reply.reach = {{"connections", 12}};
  const auto reply_back = reply_from_json(to_json(reply));
  ASSERT_TRUE(reply_back) << reply_back.error();
  EXPECT_TRUE(reply_back->ok);
  EXPECT_EQ(reply_back->pids, reply.pids);
  EXPECT_EQ(reply_back->reach, reply.reach);

  ShardSummary summary;
  summary.total.second = -1;
  summary.total.requests = 40000;
  summary.total.status = {{200, 39990}, {503, 10}};
  summary.total.latency_us = {{120, 30000}, {4095, 10000}};
  summary.elapsed_s = 5.001;
  const auto summary_back = summary_from_json(to_json(summary));
  ASSERT_TRUE(summary_back) << summary_back.error();
  EXPECT_EQ(summary_back->total.status, summary.total.status);
  EXPECT_EQ(summary_back->total.latency_us, summary.total.latency_us);
  EXPECT_EQ(summary_back->total.second, -1);
}

TEST(FleetMessages, AWrongMessageIsAnErrorNamingIt) {
  EXPECT_FALSE(command_from_json("[1]"));
  EXPECT_FALSE(command_from_json("not json"));
  const auto unknown = command_from_json(R"({"op":"explode"})");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().find("explode"), std::string::npos) << unknown.error();
  const auto bad_type = reply_from_json(R"({"ok":"yes"})");
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.error().find("reply"), std::string::npos) << bad_type.error();
  EXPECT_FALSE(command_from_json(R"({"op":"load","segment_index":4,"segment_count":4})"));
}

TEST(SelectAgents, LabelsMustAllMatchAndOneTakesTheFirstByName) {
  AgentSelector db;
  db.labels = {{"role", "db"}};
  auto one = select_agents(db, fleet_of_four(), 1);
  ASSERT_TRUE(one) << one.error();
  EXPECT_EQ(names(*one), std::vector<std::string>{"node-1"});

  db.pick = AgentSelector::Pick::all;
  db.labels["zone"] = "b";
  auto zone_b = select_agents(db, fleet_of_four(), 1);
  ASSERT_TRUE(zone_b) << zone_b.error();
  EXPECT_EQ(names(*zone_b), (std::vector<std::string>{"node-2", "node-4"}));

  AgentSelector by_host;
  by_host.host = "node-3.lab";
  auto host = select_agents(by_host, fleet_of_four(), 1);
  ASSERT_TRUE(host) << host.error();
  EXPECT_EQ(names(*host), std::vector<std::string>{"node-3"});
}

TEST(SelectAgents, ARandomShareIsDrawnFromTheSeedAndNeverEmpty) {
  AgentSelector share;
  share.labels = {{"role", "db"}};
  share.pick = AgentSelector::Pick::random;
  share.share = 0.5;  // of 3 matches: 2
  auto first = select_agents(share, fleet_of_four(), 42);
  auto again = select_agents(share, fleet_of_four(), 42);
  ASSERT_TRUE(first && again);
  EXPECT_EQ(first->size(), 2u);
  EXPECT_EQ(names(*first), names(*again));
  std::set<std::vector<std::string>> draws;
  for (std::uint64_t seed = 0; seed < 64; ++seed) draws.insert(names(*select_agents(share, fleet_of_four(), seed)));
  EXPECT_GT(draws.size(), 1u);  // the seed decides
  share.share = 0.01;
  EXPECT_EQ(select_agents(share, fleet_of_four(), 7)->size(), 1u);
}

TEST(SelectAgents, NoMatchSaysWhatWasAskedAndWhatIsThere) {
  AgentSelector cache;
  cache.labels = {{"role", "cache"}};
  auto none = select_agents(cache, fleet_of_four(), 1);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("role=cache"), std::string::npos) << none.error();
  EXPECT_NE(none.error().find("node-1 (role=db,zone=a)"), std::string::npos) << none.error();
  auto empty = select_agents(cache, {}, 1);
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("no agent is registered"), std::string::npos) << empty.error();
}

}  // namespace
}  // namespace chaosplus::fleet
