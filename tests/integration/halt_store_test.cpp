// `chaosplus halt` finds a run whose runner was killed: it reverts what the run left (the shared
// halt's recovery) and the results store follows, as with `chaosplus recover`.
#include <gtest/gtest.h>

#include <csignal>
#include <regex>

#include "store/store.h"
#include "support/journal.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

TEST(HaltStore, AKilledRunIsRecoveredByHaltAndMarkedRecoveredInTheStore) {
  testing::TempDir dir;
  std::string text = testing::read_file(testing::source_path("experiments/quickstart.yaml"));
  for (const char* port : {"18080", "18090", "18091"}) {
    text = std::regex_replace(text, std::regex(port), std::to_string(testing::free_port()));
  }
  testing::write_file(dir.file("quickstart.yaml"), text);
  const std::string journal = dir.file("run.jsonl"), store_path = dir.file("results.db");
  testing::Child run({testing::bin("chaosplus"), "run", dir.file("quickstart.yaml"), "--plain", "--state-dir",
                      dir.file("state"), "--store", store_path, "--journal", journal});
  ASSERT_TRUE(testing::wait_until([&] { return !testing::journal_events(journal, "fault.injected").empty(); }, 30s))
      << run.output();
  const std::string run_id = testing::journal_events(journal, "run.started").at(0)["run_id"];
  ::kill(run.pid(), SIGKILL);  // the runner only: its targets and proxy stay, recorded in the ledger
  ASSERT_TRUE(run.wait(10s).has_value());

  testing::Child halt({testing::bin("chaosplus"), "halt", "--state-dir", dir.file("state"), "--store", store_path});
  ASSERT_EQ(halt.wait(60s), 0) << halt.output();
  EXPECT_NE(halt.output().find("1 crashed run(s) recovered"), std::string::npos) << halt.output();
  auto store = store::Store::open(store_path);
  ASSERT_TRUE(store.ok()) << store.error();
  auto row = (*store)->find_run(run_id);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->status, store::RunStatus::recovered);
}

}  // namespace
}  // namespace chaosplus
