// Reading Patroni's GET /cluster answers, recorded from the lab's Patroni 3.0.2 while it failed over,
// restarted and rebuilt members (tests/data/patroni),
// and what the client says when no API answers. The live exchanges (read_cluster, /primary,
// switchover) run against the lab in tests/integration.
#include "db/patroni.h"

#include <gtest/gtest.h>

#include "support/support.h"

namespace chaosplus::db {
namespace {

using namespace std::chrono_literals;

std::string recorded(const std::string& name) {
  return testing::read_file(testing::source_path("tests/data/patroni/" + name));
}

TEST(ParseCluster, ReadsEveryMemberOfARecordedAnswer) {
  auto view = parse_cluster(recorded("three_members_async.json"), "127.0.0.13:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->answered_by, "127.0.0.13:8008");
  ASSERT_EQ(view->members.size(), 3u);
  const Member& node1 = view->members[0];
  EXPECT_EQ(node1.name, "node1");
  EXPECT_EQ(node1.role, MemberRole::replica);
  EXPECT_EQ(node1.state, "running");
  EXPECT_EQ(node1.host, "127.0.0.11");
  EXPECT_EQ(node1.port, 5432);
  EXPECT_EQ(node1.api_url, "http://127.0.0.11:8008/patroni");
  EXPECT_EQ(node1.timeline, 1);
  EXPECT_EQ(node1.lag_bytes, 0);
}

TEST(ParseCluster, FindsTheLeaderWhichHasNoLag) {
  auto view = parse_cluster(recorded("three_members_async.json"), "127.0.0.13:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  const Member* leader = view->leader();
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(leader->name, "node3");
  EXPECT_EQ(leader->host, "127.0.0.13");
  EXPECT_EQ(leader->lag_bytes, std::nullopt);
  EXPECT_EQ(view->find("node2"), &view->members[1]);
  EXPECT_EQ(view->find("node9"), nullptr);
}

TEST(ParseCluster, ReadsASynchronousStandby) {
  auto view = parse_cluster(recorded("sync_standby.json"), "127.0.0.11:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  ASSERT_NE(view->leader(), nullptr);
  EXPECT_EQ(view->leader()->name, "node1");
  EXPECT_EQ(view->find("node2")->role, MemberRole::sync_standby);
  EXPECT_EQ(view->find("node3")->role, MemberRole::replica);
}

TEST(ParseCluster, ACrashedLeaderIsStillTheLeaderUntilItsLockExpires) {
  auto view = parse_cluster(recorded("leader_crashed.json"), "127.0.0.11:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  const Member* leader = view->leader();
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(leader->name, "node2");
  EXPECT_EQ(leader->state, "crashed");
  EXPECT_EQ(leader->timeline, std::nullopt);  // Patroni gives none while it is down
  EXPECT_EQ(view->find("node3")->timeline, 2);
}

TEST(ParseCluster, DuringAnElectionThereIsNoLeader) {
  auto view = parse_cluster(recorded("no_leader.json"), "127.0.0.12:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->members.size(), 3u);
  EXPECT_EQ(view->leader(), nullptr);
  EXPECT_EQ(view->find("node2")->role, MemberRole::sync_standby);
}

TEST(ParseCluster, StoppedMembersHaveAnUnknownLag) {
  auto view = parse_cluster(recorded("all_stopped.json"), "127.0.0.11:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->leader(), nullptr);
  for (const auto& m : view->members) {
    EXPECT_EQ(m.state, "stopped");
    EXPECT_EQ(m.lag_bytes, std::nullopt);
    EXPECT_EQ(m.timeline, std::nullopt);
    EXPECT_EQ(m.port, 5432);
  }
}

TEST(ParseCluster, ReadsStatesWithSpaces) {
  auto view = parse_cluster(recorded("creating_replicas.json"), "127.0.0.13:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->find("node1")->state, "creating replica");
  EXPECT_EQ(view->leader()->name, "node3");
}

TEST(ParseCluster, AMissingMemberIsNotListed) {
  auto view = parse_cluster(recorded("two_members.json"), "127.0.0.11:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->members.size(), 2u);
  EXPECT_EQ(view->find("node3"), nullptr);
}

TEST(ParseCluster, AClusterWithNoMemberYet) {
  auto view = parse_cluster(recorded("no_members.json"), "127.0.0.11:8008");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_TRUE(view->members.empty());
  EXPECT_EQ(view->leader(), nullptr);
}

TEST(ParseCluster, MapsEveryRoleNamePatroniHasUsed) {
  auto view = parse_cluster(R"({"members": [
      {"name": "a", "role": "master"}, {"name": "b", "role": "standby_leader"}, {"name": "c", "role": "sync_standby"},
      {"name": "d", "role": "quorum_standby"}, {"name": "e", "role": "replica"}, {"name": "f", "role": "uninitialized"},
      {"name": "g"}]})",
                            "x");
  ASSERT_TRUE(view.ok()) << view.error();
  std::vector<MemberRole> roles;
  for (const auto& m : view->members) roles.push_back(m.role);
  EXPECT_EQ(roles, (std::vector<MemberRole>{MemberRole::leader, MemberRole::leader, MemberRole::sync_standby,
                                            MemberRole::sync_standby, MemberRole::replica, MemberRole::other,
                                            MemberRole::other}));
}

TEST(ParseCluster, AnUnknownLagIsNoLag) {
  auto view =
      parse_cluster(R"({"members": [{"name": "n", "role": "replica", "state": "stopped", "lag": "unknown"}]})", "x");
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->members[0].lag_bytes, std::nullopt);
  EXPECT_EQ(view->members[0].port, 0);  // no host or port while Patroni has none
  EXPECT_EQ(view->leader(), nullptr);   // an election is on
}

TEST(ParseCluster, SaysWhereAMalformedAnswerIsWrong) {
  auto not_json = parse_cluster("<html>502 Bad Gateway</html>", "127.0.0.11:8008");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().find("127.0.0.11:8008"), std::string::npos) << not_json.error();
  EXPECT_NE(not_json.error().find("not JSON"), std::string::npos) << not_json.error();

  auto no_members = parse_cluster(R"({"state": "running"})", "x");
  ASSERT_FALSE(no_members.ok());
  EXPECT_NE(no_members.error().find("\"members\""), std::string::npos) << no_members.error();

  auto bad_port = parse_cluster(R"({"members": [{"name": "a"}, {"name": "b", "port": "fifty"}]})", "x");
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.error().find("members[1].port"), std::string::npos) << bad_port.error();

  auto no_name = parse_cluster(R"({"members": [{"role": "leader"}]})", "x");
  ASSERT_FALSE(no_name.ok());
  EXPECT_NE(no_name.error().find("members[0].name"), std::string::npos) << no_name.error();

  auto bad_lag = parse_cluster(R"({"members": [{"name": "a", "lag": "lots"}]})", "x");
  ASSERT_FALSE(bad_lag.ok());
  EXPECT_NE(bad_lag.error().find("members[0].lag"), std::string::npos) << bad_lag.error();
}

TEST(RoleName, NamesEveryRole) {
  EXPECT_EQ(role_name(MemberRole::leader), "leader");
  EXPECT_EQ(role_name(MemberRole::sync_standby), "sync_standby");
  EXPECT_EQ(role_name(MemberRole::replica), "replica");
  EXPECT_EQ(role_name(MemberRole::other), "other");
}

TEST(ReadCluster, RefusesANonLoopbackApi) {
  auto view = read_cluster({"10.0.0.11:8008"}, 2s);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.code(), ErrorCode::invalid_argument);
  EXPECT_NE(view.error().find("10.0.0.11:8008"), std::string::npos) << view.error();
  EXPECT_FALSE(answers_primary("http://192.0.2.1:8008", 1s));
  auto switchover = request_switchover("192.0.2.1:8008", "node1", "", 1s);
  ASSERT_FALSE(switchover.ok());
  EXPECT_NE(switchover.error().find("not on the allow-list"), std::string::npos) << switchover.error();
}

TEST(ReadCluster, SaysWhatEachSilentApiDid) {
  int a = testing::free_port(), b = testing::free_port();
  const std::string first = "127.0.0.1:" + std::to_string(a),
                    second = "http://127.0.0.1:" + std::to_string(b) + "/patroni";
  auto view = read_cluster({first, second}, 2s);
  ASSERT_FALSE(view.ok());
  EXPECT_EQ(view.code(), ErrorCode::unavailable);
  EXPECT_NE(view.error().find(first), std::string::npos) << view.error();
  EXPECT_NE(view.error().find(second), std::string::npos) << view.error();
  EXPECT_FALSE(answers_primary(first, 1s));
}

TEST(ReadCluster, ASilentApiDoesNotEatTheOthersTime) {
  testing::Listener silent;  // accepts, never answers: a paused Patroni
  int refused = testing::free_port();
  const std::string quiet = "127.0.0.1:" + std::to_string(silent.port());
  const std::string closed = "127.0.0.1:" + std::to_string(refused);
  auto view = read_cluster({quiet, closed}, 1s);
  ASSERT_FALSE(view.ok());
  // The second endpoint was still asked (its refusal is in the error), within the one deadline.
  EXPECT_NE(view.error().find(closed + ":"), std::string::npos) << view.error();
}

TEST(ReadCluster, NeedsAtLeastOneApi) { EXPECT_FALSE(read_cluster({}, 1s).ok()); }

}  // namespace
}  // namespace chaosplus::db
