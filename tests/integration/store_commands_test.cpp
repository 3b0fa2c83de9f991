// `chaosplus history` and `chaosplus show` against a store filled through the Store interface.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::TempDir;

class StoreCommands : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open(location_);
    ASSERT_TRUE(opened.ok()) << opened.error();
    st_ = std::move(opened).value();
    const auto now = std::chrono::system_clock::now();
    add("20200101T000000.000Z-aaaaaa", "alpha", now - 72h, "held", 0);
    add("20200102T000000.000Z-bbbbbb", "beta", now - 2h, "deviated", 1);
    add("20200102T000000.000Z-bbcccc", "alpha", now - 1h, "held", 0);
  }

  void add(const std::string& id, const std::string& experiment, store::WallTime started, const std::string& verdict,
           int code) {
    store::RunRow r;
    r.run_id = id;
    r.experiment = experiment;
    r.file = "/x/" + experiment + ".yaml";
    r.host = "h";
    r.started = started;
    ASSERT_TRUE(st_->begin_run(r).ok());
    std::vector<store::StoredEvent> events;
    Event s("run.started");
    s.wall = started;
    s.with("run_id", id).with("experiment", experiment).with("checks", true);
    events.push_back({1, s, {}});
    Event f("fault.injected");
    f.wall = started + 1s;
    f.elapsed = 1s;
    f.with("fault", "latency").with("target", "api").with("summary", "latency 100ms on api").with("ledger_id", 1);
    events.push_back({2, f, {}});
    Event v("run.verdict");
    v.wall = started + 2s;
    v.elapsed = 2s;
    v.with("verdict", verdict).with("exit_code", code);
    events.push_back({3, v, {}});
    ASSERT_TRUE(st_->append_events(id, events).ok());
    r.status = store::RunStatus::finished;
    r.verdict = verdict;
    r.exit_code = code;
    r.ended = started + 2s;
    ASSERT_TRUE(st_->finish_run(r).ok());
  }

  // Runs chaosplus with `args` and --store; returns the exit code, output in `out`.
  int chaosplus(std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), testing::bin("chaosplus"));
    args.push_back("--store");
    args.push_back(location_);
    Child c(args);
    const int code = c.wait(60s).value_or(-1);
    *out = c.output();
    return code;
  }

  TempDir dir_;
  std::string location_ = dir_.file("results.db");
  std::unique_ptr<store::Store> st_;
};

TEST_F(StoreCommands, HistoryListsNewestFirstAndFilters) {
  std::string out;
  ASSERT_EQ(chaosplus({"history"}, &out), 0) << out;
  const auto c = out.find("-bbcccc"), b = out.find("-bbbbbb"), a = out.find("-aaaaaa");
  ASSERT_NE(a, std::string::npos) << out;
  EXPECT_LT(c, b) << out;
  EXPECT_LT(b, a) << out;
  EXPECT_NE(out.find("STATUS"), std::string::npos) << out;

  ASSERT_EQ(chaosplus({"history", "--experiment", "alpha", "--since", "24h", "--json"}, &out), 0) << out;
  auto listed = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(listed.is_array()) << out;
  ASSERT_EQ(listed.size(), 1u) << out;
  EXPECT_EQ(listed[0].value("run_id", ""), "20200102T000000.000Z-bbcccc");
  EXPECT_EQ(listed[0].value("events", 0), 3);

  ASSERT_EQ(chaosplus({"history", "--verdict", "deviated", "--json"}, &out), 0) << out;
  listed = nlohmann::json::parse(out, nullptr, false);
  ASSERT_EQ(listed.size(), 1u) << out;
  EXPECT_EQ(listed[0].value("experiment", ""), "beta");

  ASSERT_EQ(chaosplus({"history", "--limit", "1", "--status", "finished", "--json"}, &out), 0) << out;
  EXPECT_EQ(nlohmann::json::parse(out, nullptr, false).size(), 1u) << out;
}

TEST_F(StoreCommands, ShowFindsARunByPrefixAndRecomputesItsSummary) {
  std::string out;
  ASSERT_EQ(chaosplus({"show", "20200101"}, &out), 0) << out;
  EXPECT_NE(out.find("run:        20200101T000000.000Z-aaaaaa"), std::string::npos) << out;
  EXPECT_NE(out.find("== alpha:"), std::string::npos) << out;
  EXPECT_NE(out.find("latency 100ms on api"), std::string::npos) << out;
  EXPECT_NE(out.find("not reverted in the record"), std::string::npos) << out;

  ASSERT_EQ(chaosplus({"show", "20200102T000000.000Z-bbb", "--json", "--events"}, &out), 0) << out;
  auto shown = nlohmann::json::parse(out, nullptr, false);
  ASSERT_TRUE(shown.is_object()) << out;
  EXPECT_EQ(shown["run"].value("verdict", ""), "deviated");
  ASSERT_EQ(shown["events"].size(), 3u);
  EXPECT_EQ(shown["events"][2]["event"].value("type", ""), "run.verdict");
  ASSERT_EQ(shown["faults"].size(), 1u);
}

TEST_F(StoreCommands, BadInputIsAClearErrorWithExitCode3) {
  std::string out;
  EXPECT_EQ(chaosplus({"show", "20200102"}, &out), 3);
  EXPECT_NE(out.find("ambiguous"), std::string::npos) << out;
  EXPECT_EQ(chaosplus({"show", "1999"}, &out), 3);
  EXPECT_NE(out.find("no run '1999'"), std::string::npos) << out;
  EXPECT_EQ(chaosplus({"history", "--since", "last tuesday"}, &out), 3);
  EXPECT_NE(out.find("--since: 'last tuesday' is not a time"), std::string::npos) << out;
  EXPECT_EQ(chaosplus({"history", "--status", "crashed"}, &out), 3);
  EXPECT_NE(out.find("--status 'crashed'"), std::string::npos) << out;
  Child bad({testing::bin("chaosplus"), "history", "--store", "postgresql://u:pw@198.51.100.7/x"});
  EXPECT_EQ(bad.wait(60s), 3);
  EXPECT_NE(bad.output().find("198.51.100.7"), std::string::npos) << bad.output();
  EXPECT_EQ(bad.output().find("pw"), std::string::npos) << bad.output();
}

}  // namespace
}  // namespace chaosplus
