// The Patroni client and the libpq connection against the real lab (3 Patroni + PostgreSQL 15 on
// 127.0.0.11-13, tests/support/pg_lab.h): who leads, who answers /primary, a multi-host connection
// that lands on the primary, and a switchover and a failover asked through the REST API.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>

#include "db/patroni.h"
#include "db/pg_client.h"
#include "probes/probe.h"
#include "support/pg_lab.h"
#include "support/support.h"

namespace chaosplus::db {
namespace {

using namespace std::chrono_literals;
using testing::PgLab;

class PatroniClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PgLab::missing().empty()) return;
    lab_ = std::make_unique<PgLab>();
    lab_error_ = lab_->up();
  }
  static void TearDownTestSuite() {
    if (lab_) lab_error_ = lab_->release();
    EXPECT_EQ(lab_error_, "") << "the lab left something behind";
    lab_.reset();
  }
  void SetUp() override {
    if (auto why = PgLab::missing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(lab_error_, "");
    ASSERT_TRUE(lab_->wait_healthy(90s)) << lab_->status();
  }

  // The view once it shows `name` as the leader answering /primary.
  static bool leads(const std::string& name) {
    auto view = read_cluster(PgLab::apis(), 3s);
    if (!view || !view->leader() || view->leader()->name != name) return false;
    return answers_primary(view->leader()->api_url, 2s);
  }

  // From the request to a moment of the move (the new leader answers /primary, a read-write
  // connection opens): a figure for the log, not a check.
  static void report(const std::string& key, const std::string& what, std::chrono::steady_clock::time_point start) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %s %lld ms after the request\n", key.c_str(), what.c_str(), static_cast<long long>(ms));
    ::testing::Test::RecordProperty(key + "_ms", std::to_string(ms));
  }

  // A read-write multi-host connection and an sql probe both follow the primary to its new node.
  // Patroni answers /primary as soon as the member holds the leader key, which can be before its
  // PostgreSQL has left recovery ("session is read-only" everywhere for a moment): wait for it.
  static void expect_probe_on_primary(const std::string& move, const std::string& leader,
                                      std::chrono::steady_clock::time_point start) {
    std::string last_error;
    std::string host;
    ASSERT_TRUE(testing::wait_until(
        [&] {
          auto conn = Connection::open(PgLab::dsn("postgres"), 5s);
          if (!conn) last_error = conn.error();
          else host = (*conn)->host();
          return conn.ok();
        },
        30s))
        << last_error;
    report(move + "_writable", "a read-write connection opens", start);
    EXPECT_EQ(PgLab::name_of(host), leader);
    spec::Probe probe;
    probe.name = "primary-writable";
    probe.kind = spec::SqlProbe{PgLab::dsn("postgres"), "SELECT pg_is_in_recovery(), inet_server_addr()", 10s};
    probe.expect.value = "f";
    probe.expect.rows = Comparison{CompareOp::equal, 1};
    const auto result = probes::run(probe);
    EXPECT_TRUE(result.ok) << result.detail;
  }

  static inline std::unique_ptr<PgLab> lab_;
  static inline std::string lab_error_;
};

// The checks on a healthy lab, each a function so that a failed ASSERT ends only its own.
void ReadsTheClusterWithOneLeaderAndItsMembers(PgLab& lab) {
  auto view = read_cluster(PgLab::apis(), 5s);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->answered_by, PgLab::apis()[0]);
  ASSERT_EQ(view->members.size(), 3u);
  const Member* leader = view->leader();
  ASSERT_NE(leader, nullptr);
  EXPECT_EQ(std::optional<std::string>(leader->host), lab.leader());
  for (const auto& m : view->members) {
    EXPECT_EQ(PgLab::name_of(m.host), m.name);
    EXPECT_EQ(m.port, PgLab::pg_port);
    EXPECT_EQ(m.api_url, "http://" + m.host + ":8008/patroni");
    EXPECT_TRUE(m.timeline.has_value()) << m.name;
    if (m.role != MemberRole::leader) {
      EXPECT_TRUE(m.lag_bytes.has_value()) << m.name;
    }
  }
}

void TheNextApiAnswersWhenTheFirstIsDown(PgLab& /*lab*/) {
  const std::string dead = "127.0.0.1:" + std::to_string(testing::free_port());
  auto view = read_cluster({dead, PgLab::apis()[1]}, 5s);
  ASSERT_TRUE(view.ok()) << view.error();
  EXPECT_EQ(view->answered_by, PgLab::apis()[1]);
}

void OnlyTheLeaderAnswersPrimary(PgLab& /*lab*/) {
  auto view = read_cluster(PgLab::apis(), 5s);
  ASSERT_TRUE(view.ok()) << view.error();
  for (const auto& m : view->members)
    EXPECT_EQ(answers_primary(m.host + ":8008", 3s), m.role == MemberRole::leader) << m.name;
}

