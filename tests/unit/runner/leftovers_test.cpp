#include "runner/leftovers.h"

#include <csignal>
#include <filesystem>

#include <gtest/gtest.h>

#include "runner/ledger.h"
#include "support/support.h"
#include "targets/process.h"

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

std::string listed(const LeftoverReport& report) {
  std::string out;
  for (const Leftover& l : report.found) out += l.what + ": " + l.detail + " | " + l.how + "\n";
  return out;
}

// Processes are named by pid *and* start time: one a run started is listed while it runs, and a
// record whose start time does not match (the pid was reused) names nobody.
TEST(Leftovers, AProcessARunStartedIsListedByItsRecordedIdentity) {
  testing::TempDir dir;
  testing::Child started({"sleep", "600"});
  testing::Child stranger({"sleep", "601"});
  for (const testing::Child* c : {&started, &stranger}) {
    ASSERT_TRUE(testing::wait_until([&] { return targets::process_name(c->pid()) == "sleep"; }, 10s));
  }
  auto id = targets::identify(started.pid());
  ASSERT_TRUE(id.ok());
  const std::string path = dir.file("ledger.db");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 0, "exp", "j.jsonl", "running"}).ok());
    ASSERT_TRUE((*ledger)
                    ->record("run-1", "process.started",
                             R"({"what":"target","pid":)" + std::to_string(id->pid) + R"(,"start_time":)" +
                                 std::to_string(id->start_time) + "}")
                    .ok());
    ASSERT_TRUE((*ledger)
                    ->record("run-1", "process.started",
                             R"({"what":"reused","pid":)" + std::to_string(stranger.pid()) + R"(,"start_time":1})")
                    .ok());
  }
  const std::string out = listed(find_leftovers(path));
  EXPECT_NE(out.find("started process: pid " + std::to_string(started.pid()) + " (sleep): sleep 600"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("kill " + std::to_string(started.pid())), std::string::npos) << out;
  EXPECT_EQ(out.find("pid " + std::to_string(stranger.pid()) + " "), std::string::npos) << out;
}

// A copy the corrupt fault kept is listed with the file it belongs to (from the ledger) and how to
// put it back; a copy no entry names is listed too.
TEST(Leftovers, TheCopyOfACorruptedFileIsListedWithHowToPutItBack) {
  testing::TempDir dir;
  const std::string path = dir.file("ledger.db");
  std::filesystem::create_directories(dir.file("corrupt"));
  const std::string copy = dir.file("corrupt/orders.db.1.2.copy");
  testing::write_file(copy, "original");
  testing::write_file(dir.file("corrupt/stray.copy"), "x");
  {
    auto ledger = Ledger::open(path);
    ASSERT_TRUE(ledger.ok()) << ledger.error();
    ASSERT_TRUE((*ledger)->begin_run(RunRecord{"run-1", 0, 0, "exp", "j.jsonl", "running"}).ok());
    ASSERT_TRUE((*ledger)
                    ->record("run-1", "data.corrupt",
                             R"({"target":"db","copy":")" + copy +
                                 R"(","corruption":{"path":"/srv/orders.db","copy":")" + copy +
                                 R"(","sha256_before":"aa","sha256_after":"bb","flips":[]}})")
                    .ok());
  }
  const std::string out = listed(find_leftovers(path));
  EXPECT_NE(out.find("corrupted file: /srv/orders.db (copy " + copy + ", SHA-256 before aa, corrupted bb)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("cp " + copy + " /srv/orders.db"), std::string::npos) << out;
  EXPECT_NE(out.find("copy of a corrupted file: " + dir.file("corrupt/stray.copy") + " (named by no ledger entry)"),
            std::string::npos)
      << out;
}

TEST(Leftovers, AStoppedProcessIsListedWithHowToResumeIt) {
  testing::TempDir dir;
  testing::Child stopped({"sleep", "602"});
  // Stopped after its exec, so that it is listed as what it is.
  ASSERT_TRUE(testing::wait_until([&] { return targets::process_name(stopped.pid()) == "sleep"; }, 10s));
  stopped.signal(SIGSTOP);
  ASSERT_TRUE(testing::wait_until([&] { return testing::process_state(stopped.pid()) == 'T'; }, 10s));
  const std::string out = listed(find_leftovers(dir.file("ledger.db")));
  stopped.signal(SIGCONT);
  EXPECT_NE(out.find("stopped process: pid " + std::to_string(stopped.pid()) + " (sleep): sleep 602"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("kill -CONT " + std::to_string(stopped.pid())), std::string::npos) << out;
}

}  // namespace
}  // namespace chaosplus::runner
