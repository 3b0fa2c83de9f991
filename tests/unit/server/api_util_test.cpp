#include "server/api_util.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/experiments.h"
#include "server/sse.h"
#include "support/support.h"

namespace chaosplus::server {
namespace {

using namespace std::chrono_literals;

TEST(ServerSse, AMessageHasItsIdTypeAndOneDataLinePerLine) {
  EXPECT_EQ(sse_message(7, "probe.result", "{\"ok\":true}"), "id: 7\nevent: probe.result\ndata: {\"ok\":true}\n\n");
  EXPECT_EQ(sse_message(1, "x", "a\nb\r\nc"), "id: 1\nevent: x\ndata: a\ndata: b\ndata: c\n\n");
  EXPECT_EQ(sse_message(1, "bad\ntype", ""), "id: 1\nevent: bad type\ndata: \n\n");
  EXPECT_EQ(sse_comment("keep-alive"), ": keep-alive\n\n");
}

TEST(ServerTime, ReadsDatesTimesAndEpochSeconds) {
  auto seconds = [](store::WallTime t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  EXPECT_EQ(seconds(*parse_time("1970-01-02")), 86'400'000);
  EXPECT_EQ(seconds(*parse_time("2026-12-06T16:00:00Z")), 1796572800000);
  EXPECT_EQ(seconds(*parse_time("2026-12-06T16:00:00.25Z")), 1796572800250);
  EXPECT_EQ(seconds(*parse_time("1796572800")), 1796572800000);
  for (const char* bad : {"", "yesterday", "2026-13-01", "2026-12-06T16:00", "2026-12-06T16:00:00",
                          "2026-12-06T16:00:00.Z", "2026-12-06T16:00:00Zjunk", "-5"}) {
    EXPECT_FALSE(parse_time(bad).ok()) << bad;
  }
  EXPECT_NE(parse_time("nope").error().find("expected 2026-12-06"), std::string::npos);
}

TEST(ServerCount, AcceptsOnlyWholeNumbersInRange) {
  EXPECT_EQ(*parse_count("50", 1, 1000, "limit"), 50);
  EXPECT_FALSE(parse_count("0", 1, 1000, "limit").ok());
  EXPECT_FALSE(parse_count("1001", 1, 1000, "limit").ok());
  EXPECT_FALSE(parse_count("5x", 1, 1000, "limit").ok());
  EXPECT_FALSE(parse_count("", 1, 1000, "limit").ok());
  EXPECT_NE(parse_count("x", 1, 10, "limit").error().find("limit"), std::string::npos);
}

TEST(ServerEvents, AnEventKeepsItsFieldsAndGainsItsSeq) {
  store::StoredEvent e;
  e.seq = 12;
  e.event = Event("probe.result").with("probe", "checkout").with("ok", true).with("latency_ms", 12.5);
  auto j = nlohmann::json::parse(event_json(e));
  EXPECT_EQ(j["seq"], 12);
  EXPECT_EQ(j["type"], "probe.result");
  EXPECT_EQ(j["probe"], "checkout");
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["latency_ms"], 12.5);
}

TEST(ServerExperiments, ListsTheFolderWithValidityAndFindsOnlyPlainNames) {
  testing::TempDir dir;
  testing::write_file(dir.file("good.yaml"), testing::read_file(testing::source_path("experiments/quickstart.yaml")));
  testing::write_file(dir.file("broken.yml"), "name: broken\nphases: 3\n");
  testing::write_file(dir.file("notes.txt"), "not an experiment");
  auto list = read_experiments(dir.path());
  ASSERT_TRUE(list.ok()) << list.error();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].file, "broken.yml");
  EXPECT_FALSE((*list)[0].errors.empty());
  EXPECT_EQ((*list)[1].file, "good.yaml");
  EXPECT_EQ((*list)[1].name, "quickstart");
  EXPECT_TRUE((*list)[1].errors.empty()) << (*list)[1].errors.front();
  EXPECT_EQ((*list)[1].faults, 2);

  EXPECT_TRUE(find_experiment(dir.path(), "good.yaml").ok());
  EXPECT_EQ(find_experiment(dir.path(), "missing.yaml").code(), ErrorCode::not_found);
  for (const char* bad : {"../good.yaml", "/etc/passwd", "sub/good.yaml", "notes.txt", "..", ""}) {
    EXPECT_EQ(find_experiment(dir.path(), bad).code(), ErrorCode::invalid_argument) << bad;
  }
  EXPECT_FALSE(read_experiments(dir.file("nowhere")).ok());
}

}  // namespace
}  // namespace chaosplus::server
