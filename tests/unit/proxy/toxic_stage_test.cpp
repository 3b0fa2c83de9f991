#include "proxy/toxic_stage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaosplus::proxy {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

// Records what a stage hands on, write by write.
class Collector final : public StageOutput {
 public:
  void write(std::string_view bytes, TimePoint) override { writes.emplace_back(bytes); }
  void end(StreamEnd how, TimePoint) override { ends.push_back(how); }
  std::string joined() const {
    std::string out;
    for (const auto& w : writes) out += w;
    return out;
  }
  std::vector<std::string> writes;
  std::vector<StreamEnd> ends;
};

ToxicSpec spec(std::string type, Attributes attributes, double toxicity = 1.0) {
  ToxicDraft d;
  d.type = std::move(type);
  d.attributes = std::move(attributes);
  d.toxicity = toxicity;
  auto made = make_toxic(d);
  EXPECT_TRUE(made.ok()) << made.error();
  return made.value();
}

TEST(LatencyStage, HoldsBytesUntilTheLatencyHasPassed) {
  auto stage = make_stage(1, spec("latency", {{"latency", 100}}), 0.0, 7, t0);
  Collector out;
  stage->accept("abc", t0);
  Step step = stage->advance(t0 + milliseconds(99), out);
  EXPECT_TRUE(out.writes.empty());
  EXPECT_EQ(step.wake, t0 + milliseconds(100));
  stage->advance(t0 + milliseconds(100), out);
  EXPECT_EQ(out.joined(), "abc");
}

TEST(LatencyStage, KeepsOrderWhenJitterWouldLetALaterChunkOvertake) {
  auto stage = make_stage(1, spec("latency", {{"latency", 50}, {"jitter", 50}}), 0.0, 42, t0);
  Collector out;
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    std::string chunk = std::to_string(i) + ",";
    expected += chunk;
    stage->accept(chunk, t0 + microseconds(i * 100));
  }
  for (int ms = 0; ms <= 200; ++ms) stage->advance(t0 + milliseconds(ms), out);
  EXPECT_EQ(out.joined(), expected);
}

TEST(LatencyStage, PassesTheEndAfterTheDelayedBytes) {
  auto stage = make_stage(1, spec("latency", {{"latency", 10}}), 0.0, 1, t0);
  Collector out;
  stage->accept("x", t0);
  stage->accept_end(StreamEnd::fin, t0);
  stage->advance(t0 + milliseconds(5), out);
  EXPECT_TRUE(out.ends.empty());
  stage->advance(t0 + milliseconds(10), out);
  ASSERT_EQ(out.ends.size(), 1u);
  EXPECT_EQ(out.ends[0], StreamEnd::fin);
}

