// The corrupt fault on real databases. PostgreSQL 15 with data checksums: a table's page is
// flipped (after the fault's CHECKPOINT), the server restarted so its shared_buffers forget the
// page, and the database's own tools see it (the SELECT fails with a checksum error,
// pg_stat_database.checksum_failures, pg_amcheck); the revert gives every byte back (SHA-256) and
// the SELECT works again. A page the server rewrites after the corruption (a full-page image
// replayed after a crash) is healed by its owner, and the revert leaves it alone. SQLite:
// PRAGMA integrity_check reports the damage, and `ok` after the revert.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "faults/fault.h"
#include "faults/file_pages.h"
#include "faults/target_handle.h"
#include "support/postgres_instance.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::PostgresInstance;
using testing::TempDir;

struct Injected {
  std::unique_ptr<faults::Fault> fault;
  nlohmann::json record;  // the ledger's last copy of the record
};

// Makes and injects a corrupt fault with `params`, keeping the record it hands the ledger.
Injected inject(faults::TargetHandle& target, std::map<std::string, std::string> params) {
  spec::Fault f;
  f.type = "corrupt";
  f.target = target.name();
  f.params = std::move(params);
  auto fault = faults::make_fault(f, target);
  EXPECT_TRUE(fault.ok()) << fault.error();
  if (!fault.ok()) return {};
  Injected out{std::move(fault).value(), {}};
  out.fault->set_record_sink([&out](const std::string& r) {
    out.record = nlohmann::json::parse(r);
    return ok_status();
  });
  HaltSwitch halt;
  auto s = out.fault->inject(halt);
  EXPECT_TRUE(s.ok()) << s.error();
  return out;
}

std::string sha(const std::string& path) {
  auto s = faults::file_sha256(path);
  return s.ok() ? *s : "<" + s.error() + ">";
}

std::string run_tool(const std::vector<std::string>& argv, int* exit_code = nullptr) {
  Child child(argv);
  auto code = child.wait(120s);
  if (exit_code != nullptr) *exit_code = code.value_or(-1);
  return child.output();
}

spec::Target named(const std::string& name) {
  spec::Target t;
  t.name = name;
  return t;
}

class PostgresCorruption : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
    pg_ = std::make_unique<PostgresInstance>();
    ASSERT_TRUE(pg_->ok()) << pg_->error();
    // Autovacuum off and every hint bit set now, so nothing but the fault writes the file later.
    ASSERT_EQ(pg_->psql("CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int) "
                        "WITH (autovacuum_enabled = off); "
                        "INSERT INTO accounts SELECT g, 'owner-' || g, g * 10 FROM generate_series(1, 2000) g"),
              "");
    ASSERT_EQ(pg_->psql("VACUUM (FREEZE) accounts"), "");  // not in a transaction block
    ASSERT_EQ(pg_->psql("SELECT count(*) FROM accounts"), "2000");
    target_.state_dir = state_.file("state");
  }

  std::string sum() { return pg_->psql("SELECT count(*) || ' ' || sum(balance) FROM accounts"); }
  std::string relation_path() {
    return pg_->data_dir() + "/" + pg_->psql("SELECT pg_relation_filepath('accounts')");
  }
  std::string amcheck(int* code) {
    return run_tool({"/usr/lib/postgresql/15/bin/pg_amcheck", "-h", pg_->address(), "-p", std::to_string(pg_->port()),
                     "-U", "postgres", "-d", "postgres", "--install-missing", "--table=accounts"},
                    code);
  }

  std::unique_ptr<PostgresInstance> pg_;
  TempDir state_;
  faults::TargetHandle target_{named("db"), "/dev/null"};
};

TEST_F(PostgresCorruption, AFlippedPageIsCaughtByTheChecksumsAndTheRevertGivesEveryByteBack) {
  const std::string good = sum();
  ASSERT_EQ(good, "2000 20010000");
  auto injected = inject(target_, {{"table", "accounts"}, {"dsn", pg_->conninfo()}, {"page_numbers", "3"},
                                   {"bytes", "16"}, {"region", "body"}, {"seed", "2024"}});
  ASSERT_TRUE(injected.fault);
  const auto& c = injected.record.at("corruption");
  const std::string file = relation_path();
  EXPECT_EQ(c.at("path"), file);
  EXPECT_EQ(c.at("page_size"), 8192);
  ASSERT_EQ(c.at("flips").size(), 1u);
  EXPECT_EQ(c.at("flips")[0].at("page"), 3);
  EXPECT_EQ(sha(c.at("copy").get<std::string>()), c.at("sha256_before")) << "the copy is exact";
  EXPECT_EQ(sha(file), c.at("sha256_after"));
  std::cout << "[ figures ] " << file << ": SHA-256 before " << c.at("sha256_before").get<std::string>()
            << ", corrupted " << c.at("sha256_after").get<std::string>() << "\n";

  // The page is still in shared_buffers as it was read before: the damage is hidden until evicted.
  EXPECT_EQ(sum(), good) << "the server still answers from its buffers";
  ASSERT_TRUE(pg_->stop("fast"));  // a clean shutdown writes dirty pages only: page 3 is clean
  EXPECT_EQ(sha(file), c.at("sha256_after")) << "the shutdown did not overwrite the damage";
  ASSERT_TRUE(pg_->start());

  const std::string failed = sum();
  std::cout << "[ figures ] SELECT after the restart: " << failed << "\n";
  EXPECT_NE(failed.find("ERROR"), std::string::npos) << failed;
  EXPECT_TRUE(failed.find("invalid page in block 3") != std::string::npos ||
              failed.find("checksum verification failed") != std::string::npos)
      << failed;
  const std::string failures =
      pg_->psql("SELECT checksum_failures FROM pg_stat_database WHERE datname = current_database()");
  std::cout << "[ figures ] pg_stat_database.checksum_failures: " << failures << "\n";
  EXPECT_GT(std::atoi(failures.c_str()), 0) << failures;
  int amcheck_code = 0;
  const std::string report = amcheck(&amcheck_code);
  std::cout << "[ figures ] pg_amcheck exit " << amcheck_code << ": " << report.substr(0, 400) << "\n";
  EXPECT_NE(amcheck_code, 0);
  EXPECT_NE(report.find("invalid page in block 3"), std::string::npos) << report;

  // The revert with the server running: a page that failed its checksum was never kept in
  // shared_buffers, so the next read takes the restored bytes from the file.
  HaltSwitch halt;
  ASSERT_TRUE(injected.fault->revert(halt).ok());
  const auto reach = injected.fault->reach();
  EXPECT_EQ(reach.at("runs_restored"), 1);
  EXPECT_EQ(reach.at("sha256_verified"), 1);
  EXPECT_EQ(sha(file), c.at("sha256_before")) << "every byte is back";
  EXPECT_FALSE(std::filesystem::exists(c.at("copy").get<std::string>()));
  EXPECT_EQ(sum(), good);
  const std::string clean = amcheck(&amcheck_code);
  EXPECT_EQ(amcheck_code, 0) << clean;
}

