// The results store against real runs of chaosplus, on SQLite and on a real PostgreSQL 15: a
// normal run's stored events are its journal's lines, byte for byte; a runner killed with kill -9
// loses no event of its journal from the store (recover replays the journal), and the run shows
// as interrupted, then recovered, in history.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "store/store.h"
#include "support/journal.h"
#include "support/postgres_instance.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::PostgresInstance;
using testing::TempDir;

PostgresInstance& shared_postgres() {
  static PostgresInstance instance;
  return instance;
}

// The journal's complete lines (a last line still being written is not one).
std::vector<std::string> complete_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  std::vector<std::string> lines;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

class StoreRunTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (auto why = testing::needs_root("the pause fault on another user's process"); !why.empty()) GTEST_SKIP() << why;
    if (GetParam() == "postgresql") {
      if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
      PostgresInstance& pg = shared_postgres();
      ASSERT_TRUE(pg.ok()) << pg.error();
      static std::atomic<int> counter{0};
      const std::string name = "store_run_" + std::to_string(++counter);
      ASSERT_EQ(pg.psql("CREATE DATABASE " + name), "");
      location_ = "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/" + name;
    } else {
      location_ = state_dir_ + "/results.db";  // where run finds it with no --store
    }
  }

  // --store for PostgreSQL; none for SQLite: the default location is what is tested there.
  std::vector<std::string> store_flag() const {
    return GetParam() == "postgresql" ? std::vector<std::string>{"--store", location_} : std::vector<std::string>{};
  }

  std::vector<std::string> command(std::vector<std::string> argv) const {
    argv.insert(argv.begin(), testing::bin("chaosplus"));
    for (const auto& a : store_flag()) argv.push_back(a);
    argv.push_back("--state-dir");
    argv.push_back(state_dir_);
    return argv;
  }

  std::string write_experiment(const std::string& duration) {
    const std::string path = dir_.file("store.yaml");
    testing::write_file(path,
                        "name: store-crash\n"
                        "targets:\n"
                        "  sleeper: { attach: { pid: " +
                            std::to_string(sleeper_.pid()) +
                            " } }\n"
                            "steady_state:\n"
                            "  probes:\n"
                            "    - name: ok\n"
                            "      command: { run: [\"true\"] }\n"
                            "      every: 50ms\n"
                            "phases:\n"
                            "  - name: chaos\n"
                            "    duration: " +
                            duration +
                            "\n"
                            "    faults:\n"
                            "      - pause: { target: sleeper }\n");
    return path;
  }

  std::unique_ptr<store::Store> open_store() {
    auto opened = store::Store::open(location_);
    EXPECT_TRUE(opened.ok()) << opened.error();
    return opened ? std::move(opened).value() : nullptr;
  }

  std::string run_id() const {
    auto started = testing::journal_events(journal_, "run.started");
    return started.empty() ? std::string() : started.front().value("run_id", "");
  }

  // Every stored event of the run is the journal line of the same number; `all`: and every line is stored.
  void expect_store_matches_journal(store::Store& st, const std::string& id, bool all) {
    const auto lines = complete_lines(journal_);
    auto events = st.events(id);
    ASSERT_TRUE(events.ok()) << events.error();
    if (all) {
      EXPECT_EQ(events->size(), lines.size()) << "stored events vs journal lines";
    }
    ASSERT_LE(events->size(), lines.size()) << "the store holds an event the journal has not";
    for (std::size_t i = 0; i < events->size(); ++i) {
      EXPECT_EQ((*events)[i].seq, static_cast<std::int64_t>(i + 1));
      EXPECT_EQ((*events)[i].line, lines[i]) << "event " << i + 1;
    }
  }

  TempDir dir_;
  std::string state_dir_ = dir_.file("state");
  std::string journal_ = dir_.file("journal.jsonl");
  std::string location_;
  Child sleeper_{{"sleep", "600"}};
};

TEST_P(StoreRunTest, ARunsStoredEventsAreItsJournalLines) {
  const std::string experiment = write_experiment("1s");
  Child run(command({"run", experiment, "--plain", "--journal", journal_}));
  ASSERT_EQ(run.wait(120s), 0) << run.output();
  auto st = open_store();
  ASSERT_TRUE(st);
  const std::string id = run_id();
  auto row = st->find_run(id);
  ASSERT_TRUE(row.ok() && row->has_value()) << run.output();
  EXPECT_EQ((*row)->status, store::RunStatus::finished);
  EXPECT_EQ((*row)->verdict, "held");
  EXPECT_EQ((*row)->exit_code, 0);
  EXPECT_EQ((*row)->file_text, testing::read_file(experiment));
  EXPECT_EQ((*row)->journal, journal_);
  expect_store_matches_journal(*st, id, true);
  auto faults = st->faults(id);
  ASSERT_TRUE(faults.ok());
  ASSERT_EQ(faults->size(), 1u);
  EXPECT_EQ(faults->front().kind, "pause");
  EXPECT_EQ(faults->front().revert_ok, true);

  Child show(command({"show", id.substr(0, 20)}));
  EXPECT_EQ(show.wait(60s), 0) << show.output();
  EXPECT_NE(show.output().find("== store-crash: HELD (exit code 0)"), std::string::npos) << show.output();
  EXPECT_NE(show.output().find("pause sleeper"), std::string::npos) << show.output();
}

