// The connection-string rules and the failures that need no server (a refused port, a listener that
// never answers). The server-side behaviour is in tests/integration/db_client_test.cpp.
#include "db/pg_client.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/support.h"

namespace chaosplus::db {
namespace {

using namespace std::chrono_literals;

TEST(CheckLoopbackConninfo, AcceptsLoopbackHostsInKeyValueForm) {
  EXPECT_TRUE(check_loopback_conninfo("host=127.0.0.1 port=5432 dbname=postgres").ok());
  EXPECT_TRUE(check_loopback_conninfo("host=localhost").ok());
  EXPECT_TRUE(check_loopback_conninfo("host=::1").ok());
  EXPECT_TRUE(check_loopback_conninfo("host=127.0.0.11,127.0.0.12,127.0.0.13 target_session_attrs=read-write").ok());
}

TEST(CheckLoopbackConninfo, AcceptsLoopbackHostsInUriForm) {
  EXPECT_TRUE(check_loopback_conninfo("postgresql://postgres@127.0.0.11:5432,127.0.0.12:5432/postgres").ok());
  EXPECT_TRUE(check_loopback_conninfo("postgresql://[::1]:5432/postgres").ok());
}

TEST(CheckLoopbackConninfo, AcceptsUnixSocketDirectories) {
  EXPECT_TRUE(check_loopback_conninfo("host=/var/run/postgresql dbname=postgres").ok());
  EXPECT_TRUE(check_loopback_conninfo("host=/tmp,127.0.0.1").ok());
}

TEST(CheckLoopbackConninfo, AcceptsLoopbackHostaddr) {
  EXPECT_TRUE(check_loopback_conninfo("hostaddr=127.0.0.12 port=5432").ok());
}

TEST(CheckLoopbackConninfo, RejectsANonLoopbackHostAndNamesIt) {
  auto s = check_loopback_conninfo("host=10.0.0.5 port=5432");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  EXPECT_NE(s.error().find("\"10.0.0.5\""), std::string::npos) << s.error();
  EXPECT_NE(s.error().find("loopback"), std::string::npos) << s.error();
}

TEST(CheckLoopbackConninfo, RejectsOneBadHostInAList) {
  auto s = check_loopback_conninfo("host=127.0.0.11,db.example.com,127.0.0.13");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("db.example.com"), std::string::npos) << s.error();
}

TEST(CheckLoopbackConninfo, RejectsABadHostInAUri) {
  auto s = check_loopback_conninfo("postgresql://127.0.0.1:5432,192.168.1.7:5432/postgres");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("192.168.1.7"), std::string::npos) << s.error();
}

TEST(CheckLoopbackConninfo, RejectsANonLoopbackHostaddrEvenWithALoopbackHostName) {
  auto s = check_loopback_conninfo("host=localhost hostaddr=10.1.2.3");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("hostaddr"), std::string::npos) << s.error();
}

TEST(CheckLoopbackConninfo, RejectsNamesThatOnlyLookLocal) {
  EXPECT_FALSE(check_loopback_conninfo("host=localhost.example.com").ok());
  EXPECT_FALSE(check_loopback_conninfo("host=localhost.").ok());
}

TEST(CheckLoopbackConninfo, RejectsAServiceWhoseHostsItCannotSee) {
  auto s = check_loopback_conninfo("service=production");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("service"), std::string::npos) << s.error();
}

// libpq takes what the string leaves out from PGHOST/PGHOSTADDR; PGHOSTADDR would even redirect a
// string that names a loopback host.
TEST(CheckLoopbackConninfo, ChecksTheHostsLibpqTakesFromTheEnvironment) {
  ::setenv("PGHOSTADDR", "10.9.8.7", 1);
  auto redirected = check_loopback_conninfo("host=127.0.0.1 port=5432");
  ::unsetenv("PGHOSTADDR");
  ASSERT_FALSE(redirected.ok());
  EXPECT_NE(redirected.error().find("PGHOSTADDR"), std::string::npos) << redirected.error();
  EXPECT_TRUE(check_loopback_conninfo("host=127.0.0.1 hostaddr=127.0.0.1").ok());

  ::setenv("PGHOST", "db.example.com", 1);
  auto defaulted = check_loopback_conninfo("dbname=postgres");
  auto named = check_loopback_conninfo("host=127.0.0.1 dbname=postgres");
  ::unsetenv("PGHOST");
  ASSERT_FALSE(defaulted.ok());
  EXPECT_NE(defaulted.error().find("db.example.com"), std::string::npos) << defaulted.error();
  EXPECT_TRUE(named.ok()) << named.error();
}

TEST(CheckLoopbackConninfo, SaysWhenTheStringDoesNotParse) {
  auto s = check_loopback_conninfo("host=127.0.0.1 nonsense");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), ErrorCode::invalid_argument);
  EXPECT_NE(s.error().find("does not parse"), std::string::npos) << s.error();
  EXPECT_FALSE(check_loopback_conninfo("host=127.0.0.1 colour=blue").ok());  // unknown keyword
}

TEST(ConnectionOpen, RefusesANonLoopbackHostBeforeConnecting) {
  auto conn = Connection::open("host=192.0.2.1 port=5432 connect_timeout=30", 30s);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.code(), ErrorCode::invalid_argument);
  EXPECT_NE(conn.error().find("192.0.2.1"), std::string::npos) << conn.error();
}

TEST(ConnectionOpen, ARefusedPortIsUnavailable) {
  int port = testing::free_port();
  auto conn = Connection::open("host=127.0.0.1 port=" + std::to_string(port) + " user=postgres", 5s);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.code(), ErrorCode::unavailable);
  EXPECT_NE(conn.error().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << conn.error();
}

TEST(ConnectionOpen, AServerThatNeverAnswersTimesOutAtTheDeadline) {
  testing::Listener silent;  // accepts into its backlog, never speaks
  auto conn = Connection::open("host=127.0.0.1 port=" + std::to_string(silent.port()) + " user=postgres", 300ms);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.code(), ErrorCode::timeout);
  EXPECT_NE(conn.error().find("no answer within"), std::string::npos) << conn.error();
}

TEST(ConnectionOpen, MismatchedHostAndPortListsAreAnInputError) {
  auto conn = Connection::open("host=127.0.0.1,127.0.0.2,127.0.0.3 port=1,2", 1s);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.code(), ErrorCode::invalid_argument);
  EXPECT_NE(conn.error().find("3 hosts but 2 ports"), std::string::npos) << conn.error();
}

TEST(ConnectionOpen, EveryHostsFailureIsReported) {
  int a = testing::free_port(), b = testing::free_port();
  auto conn = Connection::open(
      "host=127.0.0.1,127.0.0.1 port=" + std::to_string(a) + "," + std::to_string(b) + " user=postgres", 5s);
  ASSERT_FALSE(conn.ok());
  EXPECT_NE(conn.error().find(":" + std::to_string(a)), std::string::npos) << conn.error();
  EXPECT_NE(conn.error().find(":" + std::to_string(b)), std::string::npos) << conn.error();
}

}  // namespace
}  // namespace chaosplus::db