void AReadWriteMultiHostConnectionLandsOnThePrimary(PgLab& lab) {
  auto leader = lab.leader();
  ASSERT_TRUE(leader);
  auto conn = Connection::open(PgLab::dsn("postgres"), 15s);
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ((*conn)->host(), *leader);
  EXPECT_EQ((*conn)->port(), PgLab::pg_port);
  auto answer = (*conn)->query("SELECT pg_is_in_recovery()", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(answer));
  EXPECT_EQ(std::get<QueryResult>(answer).rows.at(0).at(0), "f");
}

void AWriteOnAReplicaIsRejectedAsReadOnly(PgLab& lab) {
  auto replicas = lab.replicas();
  ASSERT_FALSE(replicas.empty());
  auto conn = Connection::open("host=" + replicas[0] + " port=5432 user=postgres dbname=postgres", 10s);
  ASSERT_TRUE(conn.ok()) << conn.error();
  auto answer = (*conn)->query("CREATE TABLE never_here (id int)", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryError>(answer));
  EXPECT_EQ(std::get<QueryError>(answer).failure, Failure::rejected);
  EXPECT_EQ(std::get<QueryError>(answer).sqlstate, "25006");
}

void ASwitchoverFromTheWrongLeaderIsRefusedWithPatronisAnswer(PgLab& /*lab*/) {
  auto view = read_cluster(PgLab::apis(), 5s);
  ASSERT_TRUE(view.ok()) << view.error();
  std::string not_leader;
  for (const auto& m : view->members)
    if (m.role != MemberRole::leader) not_leader = m.name;
  auto refused = request_switchover(PgLab::apis()[0], not_leader, "", 30s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("412"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("leader name does not match"), std::string::npos) << refused.error();
}

// One test for the checks that leave the lab as it is: under ctest every test is a process of its
// own that brings the lab up and down (about a minute), so they share one.
TEST_F(PatroniClient, AHealthyLabSeenThroughTheClient) {
  {
    SCOPED_TRACE("ReadsTheClusterWithOneLeaderAndItsMembers");
    ReadsTheClusterWithOneLeaderAndItsMembers(*lab_);
  }
  {
    SCOPED_TRACE("TheNextApiAnswersWhenTheFirstIsDown");
    TheNextApiAnswersWhenTheFirstIsDown(*lab_);
  }
  {
    SCOPED_TRACE("OnlyTheLeaderAnswersPrimary");
    OnlyTheLeaderAnswersPrimary(*lab_);
  }
  {
    SCOPED_TRACE("AReadWriteMultiHostConnectionLandsOnThePrimary");
    AReadWriteMultiHostConnectionLandsOnThePrimary(*lab_);
  }
  {
    SCOPED_TRACE("AWriteOnAReplicaIsRejectedAsReadOnly");
    AWriteOnAReplicaIsRejectedAsReadOnly(*lab_);
  }
  {
    SCOPED_TRACE("ASwitchoverFromTheWrongLeaderIsRefusedWithPatronisAnswer");
    ASwitchoverFromTheWrongLeaderIsRefusedWithPatronisAnswer(*lab_);
  }
}

TEST_F(PatroniClient, SwitchoverAndFailoverMoveTheLeader) {
  auto view = read_cluster(PgLab::apis(), 5s);
  ASSERT_TRUE(view.ok()) << view.error();
  ASSERT_NE(view->leader(), nullptr);
  const std::string old_leader = view->leader()->name;
  std::vector<std::string> others;
  for (const auto& m : view->members)
    if (m.name != old_leader) others.push_back(m.name);
  ASSERT_EQ(others.size(), 2u);

  auto start = std::chrono::steady_clock::now();
  auto switched = request_switchover(view->leader()->api_url, old_leader, others[0], 60s);
  ASSERT_TRUE(switched.ok()) << switched.error();
  EXPECT_TRUE(testing::wait_until([&] { return leads(others[0]); }, 60s)) << lab_->status();
  report("switchover_primary", "the new leader answers /primary", start);
  expect_probe_on_primary("switchover", others[0], start);
  ASSERT_TRUE(lab_->wait_healthy(90s)) << lab_->status();

  start = std::chrono::steady_clock::now();
  auto failed_over = request_failover(PgLab::apis()[2], others[1], 60s);
  ASSERT_TRUE(failed_over.ok()) << failed_over.error();
  EXPECT_TRUE(testing::wait_until([&] { return leads(others[1]); }, 60s)) << lab_->status();
  report("failover_primary", "the new leader answers /primary", start);
  expect_probe_on_primary("failover", others[1], start);
  EXPECT_TRUE(lab_->wait_healthy(90s)) << lab_->status();
}

}  // namespace
}  // namespace chaosplus::db
