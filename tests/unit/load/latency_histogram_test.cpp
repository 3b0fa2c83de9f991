#include "load/latency_histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace chaosplus::load {
namespace {

// The value HdrHistogram reports for `percentile` of an exactly known sample: the value at rank
// round(p/100 * n) (at least 1) of the sorted values.
std::uint64_t exact_percentile(std::vector<std::uint64_t> values, double percentile) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::llround(percentile / 100.0 * static_cast<double>(values.size())));
  rank = std::max<std::size_t>(rank, 1);
  return values[rank - 1];
}

void expect_percentiles_match(const LatencyHistogram& h, const std::vector<std::uint64_t>& values) {
  for (double p : {0.0, 1.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
    const std::uint64_t exact = exact_percentile(values, p);
    const std::uint64_t reported = h.value_at_percentile(p);
    // Reported lies in the exact value's counter: at least the exact value, at most 1/1024 above.
    EXPECT_GE(reported, exact) << "p" << p;
    EXPECT_LE(reported, h.highest_equivalent(exact)) << "p" << p;
    EXPECT_LE(static_cast<double>(reported - exact), static_cast<double>(exact) / 1000.0 + 1e-9) << "p" << p;
  }
}

TEST(LatencyHistogram, ValuesBelowTwoThousandAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 2048; ++v) {
    EXPECT_EQ(h.lowest_equivalent(v), v);
    EXPECT_EQ(h.highest_equivalent(v), v);
  }
}

TEST(LatencyHistogram, RelativeErrorStaysBelowOnePartInAThousand) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v < 3'000'000'000ULL; v = v * 3 / 2 + 7) {
    const auto low = h.lowest_equivalent(v);
    const auto high = h.highest_equivalent(v);
    ASSERT_LE(low, v);
    ASSERT_GE(high, v);
    ASSERT_LE(static_cast<double>(high - low), static_cast<double>(v) / 1000.0) << v;
  }
}

TEST(LatencyHistogram, PercentilesOfOneToTenThousandMatchTheExactOnes) {
  LatencyHistogram h;
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 1; v <= 10000; ++v) {
    h.record(v);
    values.push_back(v);
  }
  EXPECT_EQ(h.count(), 10000u);
  EXPECT_EQ(h.min(), 1u);
  EXPECT_EQ(h.max(), 10000u);
  EXPECT_DOUBLE_EQ(h.mean(), 5000.5);
  EXPECT_EQ(h.value_at_percentile(50), 5000u + 3u);  // 5000 shares a counter 4 wide: 5000..5003
  expect_percentiles_match(h, values);
}

TEST(LatencyHistogram, PercentilesOfALongTailedSampleMatchTheExactOnes) {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(7.0, 1.5);  // microseconds: median ~1 ms, tail to seconds
  LatencyHistogram h;
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 200000; ++i) {
    const auto v = static_cast<std::uint64_t>(latency(random));
    h.record(v);
    values.push_back(v);
  }
  expect_percentiles_match(h, values);
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
}

TEST(LatencyHistogram, MergedHistogramsEqualOneHistogramOfAllValues) {
  LatencyHistogram a, b, all;
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::uint64_t> value(1, 5'000'000);
  for (int i = 0; i < 50000; ++i) {
    const auto v = value(random);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  ASSERT_TRUE(a.merge(b));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.nonzero(), all.nonzero());
  for (double p : {50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.value_at_percentile(p), all.value_at_percentile(p));
}

TEST(LatencyHistogram, MergeRefusesADifferentLayout) {
  LatencyHistogram a(3'600'000'000ULL, 3);
  LatencyHistogram b(3'600'000'000ULL, 2);
  b.record(5);
  EXPECT_FALSE(a.merge(b));
  EXPECT_EQ(a.count(), 0u);
}

TEST(LatencyHistogram, ValuesAboveTheHighestAreClampedNotLost) {
  LatencyHistogram h(1'000'000, 3);
  h.record(5'000'000);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max(), 1'000'000u);
  EXPECT_EQ(h.value_at_percentile(100), 1'000'000u);
}

TEST(LatencyHistogram, EmptyHistogramReportsZeros) {
  LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.value_at_percentile(99), 0u);
  EXPECT_EQ(h.mean(), 0.0);
}

TEST(LatencyHistogram, RecordNCountsTheValueNTimes) {
  LatencyHistogram h;
  h.record_n(100, 99);
  h.record(1'000'000);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_EQ(h.value_at_percentile(99), 100u);
  EXPECT_GE(h.value_at_percentile(99.5), 1'000'000u - 1000u);
}

TEST(LatencyHistogram, ResetForgetsEverything) {
  LatencyHistogram h;
  h.record(12);
  h.reset();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_TRUE(h.nonzero().empty());
  h.record(3);
  EXPECT_EQ(h.min(), 3u);
}

TEST(LatencyHistogram, RebuildingFromNonzeroCountersGivesTheSamePercentiles) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v < 1'000'000; v += 997) h.record(v);
  LatencyHistogram copy;
  for (auto [value, count] : h.nonzero()) copy.record_n(value, count);
  for (double p : {10.0, 50.0, 99.0}) EXPECT_EQ(copy.value_at_percentile(p), h.value_at_percentile(p));
}

}  // namespace
}  // namespace chaosplus::load