// WAL full-page images heal a page: the first change to a page after a checkpoint logs the whole
// page, and crash recovery writes it over the file's copy. The revert then finds the owner's bytes
// where it flipped, says so, and writes nothing there.
TEST_F(PostgresCorruption, AFullPageImageReplayedAfterACrashHealsThePageAndTheRevertLeavesIt) {
  auto injected = inject(target_, {{"table", "accounts"}, {"dsn", pg_->conninfo()}, {"page_numbers", "2"},
                                   {"region", "body"}, {"seed", "7"}});
  ASSERT_TRUE(injected.fault);
  const std::string file = relation_path();
  // Block 2 holds ids from about 370 to 555 (185 rows per 8 KiB block).
  ASSERT_EQ(pg_->psql("SELECT (ctid::text::point)[0]::int FROM accounts WHERE id = 400"), "2");
  ASSERT_EQ(pg_->psql("UPDATE accounts SET balance = balance + 1 WHERE id = 400"), "");
  ASSERT_TRUE(pg_->stop("immediate"));  // a crash: the dirty page is not written, its image is in the WAL
  ASSERT_TRUE(pg_->start());            // recovery replays the full-page image over the damage
  EXPECT_EQ(sum(), "2000 20010001");
  HaltSwitch halt;
  ASSERT_TRUE(injected.fault->revert(halt).ok());
  const auto reach = injected.fault->reach();
  EXPECT_EQ(reach.at("runs_restored"), 0);
  EXPECT_EQ(reach.at("runs_rewritten") + reach.at("runs_original"), 1);
  EXPECT_EQ(reach.at("sha256_verified"), 0);
  EXPECT_EQ(sum(), "2000 20010001") << "the owner's newer data is kept";
  int code = 0;
  const std::string clean = amcheck(&code);
  EXPECT_EQ(code, 0) << clean;
  (void)file;
}

TEST(SqliteCorruption, IntegrityCheckReportsTheDamageAndOkAfterTheRevert) {
  TempDir dir;
  const std::string db = dir.file("shop.db");
  int code = -1;
  run_tool({"sqlite3", db,
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total INTEGER);"
            "CREATE INDEX orders_customer ON orders (customer);"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) "
            "INSERT INTO orders SELECT i, 'customer-' || (i % 97), i * 3 FROM n;"},
           &code);
  ASSERT_EQ(code, 0);
  ASSERT_EQ(run_tool({"sqlite3", db, "PRAGMA integrity_check"}), "ok\n");
  const std::string before = sha(db);
  faults::TargetHandle target(named("shop"), "/dev/null");
  target.state_dir = dir.file("state");
  auto injected = inject(target, {{"path", db}, {"format", "sqlite"}, {"pages", "3"}, {"bytes", "8"},
                                  {"region", "header"}, {"seed", "11"}});
  ASSERT_TRUE(injected.fault);
  const auto& c = injected.record.at("corruption");
  EXPECT_EQ(c.at("page_size"), 4096);
  for (const auto& f : c.at("flips")) EXPECT_NE(f.at("page"), 1) << "page 1 is left alone unless named";
  const std::string damaged = run_tool({"sqlite3", db, "PRAGMA integrity_check"});
  std::cout << "[ figures ] integrity_check while corrupted: " << damaged.substr(0, 300) << "\n";
  EXPECT_NE(damaged, "ok\n");
  HaltSwitch halt;
  ASSERT_TRUE(injected.fault->revert(halt).ok());
  EXPECT_EQ(sha(db), before);
  EXPECT_EQ(injected.fault->reach().at("sha256_verified"), 1);
  EXPECT_EQ(run_tool({"sqlite3", db, "PRAGMA integrity_check"}), "ok\n");
}

}  // namespace
}  // namespace chaosplus
