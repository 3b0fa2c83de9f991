// db::Connection against a real PostgreSQL started for the test (tests/support/postgres_instance.h):
// rows and NULLs, SQLSTATEs, the deadline, a refused connect, a server that dies mid-query, and
// libpq multi-host strings that skip dead, silent and read-only hosts.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "db/pg_client.h"
#include "support/postgres_instance.h"
#include "support/support.h"

namespace chaosplus::db {
namespace {

using namespace std::chrono_literals;
using testing::PostgresInstance;

class DbClient : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PostgresInstance::unavailable().empty()) return;
    pg_ = std::make_unique<PostgresInstance>();  // one server for the suite: initdb is the slow part
  }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_TRUE(pg_->ok()) << pg_->error();
  }
  std::unique_ptr<Connection> connect(const std::string& extra = {}) {
    auto conn = Connection::open(pg_->conninfo(extra), 10s);
    EXPECT_TRUE(conn.ok()) << conn.error();
    return conn.ok() ? std::move(conn.value()) : nullptr;
  }

  static std::unique_ptr<PostgresInstance> pg_;
};
std::unique_ptr<PostgresInstance> DbClient::pg_;

TEST_F(DbClient, ReturnsRowsColumnsAndNulls) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto out = conn->query("SELECT 1 AS one, NULL::text AS nothing, 'x y' AS words UNION ALL SELECT 2, 'b', ''", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(out)) << std::get<QueryError>(out).message;
  const auto& result = std::get<QueryResult>(out);
  EXPECT_EQ(result.columns, (std::vector<std::string>{"one", "nothing", "words"}));
  ASSERT_EQ(result.rows.size(), 2u);
  EXPECT_EQ(result.rows[0][0], "1");
  EXPECT_EQ(result.rows[0][1], std::nullopt);
  EXPECT_EQ(result.rows[0][2], "x y");
  EXPECT_EQ(result.rows[1][1], "b");
  EXPECT_EQ(result.rows[1][2], "");  // an empty string is not NULL
  EXPECT_EQ(result.command_status, "SELECT 2");
  EXPECT_FALSE(conn->broken());
}

TEST_F(DbClient, PassesParametersAsText) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(
      conn->query("CREATE TABLE IF NOT EXISTS params_t (id bigint PRIMARY KEY, note text)", {}, 5s)));
  auto insert = conn->query("INSERT INTO params_t VALUES ($1, $2)", {"42", "it's; DROP TABLE params_t"}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(insert)) << std::get<QueryError>(insert).message;
  EXPECT_EQ(std::get<QueryResult>(insert).command_status, "INSERT 0 1");
  auto read = conn->query("SELECT note FROM params_t WHERE id = $1", {"42"}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryResult>(read));
  EXPECT_EQ(std::get<QueryResult>(read).rows.at(0).at(0), "it's; DROP TABLE params_t");
}

TEST_F(DbClient, AnErrorIsRejectedWithItsSqlstateAndTheConnectionStaysUsable) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto out = conn->query("SELECT * FROM no_such_table", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryError>(out));
  const auto& err = std::get<QueryError>(out);
  EXPECT_EQ(err.failure, Failure::rejected);
  EXPECT_EQ(err.sqlstate, "42P01");
  EXPECT_NE(err.message.find("no_such_table"), std::string::npos) << err.message;
  EXPECT_FALSE(conn->broken());
  EXPECT_TRUE(std::holds_alternative<QueryResult>(conn->query("SELECT 1", {}, 5s)));
}

TEST_F(DbClient, AWriteInAReadOnlyTransactionIs25006) {
  auto conn = connect("options='-c default_transaction_read_only=on'");
  ASSERT_TRUE(conn);
  auto out = conn->query("CREATE TABLE ro_t (id int)", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryError>(out));
  EXPECT_EQ(std::get<QueryError>(out).failure, Failure::rejected);
  EXPECT_EQ(std::get<QueryError>(out).sqlstate, "25006");
}

TEST_F(DbClient, TheDeadlineCancelsTheStatementAndTheOutcomeIsUnknown) {
  auto conn = connect("application_name=deadline_test");
  ASSERT_TRUE(conn);
  const auto start = std::chrono::steady_clock::now();
  auto out = conn->query("SELECT pg_sleep(60)", {}, 300ms);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(std::holds_alternative<QueryError>(out));
  EXPECT_EQ(std::get<QueryError>(out).failure, Failure::unknown);
  EXPECT_EQ(std::get<QueryError>(out).sqlstate, "");
  EXPECT_LT(took, 30s);  // returned at the deadline, not when the sleep ended
  EXPECT_TRUE(conn->broken());
  // The server was told to cancel: the sleep stops long before its 60 seconds.
  EXPECT_TRUE(testing::wait_until(
      [&] {
        return pg_->psql("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'") ==
               "0";
      },
      20s));
  auto again = conn->query("SELECT 1", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryError>(again));
  EXPECT_EQ(std::get<QueryError>(again).failure, Failure::connect);  // nothing was sent
}

