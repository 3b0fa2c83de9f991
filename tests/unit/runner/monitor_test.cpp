#include "runner/monitor.h"

#include <gtest/gtest.h>

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

spec::Experiment experiment_with(std::optional<spec::Tolerance> tolerance, std::vector<spec::Guardrail> guardrails) {
  spec::Experiment e;
  e.name = "t";
  spec::Probe p;
  p.name = "checkout";
  p.kind = spec::HttpProbe{};
  p.every = 100ms;
  p.tolerance = tolerance;
  e.steady_state.probes.push_back(p);
  e.guardrails = std::move(guardrails);
  return e;
}

spec::Guardrail success_below(double fraction, Duration over, int min_samples = 3) {
  spec::Guardrail g;
  g.name = "collapse";
  g.probe = "checkout";
  g.metric = spec::GuardrailMetric::success_rate;
  g.condition = Comparison{CompareOp::less, fraction};
  g.over = over;
  g.min_samples = min_samples;
  return g;
}

TEST(Monitor, GuardrailTripsWhenTheWindowSuccessRateFallsBelowTheBound) {
  auto e = experiment_with(std::nullopt, {success_below(0.5, 1s)});
  Monitor m(e);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(m.observe("checkout", {i * 100ms, true, 0.01}));
  // Failures start at 1.0s; the 1s window holds 10 samples, tripping once fewer than half are ok.
  std::optional<GuardrailTrip> trip;
  int failures = 0;
  while (!trip && failures < 20) {
    trip = m.observe("checkout", {1s + failures * 100ms, false, 0.01});
    ++failures;
  }
  ASSERT_TRUE(trip);
  EXPECT_EQ(failures, 6);  // 6 failed of the last 10 -> 40% < 50%
  EXPECT_EQ(trip->guardrail, "collapse");
  EXPECT_NE(trip->message.find("40%"), std::string::npos) << trip->message;
}

TEST(Monitor, GuardrailWaitsForMinimumSamples) {
  auto e = experiment_with(std::nullopt, {success_below(0.5, 10s, 3)});
  Monitor m(e);
  EXPECT_FALSE(m.observe("checkout", {0ms, false, 0.01}));
  EXPECT_FALSE(m.observe("checkout", {100ms, false, 0.01}));
  EXPECT_TRUE(m.observe("checkout", {200ms, false, 0.01}));
}

TEST(Monitor, LatencyGuardrailUsesThePercentileOfTheWindow) {
  spec::Guardrail g;
  g.probe = "checkout";
  g.metric = spec::GuardrailMetric::latency_p99;
  g.condition = Comparison{CompareOp::greater, 0.5};
  g.over = 10s;
  auto e = experiment_with(std::nullopt, {g});
  Monitor m(e);
  EXPECT_FALSE(m.observe("checkout", {0ms, true, 0.1}));
  EXPECT_FALSE(m.observe("checkout", {100ms, true, 0.1}));
  EXPECT_FALSE(m.observe("checkout", {200ms, true, 0.1}));
  auto trip = m.observe("checkout", {300ms, true, 0.9});
  ASSERT_TRUE(trip);
  EXPECT_DOUBLE_EQ(trip->measured, 0.9);
}

TEST(Monitor, OverallToleranceJudgesAllResults) {
  auto e = experiment_with(spec::Tolerance{Comparison{CompareOp::greater_equal, 0.9}, std::nullopt}, {});
  Monitor m(e);
  for (int i = 0; i < 9; ++i) (void)m.observe("checkout", {i * 100ms, true, 0.01});
  (void)m.observe("checkout", {1s, false, 0.01});
  auto t = m.tolerances();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].held) << t[0].message;
  (void)m.observe("checkout", {1100ms, false, 0.01});
  t = m.tolerances();
  EXPECT_FALSE(t[0].held) << t[0].message;  // 9/11 < 90%
}

TEST(Monitor, WindowedToleranceCatchesABadStretchThatTheAverageHides) {
  auto e = experiment_with(spec::Tolerance{Comparison{CompareOp::greater_equal, 0.9}, 1s}, {});
  Monitor m(e);
  Duration t = 0ms;
  for (int i = 0; i < 100; ++i, t += 100ms) (void)m.observe("checkout", {t, true, 0.01});
  for (int i = 0; i < 5; ++i, t += 100ms) (void)m.observe("checkout", {t, false, 0.01});
  for (int i = 0; i < 100; ++i, t += 100ms) (void)m.observe("checkout", {t, true, 0.01});
  auto results = m.tolerances();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_GT(results[0].overall.success_rate, 0.97);
  EXPECT_FALSE(results[0].held) << results[0].message;
}

