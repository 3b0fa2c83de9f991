#include "proxy/token_bucket.h"

#include <gtest/gtest.h>

namespace chaosplus::proxy {
namespace {

using std::chrono::milliseconds;
using TimePoint = TokenBucket::TimePoint;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

TEST(TokenBucket, StartsFullWithItsBurst) {
  TokenBucket bucket(1000.0, 50, t0);
  EXPECT_EQ(bucket.available(t0), 50u);
}

TEST(TokenBucket, RefillsAtTheRateUpToTheBurst) {
  TokenBucket bucket(1000.0, 500, t0);
  bucket.take(500);
  EXPECT_EQ(bucket.available(t0), 0u);
  EXPECT_EQ(bucket.available(t0 + milliseconds(100)), 100u);
  EXPECT_EQ(bucket.available(t0 + milliseconds(250)), 250u);
  EXPECT_EQ(bucket.available(t0 + std::chrono::seconds(10)), 500u);
}

TEST(TokenBucket, ReadyAtIsTheFirstInstantWithEnoughTokens) {
  TokenBucket bucket(1000.0, 100, t0);
  bucket.take(100);
  TimePoint ready = bucket.ready_at(40, t0);
  EXPECT_EQ(ready, t0 + milliseconds(40));
  TokenBucket earlier = bucket;
  EXPECT_LT(earlier.available(ready - milliseconds(1)), 40u);
  EXPECT_GE(bucket.available(ready), 40u);
}

TEST(TokenBucket, ReadyAtIsNowWhenTokensAreThere) {
  TokenBucket bucket(10.0, 100, t0);
  EXPECT_EQ(bucket.ready_at(100, t0), t0);
}

TEST(TokenBucket, TimeGoingBackwardsAddsNothing) {
  TokenBucket bucket(1000.0, 100, t0);
  bucket.take(100);
  EXPECT_EQ(bucket.available(t0 - milliseconds(50)), 0u);
}

TEST(TokenBucket, SendsNoMoreThanRateTimesTimePlusBurst) {
  // Spending whatever is available every millisecond for two seconds.
  const double rate = 5000.0;
  const std::size_t burst = 100;
  TokenBucket bucket(rate, burst, t0);
  std::size_t sent = 0;
  for (int ms = 0; ms <= 2000; ++ms) {
    auto now = t0 + milliseconds(ms);
    std::size_t n = bucket.available(now);
    bucket.take(n);
    sent += n;
  }
  EXPECT_LE(sent, static_cast<std::size_t>(rate * 2.0) + burst);
  EXPECT_GE(sent, static_cast<std::size_t>(rate * 2.0) - 1);
}

TEST(TokenBucket, SlowerRateTakesEffectFromNow) {
  TokenBucket bucket(1000.0, 1000, t0);
  bucket.take(1000);
  bucket.set_rate(100.0, 1000, t0 + milliseconds(500));  // 500 tokens earned at the old rate
  EXPECT_EQ(bucket.available(t0 + milliseconds(1500)), 600u);
}

TEST(BurstForRate, IsAboutTwentyMillisecondsOfData) {
  EXPECT_EQ(burst_for_rate(100'000.0), 2000u);
  EXPECT_EQ(burst_for_rate(10.0), 1u);
  EXPECT_EQ(burst_for_rate(1e12), 256u * 1024u);
}

}  // namespace
}  // namespace chaosplus::proxy
