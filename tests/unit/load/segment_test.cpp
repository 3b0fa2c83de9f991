#include "load/segment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace chaosplus::load {
namespace {

LoadSpec open_load() {
  LoadSpec l;
  l.name = "shoppers";
  l.url = "http://127.0.0.1:8080/";
  l.rate = 40000;
  l.rate_stages = {{std::chrono::seconds(10), 80000}, {std::chrono::seconds(5), 80000}};
  l.connections = 64;
  l.threads = 4;
  l.max_sessions = 1001;
  return l;
}

LoadSpec users_load(std::uint64_t vus) {
  LoadSpec l;
  l.name = "users";
  l.url = "http://127.0.0.1:8080/";
  l.vus = vus;
  l.vu_stages = {{std::chrono::seconds(10), 7}, {std::chrono::seconds(10), 0}};
  l.connections = 10;
  l.threads = 8;
  return l;
}

TEST(Segment, SharesOfWholeNumbersAddUpExactly) {
  for (std::uint64_t v :
       std::initializer_list<std::uint64_t>{0, 1, 2, 3, 7, 10, 99, 1000, 1'000'003, 10'000'000, UINT64_MAX / 3}) {
    for (int n = 1; n <= 17; ++n) {
      std::uint64_t sum = 0, low = UINT64_MAX, high = 0;
      for (int i = 0; i < n; ++i) {
        const std::uint64_t share = segment_share(v, {i, n});
        sum += share;
        low = std::min(low, share);
        high = std::max(high, share);
      }
      EXPECT_EQ(sum, v) << v << " over " << n;
      EXPECT_LE(high - low, 1u) << v << " over " << n;  // as even as whole numbers allow
    }
  }
}

TEST(Segment, AShardsPartDependsOnlyOnItsIndexAndTheCount) {
  // Computed in any order, alone or among others, a shard derives the same part (k6's property:
  // no shard needs to hear from another).
  const LoadSpec whole = open_load();
  for (int n = 1; n <= 9; ++n) {
    for (int i = n - 1; i >= 0; --i) {
      auto first = segment_of(whole, {i, n});
      auto again = segment_of(open_load(), {i, n});
      ASSERT_TRUE(first && again);
      EXPECT_EQ(first->load.connections, again->load.connections);
      EXPECT_EQ(first->load.max_sessions, again->load.max_sessions);
      EXPECT_DOUBLE_EQ(first->load.rate, again->load.rate);
      EXPECT_EQ(segment_share(1000, {i, n}), segment_share(1000, {i, n}));
    }
  }
}

TEST(Segment, RatesAndRateStagesAreDividedEvenly) {
  const LoadSpec whole = open_load();
  double rate = 0, stage0 = 0;
  int connections = 0;
  std::uint64_t sessions = 0;
  for (int i = 0; i < 4; ++i) {
    auto part = segment_of(whole, {i, 4});
    ASSERT_TRUE(part);
    EXPECT_DOUBLE_EQ(part->load.rate, 10000);
    ASSERT_EQ(part->load.rate_stages.size(), 2u);
    EXPECT_DOUBLE_EQ(part->load.rate_stages[0].target, 20000);
    EXPECT_EQ(part->load.rate_stages[0].over, std::chrono::seconds(10));
    EXPECT_FALSE(part->idle);
    EXPECT_EQ(part->load.url, whole.url);
    EXPECT_EQ(part->load.name, whole.name);
    rate += part->load.rate;
    stage0 += part->load.rate_stages[0].target;
    connections += part->load.connections;
    sessions += *part->load.max_sessions;
    EXPECT_EQ(part->load.threads, 4);
  }
  EXPECT_DOUBLE_EQ(rate, whole.rate);
  EXPECT_DOUBLE_EQ(stage0, whole.rate_stages[0].target);
  EXPECT_EQ(connections, whole.connections);
  EXPECT_EQ(sessions, *whole.max_sessions);
}

TEST(Segment, UsersSplitAsWholeNumbersAndAShardMayGetNone) {
  const LoadSpec whole = users_load(3);
  std::uint64_t users = 0;
  double stage0 = 0;
  int idle = 0;
  for (int i = 0; i < 10; ++i) {
    auto part = segment_of(whole, {i, 10});
    ASSERT_TRUE(part);
    users += part->load.vus;
    stage0 += part->load.vu_stages[0].target;
    EXPECT_EQ(part->load.vu_stages[0].target, std::floor(part->load.vu_stages[0].target));
    EXPECT_EQ(part->load.connections, 1);
    EXPECT_EQ(part->load.threads, 1);  // no more threads than connections
    if (part->idle) {
      ++idle;
      EXPECT_EQ(part->load.vus, 0u);
      EXPECT_EQ(part->load.vu_stages[0].target, 0);
    }
  }
  EXPECT_EQ(users, 3u);
  EXPECT_EQ(stage0, 7);
  // 3 of 10 shards start with a user (3, 6, 9), 7 get one in the first stage (1, 2, 4, 5, 7, 8, 9):
  // shard 0 has none at any time.
  EXPECT_EQ(idle, 1);
  EXPECT_TRUE(segment_of(whole, {0, 10})->idle);
}

TEST(Segment, TheWholeIsOneSegment) {
  auto part = segment_of(users_load(5), {0, 1});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->load.vus, 5u);
  EXPECT_EQ(part->load.connections, 10);
  EXPECT_EQ(part->load.threads, 8);
}

TEST(Segment, AnIndexOutsideTheCountIsAnError) {
  EXPECT_FALSE(segment_of(open_load(), {4, 4}));
  EXPECT_FALSE(segment_of(open_load(), {-1, 4}));
  auto bad = segment_of(open_load(), {0, 0});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("shoppers"), std::string::npos);
}

}  // namespace
}  // namespace chaosplus::load