TEST_P(StoreRunTest, KillNineLosesNoJournalEventAndTheRunShowsInterruptedThenRecovered) {
  auto run = std::make_unique<Child>(command({"run", write_experiment("120s"), "--plain", "--journal", journal_}));
  ASSERT_TRUE(testing::wait_until(
      [&] {
        return complete_lines(journal_).size() >= 40 && !testing::journal_events(journal_, "fault.injected").empty();
      },
      60s))
      << run->output();
  run->signal(SIGKILL);
  ASSERT_TRUE(run->wait(10s).has_value());
  const std::string id = run_id();
  const std::size_t journal_lines = complete_lines(journal_).size();
  {
    auto st = open_store();
    ASSERT_TRUE(st);
    auto row = st->find_run(id);
    ASSERT_TRUE(row.ok() && row->has_value());
    // What a kill -9 left: never more than the journal has, at most the last 100 ms missing.
    expect_store_matches_journal(*st, id, false);
    auto stored = st->events(id);
    ASSERT_TRUE(stored.ok());
    std::cout << "[ figures ] journal lines at the kill: " << journal_lines
              << ", in the store before recover: " << stored->size() << "\n";
  }

  Child recover(command({"recover"}));
  ASSERT_EQ(recover.wait(120s), 0) << recover.output();
  EXPECT_NE(recover.output().find("run " + id + " marked interrupted in the results store"), std::string::npos)
      << recover.output();
  EXPECT_EQ(testing::process_state(sleeper_.pid()) == 'T', false) << "recover left the sleeper paused";

  auto st = open_store();
  ASSERT_TRUE(st);
  expect_store_matches_journal(*st, id, true);
  auto row = st->find_run(id);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->status, store::RunStatus::recovered);
  EXPECT_EQ((*row)->events, static_cast<std::int64_t>(journal_lines));

  Child history(command({"history", "--json"}));
  ASSERT_EQ(history.wait(60s), 0) << history.output();
  auto listed = nlohmann::json::parse(history.output(), nullptr, false);
  ASSERT_TRUE(listed.is_array() && listed.size() == 1) << history.output();
  EXPECT_EQ(listed[0].value("run_id", ""), id);
  EXPECT_EQ(listed[0].value("status", ""), "recovered");
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreRunTest, ::testing::Values("sqlite", "postgresql"),
                         [](const ::testing::TestParamInfo<std::string>& backend) { return backend.param; });

// The store goes away mid-run: the run goes on to its verdict and says so once; recover later
// replays the journal and finishes the run's row from it.
TEST(StoreRecovery, ARunWhoseStoreFailsGoesOnAndRecoverCompletesTheRecord) {
  if (auto why = PostgresInstance::unavailable(); !why.empty()) GTEST_SKIP() << why;
  PostgresInstance pg;  // its own: this test stops it
  ASSERT_TRUE(pg.ok()) << pg.error();
  ASSERT_EQ(pg.psql("CREATE DATABASE results"), "");
  const std::string location = "postgresql://postgres@127.0.0.1:" + std::to_string(pg.port()) + "/results";
  TempDir dir;
  Child sleeper({"sleep", "600"});
  testing::write_file(dir.file("e.yaml"),
                      "name: store-gone\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
                          " } }\nsteady_state:\n  probes:\n    - name: ok\n      command: { run: "
                          "[\"true\"] }\n      every: 50ms\nphases:\n  - name: p\n    duration: "
                          "3s\n    faults:\n      - pause: { target: sleeper }\n");
  const std::string journal = dir.file("j.jsonl");
  const std::string state = dir.file("state");
  Child run({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", state, "--store", location,
             "--journal", journal});
  ASSERT_TRUE(testing::wait_until([&] { return !testing::journal_events(journal, "fault.injected").empty(); }, 60s))
      << run.output();
  ASSERT_TRUE(pg.stop("immediate"));
  ASSERT_EQ(run.wait(120s), 0) << run.output();  // held: the store does not change the verdict
  EXPECT_NE(run.output().find("warning: the results store stopped recording this run"), std::string::npos)
      << run.output();
  EXPECT_NE(testing::process_state(sleeper.pid()), 'T') << "the fault was not reverted";

  ASSERT_TRUE(pg.start());
  Child recover({testing::bin("chaosplus"), "recover", "--state-dir", state, "--store", location});
  ASSERT_EQ(recover.wait(120s), 0) << recover.output();
  auto st = store::Store::open(location);
  ASSERT_TRUE(st.ok()) << st.error();
  const std::string id = testing::journal_events(journal, "run.started").front().value("run_id", "");
  auto row = (*st)->find_run(id);
  ASSERT_TRUE(row.ok()) << row.error();
  ASSERT_TRUE(row->has_value()) << id << "\n" << run.output() << recover.output();
  EXPECT_EQ((*row)->status, store::RunStatus::finished);
  EXPECT_EQ((*row)->verdict, "held");
  auto events = (*st)->events(id);
  ASSERT_TRUE(events.ok());
  const auto lines = complete_lines(journal);
  ASSERT_EQ(events->size(), lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) EXPECT_EQ((*events)[i].line, lines[i]) << "event " << i + 1;
}

