#include <gtest/gtest.h>

#include "core/event.h"
#include "spec/loader.h"
#include "writes/writes_activity.h"
#include "writes/writes_spec.h"

namespace chaosplus::writes {
namespace {

using std::chrono::milliseconds;

spec::LoadResult load(const std::string& block) {
  return spec::load_experiment_text("name: failover\nphases:\n  - name: crash\n    duration: 10s\n    writes:\n" + block,
                                    "failover.yaml");
}

std::string errors(const spec::LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

TEST(WritesBlock, IsAnActivityOfTheWritesKindWithItsDefaults) {
  const auto r = load("      dsn: \"host=127.0.0.1 port=5432 dbname=postgres\"\n");
  ASSERT_TRUE(r.ok()) << errors(r);
  const auto& activities = r.experiment->phases[0].activities;
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].kind, "writes");
  EXPECT_EQ(activities[0].name, "crash");
  const auto* w = activities[0].as<WritesSpec>();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dsn, "host=127.0.0.1 port=5432 dbname=postgres");
  EXPECT_EQ(w->table, "chaosplus_writes");
  EXPECT_EQ(w->clients, 4);
  EXPECT_DOUBLE_EQ(w->rate, 200);
  EXPECT_EQ(w->timeout, std::chrono::seconds(2));
  EXPECT_EQ(w->connect_timeout, std::chrono::seconds(10));
  EXPECT_TRUE(w->patroni.empty());
  EXPECT_FALSE(w->judges());
}

TEST(WritesBlock, ReadsEverySetting) {
  const auto r = load(R"(      name: orders
      dsn: "host=127.0.0.11,127.0.0.12 port=5432 dbname=postgres target_session_attrs=read-write"
      table: app.orders_log
      clients: 8
      rate: 50/s
      timeout: 500ms
      connect_timeout: 4s
      patroni: [127.0.0.11:8008, "127.0.0.12:8008"]
      history: /tmp/orders.jsonl
      thresholds: ["rto < 15s", "promotion <= 10s", "lost_writes == 0", "acknowledged > 100"]
)");
  ASSERT_TRUE(r.ok()) << errors(r);
  const auto* w = r.experiment->phases[0].activities[0].as<WritesSpec>();
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->name, "orders");
  EXPECT_EQ(w->table, "app.orders_log");
  EXPECT_EQ(w->clients, 8);
  EXPECT_DOUBLE_EQ(w->rate, 50);
  EXPECT_EQ(w->timeout, milliseconds(500));
  EXPECT_EQ(w->connect_timeout, std::chrono::seconds(4));
  EXPECT_EQ(w->patroni, (std::vector<std::string>{"127.0.0.11:8008", "127.0.0.12:8008"}));
  EXPECT_EQ(w->history, "/tmp/orders.jsonl");
  ASSERT_EQ(w->thresholds.size(), 4u);
  EXPECT_EQ(w->thresholds[0].metric, "rto");
  EXPECT_DOUBLE_EQ(w->thresholds[0].condition.value, 15);  // seconds
  EXPECT_EQ(w->thresholds[2].metric, "lost_writes");
  EXPECT_EQ(w->thresholds[2].condition.op, CompareOp::equal);
  EXPECT_TRUE(w->judges());
}

WritesSpec with_thresholds(std::vector<std::pair<std::string, std::string>> conditions) {
  WritesSpec s;
  s.name = "orders";
  for (auto& [metric, text] : conditions) {
    const Metric* m = find_metric(metric);
    auto c = parse_comparison(text.substr(metric.size()), m->kind);
    EXPECT_TRUE(c) << text;
    s.thresholds.push_back(WritesThreshold{metric, *c, text, {}});
  }
  return s;
}

TEST(WritesJudgments, NameTheirMetricAndHoldOrNot) {
  Analysis a;
  a.acknowledged = 500;
  a.lost = 1;
  a.lost_ids = {42};
  a.rto = milliseconds(3200);
  a.rto_fault = "kill db";
  const auto s = with_thresholds({{"rto", "rto < 15s"}, {"lost_writes", "lost_writes == 0"}, {"acknowledged", "acknowledged > 100"}});
  const auto j = judge_thresholds(s, a, "");
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0].metric, "writes.orders.rto");
  EXPECT_TRUE(j[0].held);
  EXPECT_DOUBLE_EQ(j[0].measured, 3.2);
  EXPECT_EQ(j[1].metric, "writes.orders.lost_writes");
  EXPECT_FALSE(j[1].held);
  EXPECT_NE(j[1].message.find("42"), std::string::npos) << j[1].message;
  EXPECT_TRUE(j[2].held);
}

TEST(WritesJudgments, AnUnmeasuredFigureFailsAndSaysWhy) {
  Analysis a;
  const auto s = with_thresholds({{"rto", "rto < 15s"}, {"promotion", "promotion < 10s"}, {"lost_writes", "lost_writes == 0"}});
  auto j = judge_thresholds(s, a, "connect: refused");
  ASSERT_EQ(j.size(), 3u);
  for (const auto& x : j) EXPECT_FALSE(x.held) << x.message;
  EXPECT_NE(j[0].message.find("no fault was injected"), std::string::npos) << j[0].message;
  EXPECT_NE(j[2].message.find("could not be read back: connect: refused"), std::string::npos) << j[2].message;
  a.rto_fault = "kill db";
  j = judge_thresholds(s, a, "");
  EXPECT_NE(j[0].message.find("no write invoked after kill db succeeded"), std::string::npos) << j[0].message;
  EXPECT_NE(j[1].message.find("/primary"), std::string::npos) << j[1].message;
  EXPECT_TRUE(j[2].held);
}

TEST(WritesSummary, CarriesEveryFigure) {
  Analysis a;
  a.attempted = 10;
  a.acknowledged = 7;
  a.failed = 2;
  a.unknown = 1;
  a.lost = 2;
  a.lost_ids = {5, 3};
  a.rpo_span = milliseconds(250);
  a.rto = milliseconds(1500);
  a.promotion = milliseconds(1000);
  a.reconnection = milliseconds(500);
  a.rto_fault = "kill db";
  a.split_brain = {"n1 and n2 from +1.000s to +2.000s"};
  WorkloadResult r;
  const auto s = with_thresholds({});
  const Event e = summary_event(s, a, r, {});
  EXPECT_EQ(e.type, "writes.summary");
  EXPECT_EQ(e.text("name"), "orders");
  EXPECT_EQ(e.number("lost"), 2);
  EXPECT_EQ(e.text("lost_ids"), "5, 3");
  EXPECT_EQ(e.number("rpo_span_ms"), 250);
  EXPECT_EQ(e.number("rto_ms"), 1500);
  EXPECT_EQ(e.number("promotion_ms"), 1000);
  EXPECT_EQ(e.number("reconnection_ms"), 500);
  EXPECT_EQ(e.number("split_brain"), 1);
  EXPECT_TRUE(e.flag("read_back"));
  r.read_back_error = "timeout";
  const Event unread = summary_event(s, a, r, {});
  EXPECT_FALSE(unread.flag("read_back"));
  EXPECT_EQ(unread.find("lost"), nullptr);
  EXPECT_EQ(unread.text("read_back_error"), "timeout");
}

}  // namespace
}  // namespace chaosplus::writes