TEST(LatencyStage, FlushHandsOnEverythingInOrderAtOnce) {
  auto stage = make_stage(1, spec("latency", {{"latency", 10'000}}), 0.0, 1, t0);
  Collector out;
  stage->accept("first ", t0);
  stage->accept("second", t0 + milliseconds(1));
  stage->accept_end(StreamEnd::fin, t0 + milliseconds(2));
  stage->flush(t0 + milliseconds(3), out);
  EXPECT_EQ(out.joined(), "first second");
  EXPECT_EQ(out.ends.size(), 1u);
  EXPECT_EQ(stage->buffered(), 0u);
}

TEST(ToxicityRoll, AStageWhoseRollIsNotBelowToxicityPassesBytesUntouched) {
  auto stage = make_stage(1, spec("latency", {{"latency", 10'000}}, 0.3), 0.5, 1, t0);
  EXPECT_FALSE(stage->acting());
  Collector out;
  stage->accept("now", t0);
  stage->advance(t0, out);
  EXPECT_EQ(out.joined(), "now");
}

TEST(ToxicityRoll, AStageWhoseRollIsBelowToxicityActs) {
  auto stage = make_stage(1, spec("latency", {{"latency", 10'000}}, 0.3), 0.2, 1, t0);
  EXPECT_TRUE(stage->acting());
}

TEST(SliceSize, StaysWithinAverageAndVariationAndRepeatsWithTheSeed) {
  FastRandom a(99), b(99);
  bool saw_low = false, saw_high = false;
  for (int i = 0; i < 10'000; ++i) {
    std::size_t size = slice_size(100, 20, a);
    EXPECT_GE(size, 80u);
    EXPECT_LE(size, 120u);
    saw_low = saw_low || size == 80;
    saw_high = saw_high || size == 120;
    EXPECT_EQ(size, slice_size(100, 20, b));
  }
  EXPECT_TRUE(saw_low);
  EXPECT_TRUE(saw_high);
}

TEST(SlicerStage, CutsBytesIntoSlicesThatJoinBackToTheInput) {
  auto stage = make_stage(1, spec("slicer", {{"average_size", 10}, {"size_variation", 3}}), 0.0, 5, t0);
  Collector out;
  std::string input(1000, 'x');
  for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<char>('a' + i % 26);
  stage->accept(input, t0);
  stage->advance(t0, out);
  EXPECT_EQ(out.joined(), input);
  ASSERT_GT(out.writes.size(), 1u);
  for (std::size_t i = 0; i + 1 < out.writes.size(); ++i) {  // the last slice may be short
    EXPECT_GE(out.writes[i].size(), 7u);
    EXPECT_LE(out.writes[i].size(), 13u);
  }
}

TEST(SlicerStage, WaitsTheDelayBetweenSlices) {
  auto stage = make_stage(1, spec("slicer", {{"average_size", 4}, {"delay", 1000}}), 0.0, 5, t0);
  Collector out;
  stage->accept("aaaabbbbcccc", t0);
  Step step = stage->advance(t0, out);
  EXPECT_EQ(out.joined(), "aaaa");
  EXPECT_EQ(step.wake, t0 + microseconds(1000));
  stage->advance(t0 + microseconds(1000), out);
  EXPECT_EQ(out.joined(), "aaaabbbb");
}

TEST(BandwidthStage, SendsNoMoreThanTheRateAllows) {
  // 10 KB/s = 10000 bytes/s; over one second at most 10000 bytes plus one burst.
  auto stage = make_stage(1, spec("bandwidth", {{"rate", 10}}), 0.0, 1, t0);
  Collector out;
  stage->accept(std::string(50'000, 'z'), t0);
  for (int ms = 0; ms <= 1000; ++ms) stage->advance(t0 + milliseconds(ms), out);
  std::size_t sent = out.joined().size();
  EXPECT_LE(sent, 10'000u + 200u);
  EXPECT_GE(sent, 9'000u);
}

TEST(BandwidthStage, AsksToBeWokenWhenTheNextPieceIsAffordable) {
  auto stage = make_stage(1, spec("bandwidth", {{"rate", 1}}), 0.0, 1, t0);  // 1000 B/s, 20 B burst
  Collector out;
  stage->accept(std::string(100, 'z'), t0);
  Step step = stage->advance(t0, out);
  EXPECT_EQ(out.joined().size(), 20u);
  EXPECT_EQ(step.wake, t0 + milliseconds(20));
}

TEST(TimeoutStage, HoldsBytesAndClosesWhenTheTimeoutPasses) {
  auto stage = make_stage(1, spec("timeout", {{"timeout", 100}}), 0.0, 1, t0);
  Collector out;
  stage->accept("held", t0);
  Step early = stage->advance(t0 + milliseconds(99), out);
  EXPECT_TRUE(out.writes.empty());
  EXPECT_EQ(early.fate, ConnectionFate::carry_on);
  Step late = stage->advance(t0 + milliseconds(100), out);
  EXPECT_EQ(late.fate, ConnectionFate::close);
  EXPECT_TRUE(out.writes.empty());
}

TEST(TimeoutStage, ZeroHoldsForeverAndGivesBytesUpWhenRemoved) {
  auto stage = make_stage(1, spec("timeout", {{"timeout", 0}}), 0.0, 1, t0);
  Collector out;
  stage->accept("held", t0);
  Step step = stage->advance(t0 + std::chrono::hours(24), out);
  EXPECT_EQ(step.fate, ConnectionFate::carry_on);
  EXPECT_EQ(step.wake, TimePoint::max());
  EXPECT_TRUE(out.writes.empty());
  stage->flush(t0, out);
  EXPECT_EQ(out.joined(), "held");
}

TEST(ResetPeerStage, PassesBytesThenResetsAtTheTimeout) {
  auto stage = make_stage(1, spec("reset_peer", {{"timeout", 50}}), 0.0, 1, t0);
  Collector out;
  stage->accept("before", t0);
  EXPECT_EQ(stage->advance(t0 + milliseconds(10), out).fate, ConnectionFate::carry_on);
  EXPECT_EQ(out.joined(), "before");
  EXPECT_EQ(stage->advance(t0 + milliseconds(50), out).fate, ConnectionFate::reset);
}

TEST(ResetPeerStage, ZeroResetsAtOnce) {
  auto stage = make_stage(1, spec("reset_peer", {}), 0.0, 1, t0);
  Collector out;
  EXPECT_EQ(stage->advance(t0, out).fate, ConnectionFate::reset);
}

TEST(LimitDataStage, PassesExactlyTheLimitThenClosesTheConnection) {
  auto stage = make_stage(1, spec("limit_data", {{"bytes", 10}}), 0.0, 1, t0);
  Collector out;
  stage->accept("0123456", t0);
  stage->accept("789abcdef", t0);
  stage->accept("more", t0);
  stage->advance(t0, out);
  EXPECT_EQ(out.joined(), "0123456789");
  ASSERT_EQ(out.ends.size(), 1u);
  EXPECT_EQ(out.ends[0], StreamEnd::close);
}

TEST(LimitDataStage, ZeroClosesBeforeAnyByte) {
  auto stage = make_stage(1, spec("limit_data", {{"bytes", 0}}), 0.0, 1, t0);
  Collector out;
  stage->accept("x", t0);
  stage->advance(t0, out);
  EXPECT_TRUE(out.writes.empty());
  ASSERT_EQ(out.ends.size(), 1u);
  EXPECT_EQ(out.ends[0], StreamEnd::close);
}

TEST(SlowCloseStage, PassesBytesAtOnceButHoldsTheEndForTheDelay) {
  auto stage = make_stage(1, spec("slow_close", {{"delay", 200}}), 0.0, 1, t0);
  Collector out;
  stage->accept("data", t0);
  stage->accept_end(StreamEnd::fin, t0);
  Step step = stage->advance(t0, out);
  EXPECT_EQ(out.joined(), "data");
  EXPECT_TRUE(out.ends.empty());
  EXPECT_EQ(step.wake, t0 + milliseconds(200));
  stage->advance(t0 + milliseconds(200), out);
  ASSERT_EQ(out.ends.size(), 1u);
}

TEST(ToxicStage, ReconfiguredLatencyAppliesToNewBytesAndKeepsHeldOnes) {
  auto stage = make_stage(1, spec("latency", {{"latency", 100}}), 0.0, 1, t0);
  Collector out;
  stage->accept("old", t0);
  stage->reconfigure(spec("latency", {{"latency", 10}}), t0);
  stage->accept("new", t0 + milliseconds(1));
  stage->advance(t0 + milliseconds(50), out);
  EXPECT_TRUE(out.writes.empty());  // "new" may not overtake "old"
  stage->advance(t0 + milliseconds(100), out);
  EXPECT_EQ(out.joined(), "oldnew");
}

// ---- what a toxic touched (issue 9: a fault's reach was invisible) ----

TEST(ToxicReach, EachConnectionsDrawCountsAsHitOrSkipped) {
  auto counters = std::make_shared<ToxicCounters>();
  const ToxicSpec half = spec("reset_peer", {{"timeout", 0}}, 0.5);
  for (double roll : {0.1, 0.49, 0.5, 0.9, 0.2}) (void)draw_stage(1, half, roll, 1, t0, counters);
  EXPECT_EQ(counters->connections, 3u);
  EXPECT_EQ(counters->connections_skipped, 2u);
}

TEST(ToxicReach, AnActingStageCountsTheBytesThatEnterItAndTheRequestsItSaw) {
  auto counters = std::make_shared<ToxicCounters>();
  auto stage = draw_stage(1, spec("latency", {{"latency", 10}}), 0.0, 1, t0, counters);
  stage->accept("hello", t0);
  stage->accept(" world", t0);
  stage->count_requests(2);
  Collector out;
  stage->advance(t0 + milliseconds(10), out);
  EXPECT_EQ(out.joined(), "hello world");
  EXPECT_EQ(counters->bytes, 11u);
  EXPECT_EQ(counters->requests, 2u);
}

TEST(ToxicReach, AStageThatLostTheDrawCountsNothingButTheSkip) {
  auto counters = std::make_shared<ToxicCounters>();
  auto stage = draw_stage(1, spec("latency", {{"latency", 10}}, 0.3), 0.7, 1, t0, counters);
  stage->accept("hello", t0);
  stage->count_requests(1);
  EXPECT_EQ(*counters, (ToxicCounters{0, 1, 0, 0, 0}));
}

TEST(ToxicReach, BytesAfterTheLimitCutTheConnectionAreNotCounted) {
  auto counters = std::make_shared<ToxicCounters>();
  auto stage = draw_stage(1, spec("limit_data", {{"bytes", 4}}), 0.0, 1, t0, counters);
  stage->accept("abcdef", t0);  // crosses the limit: counted whole, as it entered
  stage->accept("ghi", t0);     // after the end: never entered
  EXPECT_EQ(counters->bytes, 6u);
}

TEST(ToxicReach, AStageMadeAgainForANewToxicityKeepsCountingIntoTheSameCounters) {
  auto counters = std::make_shared<ToxicCounters>();
  auto first = draw_stage(1, spec("latency", {{"latency", 10}}, 0.2), 0.5, 1, t0, counters);
  auto again = make_stage(1, spec("latency", {{"latency", 10}}, 0.8), first->roll(), 1, t0, first->counters());
  again->accept("abc", t0);
  EXPECT_EQ(*counters, (ToxicCounters{0, 1, 0, 0, 3}));  // no second draw, but the bytes count
}

}  // namespace
}  // namespace chaosplus::proxy