TEST(ProbeWindow, PercentilesAreNearestRank) {
  ProbeWindow w;
  for (int i = 1; i <= 100; ++i) w.add({i * 1ms, true, i / 1000.0});
  WindowStats s = w.all();
  EXPECT_EQ(s.count, 100);
  EXPECT_DOUBLE_EQ(s.p50, 0.050);
  EXPECT_DOUBLE_EQ(s.p90, 0.090);
  EXPECT_DOUBLE_EQ(s.p99, 0.099);
  WindowStats last10 = w.stats(100ms, 10ms);
  EXPECT_EQ(last10.count, 10);
}

// The monitor reads the stream itself: probe results during the phases and load ticks, as events.
TEST(MonitorStream, ProbeResultsDuringThePhasesTripAGuardrailAndTheSteadyStateChecksDoNot) {
  const spec::Experiment experiment = experiment_with(std::nullopt, {success_below(0.5, 10s)});
  Monitor m(experiment);  // it keeps a reference
  auto result = [](Duration at, const char* stage, bool ok) {
    Event e("probe.result");
    e.with("probe", "checkout").with("stage", stage).with("ok", ok).with("latency_ms", 12.0);
    e.elapsed = at;
    return e;
  };
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(m.on_event(result(i * 100ms, "before", false)));
  EXPECT_EQ(m.overall("checkout").count, 0);
  EXPECT_FALSE(m.on_event(result(1s, "during", true)));
  EXPECT_FALSE(m.on_event(result(1100ms, "during", false)));
  auto trip = m.on_event(result(1200ms, "during", false));  // 1 of 3 ok
  ASSERT_TRUE(trip);
  EXPECT_EQ(trip->probe, "checkout");
  EXPECT_TRUE(trip->load.empty());
  EXPECT_EQ(trip->metric, "probe.checkout.success_rate");
  EXPECT_DOUBLE_EQ(m.overall("checkout").p50, 0.012);
}

TEST(MonitorStream, LoadTicksTripALoadGuardrailThatNamesTheLoad) {
  spec::Guardrail g;
  g.name = "errors";
  g.load = "shoppers";
  g.metric = spec::GuardrailMetric::error_rate;
  g.condition = Comparison{CompareOp::greater, 0.2};
  g.over = 3s;
  g.min_samples = 2;
  const spec::Experiment experiment = experiment_with(std::nullopt, {g});
  Monitor m(experiment);
  auto tick = [](Duration at, std::int64_t answered, std::int64_t transport_errors, std::int64_t status_errors,
                 std::int64_t dropped) {
    Event e("load.tick");
    e.with("load", "shoppers")
        .with("requests", answered)
        .with("errors", transport_errors)
        .with("status_4xx_5xx", status_errors)
        .with("dropped", dropped)
        .with("p99_ms", 40.0);
    e.elapsed = at;
    return e;
  };
  EXPECT_FALSE(m.on_event(tick(1s, 100, 0, 0, 0)));
  // 100 answered (30 of them 5xx), 10 transport errors, 10 dropped: 50 of 120 attempted failed.
  auto trip = m.on_event(tick(2s, 100, 10, 30, 10));
  ASSERT_TRUE(trip);
  EXPECT_EQ(trip->load, "shoppers");
  EXPECT_TRUE(trip->probe.empty());
  EXPECT_EQ(trip->metric, "load.shoppers.error_rate");
  EXPECT_NE(trip->message.find("50 failed of 220"), std::string::npos) << trip->message;
}

}  // namespace
TEST(MonitorLoad, ErrorRateGuardrailTripsOverTheWindow) {
  spec::Experiment e;
  spec::Guardrail g;
  g.name = "errors";
  g.load = "shoppers";
  g.metric = spec::GuardrailMetric::error_rate;
  g.condition = Comparison{CompareOp::greater, 0.2};
  g.over = 3s;
  g.min_samples = 2;
  e.guardrails.push_back(g);
  Monitor m(e);
  EXPECT_FALSE(m.observe_load("shoppers", {1s, 100, 0}));
  EXPECT_FALSE(m.observe_load("shoppers", {2s, 100, 10}));  // 10/200 = 5%
  EXPECT_FALSE(m.observe_load("other", {3s, 100, 100}));    // another load
  EXPECT_FALSE(m.observe_load("shoppers", {3s, 100, 40}));  // 50/300 = 16.7%
  auto trip = m.observe_load("shoppers", {4s, 100, 60});    // window 2s..4s: 110/300 = 36.7%
  ASSERT_TRUE(trip);
  EXPECT_EQ(trip->guardrail, "errors");
  EXPECT_NE(trip->message.find("110 failed of 300"), std::string::npos) << trip->message;
}

}  // namespace chaosplus::runner