TEST_F(DbClient, ATerminatedBackendMidQueryIsUnknown) {
  auto conn = connect("application_name=terminate_me");
  ASSERT_TRUE(conn);
  std::thread killer([&] {
    testing::wait_until(
        [&] { return pg_->psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'terminate_me' "
                               "AND state = 'active'") == "1"; },
        20s);
    pg_->psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'terminate_me'");
  });
  auto out = conn->query("SELECT pg_sleep(30)", {}, 25s);
  killer.join();
  ASSERT_TRUE(std::holds_alternative<QueryError>(out));
  const auto& err = std::get<QueryError>(out);
  EXPECT_EQ(err.failure, Failure::unknown) << err.message;
  EXPECT_EQ(err.sqlstate, "57P01") << err.message;  // the server said why before it hung up
  EXPECT_TRUE(conn->broken());
}

// The server went away while the connection sat idle: nothing was sent, so the write did not happen.
TEST_F(DbClient, AConnectionClosedWhileIdleIsAConnectFailureNotUnknown) {
  PostgresInstance gone;
  ASSERT_TRUE(gone.ok()) << gone.error();
  auto conn = Connection::open(gone.conninfo(), 10s);
  ASSERT_TRUE(conn.ok()) << conn.error();
  ASSERT_TRUE(gone.stop("fast"));  // terminates the idle backend: FATAL 57P01, then the socket closes
  auto out = (*conn)->query("SELECT 1", {}, 5s);
  ASSERT_TRUE(std::holds_alternative<QueryError>(out));
  EXPECT_EQ(std::get<QueryError>(out).failure, Failure::connect) << std::get<QueryError>(out).message;
  EXPECT_TRUE((*conn)->broken());
}

TEST_F(DbClient, HostAndPortNameTheServerReached) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->host(), "127.0.0.1");
  EXPECT_EQ(conn->port(), pg_->port());
}

TEST_F(DbClient, MultiHostSkipsARefusedAndASilentHost) {
  int refused = testing::free_port();
  testing::Listener silent;  // accepts, never answers: a paused postmaster
  auto conn = Connection::open("host=127.0.0.1,127.0.0.1,127.0.0.1 port=" + std::to_string(refused) + "," +
                                   std::to_string(silent.port()) + "," + std::to_string(pg_->port()) +
                                   " user=postgres dbname=postgres connect_timeout=2 target_session_attrs=read-write",
                               20s);
  ASSERT_TRUE(conn.ok()) << conn.error();
  EXPECT_EQ((*conn)->port(), pg_->port());
  EXPECT_TRUE(std::holds_alternative<QueryResult>((*conn)->query("SELECT 1", {}, 5s)));
}

TEST_F(DbClient, ConnectingToAStoppedServerIsAConnectFailure) {
  PostgresInstance other;
  ASSERT_TRUE(other.ok()) << other.error();
  ASSERT_TRUE(other.stop("fast"));
  auto conn = Connection::open(other.conninfo(), 5s);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.code(), ErrorCode::unavailable);
  EXPECT_NE(conn.error().find("127.0.0.1:" + std::to_string(other.port())), std::string::npos) << conn.error();
}

TEST_F(DbClient, ReadWriteSkipsAReadOnlyServerAndHostSaysWhichAnswered) {
  PostgresInstance::Options read_only;
  read_only.address = "127.0.0.2";
  read_only.settings = {"default_transaction_read_only=on"};
  PostgresInstance standby(read_only);
  ASSERT_TRUE(standby.ok()) << standby.error();
  const std::string hosts = "host=127.0.0.2,127.0.0.1 port=" + std::to_string(standby.port()) + "," +
                            std::to_string(pg_->port()) + " user=postgres dbname=postgres";

  auto any = Connection::open(hosts, 10s);
  ASSERT_TRUE(any.ok()) << any.error();
  EXPECT_EQ((*any)->host(), "127.0.0.2");  // the first host that answers

  auto writable = Connection::open(hosts + " target_session_attrs=read-write", 10s);
  ASSERT_TRUE(writable.ok()) << writable.error();
  EXPECT_EQ((*writable)->host(), "127.0.0.1");
  EXPECT_EQ((*writable)->port(), pg_->port());

  auto only_read_only = Connection::open(standby.conninfo("target_session_attrs=read-write"), 10s);
  ASSERT_FALSE(only_read_only.ok());
  EXPECT_EQ(only_read_only.code(), ErrorCode::unavailable);
  EXPECT_NE(only_read_only.error().find("read-only"), std::string::npos) << only_read_only.error();
}

TEST_F(DbClient, AServerShutDownImmediatelyMidQueryIsUnknown) {
  PostgresInstance victim;
  ASSERT_TRUE(victim.ok()) << victim.error();
  auto conn = Connection::open(victim.conninfo("application_name=victim"), 10s);
  ASSERT_TRUE(conn.ok()) << conn.error();
  std::thread killer([&] {
    testing::wait_until(
        [&] { return victim.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim' "
                                 "AND state = 'active'") == "1"; },
        20s);
    victim.stop("immediate");  // SIGQUIT: every backend exits at once, no clean goodbye to clients
  });
  auto out = (*conn)->query("SELECT pg_sleep(30)", {}, 25s);
  killer.join();
  ASSERT_TRUE(std::holds_alternative<QueryError>(out));
  EXPECT_EQ(std::get<QueryError>(out).failure, Failure::unknown) << std::get<QueryError>(out).message;
  EXPECT_TRUE((*conn)->broken());
}

}  // namespace
}  // namespace chaosplus::db