// The next run's recovery does the same as `chaosplus recover`.
TEST(StoreRecovery, TheNextRunMarksAKilledRunInterruptedThenRecovered) {
  if (auto why = testing::needs_root("the pause fault"); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  Child sleeper({"sleep", "600"});
  const std::string state = dir.file("state");
  const auto experiment = [&](const std::string& duration) {
    const std::string path = dir.file("e-" + duration + ".yaml");
    testing::write_file(path, "name: next-run\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
                                  " } }\nphases:\n  - name: p\n    duration: " + duration +
                                  "\n    faults:\n      - pause: { target: sleeper }\n");
    return path;
  };
  const std::string first_journal = dir.file("first.jsonl");
  Child first({testing::bin("chaosplus"), "run", experiment("120s"), "--plain", "--state-dir", state, "--journal",
               first_journal});
  ASSERT_TRUE(
      testing::wait_until([&] { return !testing::journal_events(first_journal, "fault.injected").empty(); }, 60s))
      << first.output();
  first.signal(SIGKILL);
  ASSERT_TRUE(first.wait(10s).has_value());
  const std::string id = testing::journal_events(first_journal, "run.started").front().value("run_id", "");

  Child second({testing::bin("chaosplus"), "run", experiment("200ms"), "--plain", "--state-dir", state, "--journal",
                dir.file("second.jsonl")});
  ASSERT_TRUE(second.wait(120s).has_value()) << second.output();
  auto st = store::Store::open(state + "/results.db");
  ASSERT_TRUE(st.ok()) << st.error();
  auto row = (*st)->find_run(id);
  ASSERT_TRUE(row.ok() && row->has_value());
  EXPECT_EQ((*row)->status, store::RunStatus::recovered);
  auto events = (*st)->events(id);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), complete_lines(first_journal).size());
}

TEST(StoreRecovery, ARunWithAStoreItCannotOpenChangesNothing) {
  if (auto why = testing::needs_root("the pause fault"); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  Child sleeper({"sleep", "600"});
  testing::write_file(dir.file("e.yaml"),
                      "name: refused\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
                          " } }\nphases:\n  - name: p\n    duration: 1s\n    faults:\n"
                          "      - pause: { target: sleeper }\n");
  Child run({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"),
             "--store", "postgresql://chaos@192.0.2.1/results", "--journal", dir.file("j.jsonl")});
  EXPECT_EQ(run.wait(60s), 3) << run.output();
  EXPECT_NE(run.output().find("192.0.2.1"), std::string::npos) << run.output();
  EXPECT_FALSE(std::filesystem::exists(dir.file("j.jsonl"))) << "a journal was started";
}

// Leftovers of a killed run are put back by the next run even when that run's store cannot be
// opened: the store is the record, never a condition for cleaning up.
TEST(StoreRecovery, ARunWhoseStoreCannotBeOpenedStillRevertsAKilledRunsLeftovers) {
  if (auto why = testing::needs_root("the pause fault"); !why.empty()) GTEST_SKIP() << why;
  TempDir dir;
  Child sleeper({"sleep", "600"});
  testing::write_file(dir.file("e.yaml"),
                      "name: left\ntargets:\n  sleeper: { attach: { pid: " + std::to_string(sleeper.pid()) +
                          " } }\nphases:\n  - name: p\n    duration: 120s\n    faults:\n"
                          "      - pause: { target: sleeper }\n");
  Child first({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"),
               "--journal", dir.file("first.jsonl")});
  ASSERT_TRUE(testing::wait_until(
      [&] { return !testing::journal_events(dir.file("first.jsonl"), "fault.injected").empty(); }, 60s))
      << first.output();
  first.signal(SIGKILL);
  ASSERT_TRUE(first.wait(10s).has_value());
  ASSERT_EQ(testing::process_state(sleeper.pid()), 'T');

  Child second({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"),
                "--store", "postgresql://chaos@192.0.2.1/results", "--journal", dir.file("second.jsonl")});
  EXPECT_EQ(second.wait(60s), 3) << second.output();
  EXPECT_NE(testing::process_state(sleeper.pid()), 'T') << second.output();
  EXPECT_FALSE(std::filesystem::exists(dir.file("second.jsonl"))) << "a journal was started";
}

}  // namespace
}  // namespace chaosplus
