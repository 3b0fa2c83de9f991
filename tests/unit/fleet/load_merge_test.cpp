#include "fleet/load_merge.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace chaosplus::fleet {
namespace {

// Four shards with different latency spreads; the same samples pooled into one histogram.
struct Shards {
  std::vector<load::LatencyHistogram> parts = std::vector<load::LatencyHistogram>(4);
  load::LatencyHistogram pooled;
  Shards() {
    std::mt19937_64 rng(42);
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::lognormal_distribution<double> draw(5.0 + static_cast<double>(i) * 0.7, 0.9);
      for (int k = 0; k < 20000 + static_cast<int>(i) * 7000; ++k) {
        const auto us = static_cast<std::uint64_t>(draw(rng)) + 1;
        parts[i].record(us);
        pooled.record(us);
      }
    }
  }
};

load::Tick tick_of(std::int64_t second, std::uint64_t requests, std::uint64_t errors_503, std::uint64_t timeouts) {
  load::Tick t;
  t.second = second;
  t.length_s = 1.0;
  t.counters.requests = requests;
  t.counters.status[200] = requests - errors_503;
  t.counters.status[503] = errors_503;
  t.counters.errors[static_cast<std::size_t>(load::ErrorKind::timeout)] = timeouts;
  t.counters.bytes_read = requests * 100;
  t.active_users = requests / 100;
  t.open_connections = requests / 50;
  return t;
}

TEST(LoadMerge, TheMergedPercentilesAreThoseOfThePooledSamples) {
  Shards shards;
  std::vector<ShardSecond> sent;
  for (std::size_t i = 0; i < shards.parts.size(); ++i) {
    // Through the protocol's JSON, as the controller reads them from etcd.
    auto back = second_from_json(to_json(to_shard_second(tick_of(3, 1000, 10, 2), shards.parts[i])));
    ASSERT_TRUE(back) << back.error();
    sent.push_back(*back);
  }
  std::vector<const ShardSecond*> parts;
  for (const auto& s : sent) parts.push_back(&s);
  const load::Tick merged = merge_second(3, parts);
  EXPECT_EQ(merged.p50_us, shards.pooled.value_at_percentile(50));
  EXPECT_EQ(merged.p90_us, shards.pooled.value_at_percentile(90));
  EXPECT_EQ(merged.p99_us, shards.pooled.value_at_percentile(99));
  EXPECT_EQ(merged.p999_us, shards.pooled.value_at_percentile(99.9));
  EXPECT_EQ(shards.pooled.lowest_equivalent(merged.max_us), shards.pooled.lowest_equivalent(shards.pooled.max()));
  // Averaging the shards' own p99s would not give it (the reason to merge histograms).
  double mean_p99 = 0;
  for (const auto& h : shards.parts) mean_p99 += static_cast<double>(h.value_at_percentile(99)) / 4;
  EXPECT_GT(std::abs(mean_p99 - static_cast<double>(merged.p99_us)), 0.01 * static_cast<double>(merged.p99_us));
}

TEST(LoadMerge, CountersAddUpIncludingErrorsByKind) {
  load::LatencyHistogram h;
  h.record(100);
  std::vector<ShardSecond> sent;
  for (int i = 0; i < 4; ++i) {
    auto back = second_from_json(to_json(to_shard_second(tick_of(0, 1000 + i, 10 * i, i), h)));
    ASSERT_TRUE(back);
    EXPECT_EQ(back->failed, static_cast<std::uint64_t>(10 * i + i));
    sent.push_back(*back);
  }
  std::vector<const ShardSecond*> parts;
  for (const auto& s : sent) parts.push_back(&s);
  const load::Tick merged = merge_second(0, parts);
  EXPECT_EQ(merged.counters.requests, 4006u);
  EXPECT_EQ(merged.counters.status[503], 60u);
  EXPECT_EQ(merged.counters.status[200], 4006u - 60u);
  EXPECT_EQ(merged.counters.error(load::ErrorKind::timeout), 6u);
  EXPECT_EQ(merged.counters.transport_errors(), 6u);
  EXPECT_EQ(merged.counters.bytes_read, 400600u);
  EXPECT_EQ(merged.active_users, 40u);  // each shard's users and connections, added
  EXPECT_EQ(merged.open_connections, 80u);
  EXPECT_DOUBLE_EQ(merged.length_s, 1.0);
}

TEST(LoadMerge, ASummaryCarriesTheWholeRun) {
  Shards shards;
  load::Report report;
  report.elapsed_s = 5.0;
  report.counters.requests = shards.parts[0].count();
  report.latency = shards.parts[0];
  auto back = summary_from_json(to_json(to_shard_summary(report)));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->total.second, -1);
  EXPECT_DOUBLE_EQ(back->elapsed_s, 5.0);
  load::LatencyHistogram rebuilt;
  add_latency(back->total, rebuilt);
  EXPECT_EQ(rebuilt.count(), shards.parts[0].count());
  EXPECT_EQ(rebuilt.value_at_percentile(99), shards.parts[0].value_at_percentile(99));
}

}  // namespace
}  // namespace chaosplus::fleet
