#include "load/multi_process.h"

#include <gtest/gtest.h>

namespace chaosplus::load {
namespace {

Tick tick_of(std::uint64_t requests, std::uint64_t users) {
  Tick t;
  t.at_s = 3;
  t.length_s = 1;
  t.counters.requests = requests;
  t.counters.status[200] = requests;
  t.active_users = users;
  t.open_connections = 2;
  return t;
}

TEST(WorkerProcessTicks, PercentilesComeFromTheMergedLatenciesNotFromTheWorstProcess) {
  LatencyHistogram fast, slow;
  for (int i = 0; i < 900; ++i) fast.record(1'000);    // 1 ms
  for (int i = 0; i < 100; ++i) slow.record(200'000);  // 200 ms
  LatencyHistogram merged;
  const Tick t = merge_tick_lines({tick_line(tick_of(900, 5), fast), tick_line(tick_of(100, 7), slow)}, merged);
  EXPECT_EQ(merged.count(), 1000u);
  EXPECT_EQ(t.counters.requests, 1000u);
  EXPECT_EQ(t.counters.status[200], 1000u);
  EXPECT_EQ(t.active_users, 12u);
  EXPECT_EQ(t.open_connections, 4u);
  // 90 % of that second's requests took 1 ms: p50 and p90 are 1 ms, though one process's are 200 ms.
  EXPECT_EQ(t.p50_us, fast.value_at_percentile(50));
  EXPECT_EQ(t.p90_us, fast.value_at_percentile(90));
  EXPECT_EQ(t.p99_us, slow.value_at_percentile(99));
  EXPECT_EQ(t.max_us, 200'000u);
}

TEST(WorkerProcessTicks, AProcessWithNoResponsesLeavesTheOthersPercentiles) {
  LatencyHistogram some, none;
  for (int i = 0; i < 10; ++i) some.record(5'000);
  LatencyHistogram merged;
  const Tick t = merge_tick_lines({tick_line(tick_of(10, 1), some), tick_line(tick_of(0, 1), none)}, merged);
  EXPECT_EQ(t.p50_us, some.value_at_percentile(50));
  EXPECT_EQ(t.max_us, 5'000u);
}

}  // namespace
}  // namespace chaosplus::load
