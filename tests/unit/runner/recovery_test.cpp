#include "runner/recovery.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/support.h"
#include "targets/process.h"

namespace chaosplus::runner {
namespace {

// recover's output (printed, and published in the journal as recovery.done) shows records without
// the fault proxy's bearer token, whether the revert worked, failed, or the record does not read.
TEST(Recovery, ItsOutputHoldsNoSecrets) {
  testing::TempDir dir;
  auto ledger = Ledger::open(dir.file("ledger.db"));
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  // A runner that is gone (pid 0 is never alive).
  ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 0, "exp", "j.jsonl", "running"}).ok());
  auto self = targets::identify(::getpid());
  ASSERT_TRUE(self.ok());
  const std::string secret = "s3cret-token-4711";
  // Its proxy server is gone: nothing to remove, reverted.
  ASSERT_TRUE((*ledger)
                  ->record("run-1", "proxy.toxic",
                           R"({"api":"http://127.0.0.1:1","proxy":"p","toxic":"t","token":")" + secret +
                               R"(","server_pid":)" + std::to_string(self->pid) + R"(,"server_start_time":1})")
                  .ok());
  // Its proxy server is alive (this process) but its API does not answer: the revert fails.
  ASSERT_TRUE((*ledger)
                  ->record("run-1", "proxy.toxic",
                           R"({"api":"http://127.0.0.1:1","proxy":"p","toxic":"t","token":")" + secret +
                               R"(","server_pid":)" + std::to_string(self->pid) + R"(,"server_start_time":)" +
                               std::to_string(self->start_time) + "}")
                  .ok());
  // A record that does not read.
  ASSERT_TRUE((*ledger)->record("run-1", "proxy.toxic", R"({"token":")" + secret + R"(", "api":)").ok());
  std::ostringstream out;
  RecoveryReport report = recover(**ledger, out);
  EXPECT_EQ(report.entries_reverted, 1) << out.str();
  EXPECT_GE(report.entries_failed, 2) << out.str();
  EXPECT_EQ(out.str().find(secret), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("<redacted>"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("unreadable record"), std::string::npos) << out.str();
}

// A run killed while its clock-prepared target's file was being written leaves the new setting
// half-written beside it (<state>/clock/<run>-<target>.tmp), which no ledger entry names: recover
// removes it. The setting files stay (at the real time), and another run's .tmp is not touched.
TEST(Recovery, RemovesTheHalfWrittenFilesOfACrashedRun) {
  testing::TempDir dir;
  auto ledger = Ledger::open(dir.file("ledger.db"));
  ASSERT_TRUE(ledger.ok()) << ledger.error();
  ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 0, "exp", "j.jsonl", "running"}).ok());
  const std::filesystem::path clock = dir.file("clock");
  std::filesystem::create_directories(clock);
  std::ofstream(clock / "run-1-app") << "+0 x1\n";
  std::ofstream(clock / "run-1-app.tmp");   // the kill came between creating it and the rename
  std::ofstream(clock / "run-10-app.tmp");  // another run's, whose id starts the same
  std::ostringstream out;
  const RecoveryReport report = recover(**ledger, out);
  EXPECT_EQ(report.runs_recovered, 1) << out.str();
  EXPECT_EQ(report.entries_failed, 0) << out.str();
  EXPECT_FALSE(std::filesystem::exists(clock / "run-1-app.tmp"));
  EXPECT_TRUE(std::filesystem::exists(clock / "run-1-app"));
  EXPECT_TRUE(std::filesystem::exists(clock / "run-10-app.tmp"));
}

}  // namespace
}  // namespace chaosplus::runner
