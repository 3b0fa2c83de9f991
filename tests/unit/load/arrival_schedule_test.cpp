#include "load/arrival_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

#include "load/load_options.h"

namespace chaosplus::load {
namespace {

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

TEST(ArrivalSchedule, ConstantRateSpacesArrivalsEvenly) {
  ArrivalSchedule s(1000, {});
  for (int k = 0; k < 5000; ++k) {
    auto t = s.next();
    ASSERT_TRUE(t.has_value());
    EXPECT_NEAR(seconds(*t), k / 1000.0, 2e-9);  // whole nanoseconds
  }
}

TEST(ArrivalSchedule, AShareAndPhaseInterleaveWorkers) {
  ArrivalSchedule a(1000, {}, 0.5, 0.0);
  ArrivalSchedule b(1000, {}, 0.5, 0.5);
  EXPECT_NEAR(seconds(*a.next()), 0.0, 1e-9);
  EXPECT_NEAR(seconds(*b.next()), 0.001, 1e-9);
  EXPECT_NEAR(seconds(*a.next()), 0.002, 1e-9);
  EXPECT_NEAR(seconds(*b.next()), 0.003, 1e-9);
}

TEST(ArrivalSchedule, ALinearRampIssuesTheAreaUnderTheRate) {
  // 0 -> 100/s over 10 s: 500 arrivals, then 100/s constant.
  ArrivalSchedule s(0, {{std::chrono::seconds(10), 100}});
  double last = -1;
  int within = 0;
  while (true) {
    auto t = s.next();
    ASSERT_TRUE(t.has_value());
    ASSERT_GE(seconds(*t), last);
    last = seconds(*t);
    if (last >= 10.0) break;
    ++within;
  }
  EXPECT_NEAR(within, 500, 1);
  // Halfway the rate is 50/s, so 125 arrivals were due by 5 s: count(t) = 5 t^2.
  ArrivalSchedule again(0, {{std::chrono::seconds(10), 100}});
  for (int k = 0; k < 125; ++k) (void)again.next();
  EXPECT_NEAR(seconds(*again.next()), 5.0, 0.01);
}

TEST(ArrivalSchedule, HoldsTheLastLevelAfterTheStages) {
  ArrivalSchedule s(0, {{std::chrono::seconds(0), 10}, {std::chrono::seconds(2), 10}});
  for (int k = 0; k < 30; ++k) EXPECT_NEAR(seconds(*s.next()), k / 10.0, 1e-9);
}

TEST(ArrivalSchedule, RampingDownToZeroEndsTheArrivals) {
  ArrivalSchedule s(100, {{std::chrono::seconds(2), 0}});
  int n = 0;
  while (s.next().has_value()) {
    ASSERT_LT(++n, 1000);
  }
  EXPECT_NEAR(n, 100, 1);  // the triangle: 100/s * 2 s / 2
}

TEST(ArrivalSchedule, ZeroRateIssuesNothing) {
  ArrivalSchedule s(0, {});
  EXPECT_FALSE(s.next().has_value());
}

TEST(Stages, ParsesRatesAndUsers) {
  auto rates = parse_stages("30s:1000/s,1m:1000/s,10s:0/s");
  ASSERT_TRUE(rates.ok()) << rates.error();
  EXPECT_TRUE(rates->per_second);
  ASSERT_EQ(rates->stages.size(), 3u);
  EXPECT_EQ(rates->stages[1].over, std::chrono::minutes(1));
  EXPECT_DOUBLE_EQ(rates->stages[0].target, 1000);
  auto users = parse_stages("10s:500,20s:500");
  ASSERT_TRUE(users.ok()) << users.error();
  EXPECT_FALSE(users->per_second);
  EXPECT_DOUBLE_EQ(users->stages[1].target, 500);
}

TEST(Stages, RejectsMixedKindsAndMalformedItems) {
  EXPECT_FALSE(parse_stages("10s:100/s,10s:100").ok());
  EXPECT_FALSE(parse_stages("10s").ok());
  EXPECT_FALSE(parse_stages("ten:100").ok());
  EXPECT_FALSE(parse_stages("10s:lots").ok());
  EXPECT_FALSE(parse_stages("").ok());
}

TEST(Stages, LevelInterpolatesAndHolds) {
  std::vector<Stage> s = {{std::chrono::seconds(10), 100}, {std::chrono::seconds(10), 100}};
  EXPECT_DOUBLE_EQ(stage_level(s, 0, std::chrono::seconds(5)), 50);
  EXPECT_DOUBLE_EQ(stage_level(s, 0, std::chrono::seconds(15)), 100);
  EXPECT_DOUBLE_EQ(stage_level(s, 0, std::chrono::seconds(99)), 100);
  EXPECT_EQ(stages_length(s), std::chrono::seconds(20));
}

TEST(LoadOptions, RefusesTargetsOutsideLoopback) {
  for (const char* url : {"http://10.0.0.1/", "http://example.com/", "http://[2001:db8::1]/", "http://0.0.0.0/"}) {
    LoadOptions o;
    o.url = url;
    auto s = o.validate();
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_NE(s.error().find("loopback"), std::string::npos) << s.error();
  }
}

TEST(LoadOptions, AcceptsLoopbackTargets) {
  for (const char* url : {"http://127.0.0.1:8080/", "http://127.9.9.9/", "http://[::1]:80/", "http://localhost:1/"}) {
    LoadOptions o;
    o.url = url;
    EXPECT_TRUE(o.validate().ok()) << url;
  }
}

TEST(LoadOptions, RefusesUnboundedOrInconsistentRuns) {
  LoadOptions o;
  o.url = "http://127.0.0.1:1/";
  o.duration = Duration::zero();
  EXPECT_FALSE(o.validate().ok());
  o.duration = std::chrono::hours(25);
  EXPECT_FALSE(o.validate().ok());
  o.duration = std::chrono::seconds(1);
  o.rate = 100;
  o.vus = 10;
  EXPECT_FALSE(o.validate().ok());
  o.vus = 0;
  o.threads = 4;
  o.connections = 2;
  EXPECT_FALSE(o.validate().ok());
}

TEST(LoadOptions, ChoosesTheModelFromTheOptions) {
  LoadOptions o;
  EXPECT_EQ(o.model(), Model::connections);
  o.rate = 10;
  EXPECT_EQ(o.model(), Model::open);
  o.rate = 0;
  o.vus = 3;
  EXPECT_EQ(o.model(), Model::users);
}

}  // namespace
}  // namespace chaosplus::load
