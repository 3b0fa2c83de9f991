#pragma once
// The PostgreSQL HA lab (scripts/services/pg-ha-lab.sh: 3 etcd members, 3 Patroni + PostgreSQL 15
// nodes on 127.0.0.11-13) as a test fixture. Only one lab can run on the machine (fixed addresses),
// so a test holds the machine-wide lab lock for as long as it uses the lab, like KernelTurn.
//
// The GoogleTest pattern (one lab per test program, brought up once, always brought down):
//
//   class PgFailoverTest : public ::testing::Test {
//    protected:
//     static void SetUpTestSuite() {
//       if (!PgLab::missing().empty()) return;          // each test then GTEST_SKIPs with the reason
//       lab_ = std::make_unique<PgLab>();                // waits for the lab lock
//       lab_error_ = lab_->up();                         // "" when healthy
//     }
//     static void TearDownTestSuite() { if (lab_) lab_->release(); lab_.reset(); }
//     void SetUp() override {
//       if (auto why = PgLab::missing(); !why.empty()) GTEST_SKIP() << why;
//       ASSERT_EQ(lab_error_, "");
//       ASSERT_TRUE(lab_->wait_healthy(std::chrono::seconds(60))) << lab_->status();  // a test may break it
//     }
//     static inline std::unique_ptr<PgLab> lab_;
//     static inline std::string lab_error_;
//   };
//
// ctest runs every TEST as its own process. Under CTest the lab tests never run side by side
// (RESOURCE_LOCK pg_lab), and they leave a healthy lab to the next one (CHAOSPLUS_LAB_KEEP=1: its
// `up` is then a 0.2 s no-op, when the synchronous mode matches); the PgLabDown test, a CTest
// fixture cleanup run after every lab test, brings it down (tests/CMakeLists.txt). Run by hand, a
// test program brings its lab down at the end.
// Waits are bounded; errors come back as text with the script's output (log tails included).
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace chaosplus::testing {

class PgLab {
 public:
  struct Member {
    std::string name;  // "node1"
    std::string host;  // "127.0.0.11": PostgreSQL on :5432, Patroni's REST API on :8008
  };
  struct SqlResult {
    int exit_code = -1;  // psql's exit code; -1 when it did not finish in time
    std::string output;  // stdout and stderr (psql -XAtq: unaligned rows, one per line)
  };

  static constexpr int pg_port = 5432;
  static constexpr int api_port = 8008;

  // "" when the lab can run here, else why a test skips (root, patroni, etcd, postgresql-15, g++ missing).
  static std::string missing();
  static std::string script();  // absolute path of scripts/services/pg-ha-lab.sh

  // Takes the machine-wide lab lock (waits up to 15 minutes: another test program may hold the lab).
  // sync: Patroni synchronous_mode (SYNC=1). Does not start anything.
  explicit PgLab(bool sync = false);
  ~PgLab();  // releases the lock; does not bring the lab down (call down())
  PgLab(const PgLab&) = delete;
  PgLab& operator=(const PgLab&) = delete;

  bool locked() const { return lock_fd_ >= 0 && locked_; }

  // `pg-ha-lab.sh up` (a no-op when a healthy lab with the same sync mode runs): "" when the lab is
  // healthy, else the error with the script's output.
  std::string up(std::chrono::seconds timeout = std::chrono::seconds(300));
  // `pg-ha-lab.sh down`: "" when no process, port or data directory of the lab is left.
  std::string down(std::chrono::seconds timeout = std::chrono::seconds(120));
  // At the end of a test program: down(), unless CHAOSPLUS_LAB_KEEP=1 (CTest sets it) and the lab is
  // healthy, which is then left for the next lab test; an unhealthy lab is always brought down.
  std::string release();
  // Runs the script with `args` (start-node node1, stop-node node2, status, ...): exit code and output.
  // The script is told that this fixture holds the lab lock (it takes the lock itself otherwise).
  SqlResult script_run(const std::vector<std::string>& args, std::chrono::seconds timeout = std::chrono::seconds(120));

  // `pg-ha-lab.sh status`: true when one leader and two streaming replicas (a sync standby with sync).
  bool healthy();
  bool wait_healthy(std::chrono::milliseconds timeout);
  std::string status();  // the status table, for failure messages

  static std::vector<Member> members();
  static std::vector<std::string> hosts();           // 127.0.0.11, .12, .13
  static std::vector<std::string> apis();            // "127.0.0.11:8008", ...
  static std::vector<std::string> etcd_endpoints();  // "http://127.0.0.21:2379", ...
  // libpq multi-host key=value DSN that lands on the primary: host=a,b,c port=5432,5432,5432
  // user=postgres dbname=DB target_session_attrs=read-write connect_timeout=3.
  static std::string dsn(const std::string& dbname = "chaos");
  static std::string name_of(const std::string& host);  // "node2" for 127.0.0.12, "" if none

  // Host of the member Patroni reports as leader (GET /cluster on the first API that answers).
  std::optional<std::string> leader() const;
  // Hosts of the members in role replica or sync_standby.
  std::vector<std::string> replicas() const;

  // psql as the postgres user against HOST:5432, database `db`: -XAtq -c SQL.
  static SqlResult run_sql(const std::string& host, const std::string& sql, const std::string& db = "chaos",
                           std::chrono::seconds timeout = std::chrono::seconds(30));
  // psql with a full connection string (libpq DSN), e.g. dsn().
  static SqlResult run_sql_dsn(const std::string& dsn, const std::string& sql,
                               std::chrono::seconds timeout = std::chrono::seconds(30));

  const std::string& lab_dir() const { return lab_dir_; }

 private:
  int lock_fd_ = -1;
  bool locked_ = false;
  bool sync_ = false;
  std::string lab_dir_;
};

// The pattern above as a base: one lab (synchronous mode when Sync) for a whole test program, each
// test skipped with the reason when the lab cannot run here, and starting on a healthy lab.
template <bool Sync = false>
class PgLabTestBase : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!PgLab::missing().empty()) return;
    lab_ = std::make_unique<PgLab>(Sync);
    lab_error_ = lab_->up();
  }
  static void TearDownTestSuite() {
    if (lab_) lab_->release();
    lab_.reset();
  }
  void SetUp() override {
    if (auto why = PgLab::missing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(lab_error_, "");
    ASSERT_TRUE(lab_->wait_healthy(std::chrono::seconds(120))) << lab_->status();
  }
  static inline std::unique_ptr<PgLab> lab_;
  static inline std::string lab_error_;
};

}  // namespace chaosplus::testing
