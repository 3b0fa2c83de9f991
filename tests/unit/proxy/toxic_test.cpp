#include "proxy/toxic.h"

#include <gtest/gtest.h>

namespace chaosplus::proxy {
namespace {

ToxicDraft draft(std::string type, Attributes attributes) {
  ToxicDraft d;
  d.type = std::move(type);
  d.attributes = std::move(attributes);
  return d;
}

TEST(MakeToxic, FillsToxiproxyDefaults) {
  auto spec = make_toxic(draft("latency", {{"latency", 100}}));
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->name, "latency_downstream");
  EXPECT_EQ(spec->stream, Stream::downstream);
  EXPECT_EQ(spec->toxicity, 1.0);
  EXPECT_EQ(spec->attribute("latency"), 100);
  EXPECT_EQ(spec->attributes.at("jitter"), 0);
}

TEST(MakeToxic, DefaultNameFollowsTheStream) {
  auto d = draft("bandwidth", {{"rate", 10}});
  d.stream = "upstream";
  auto spec = make_toxic(d);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->name, "bandwidth_upstream");
}

TEST(MakeToxic, RejectsAnUnknownTypeAndListsTheKnownOnes) {
  auto spec = make_toxic(draft("lag", {}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("unknown toxic type 'lag'"), std::string::npos);
  EXPECT_NE(spec.error().find("slicer"), std::string::npos);
}

TEST(MakeToxic, RejectsAMissingRequiredAttribute) {
  auto spec = make_toxic(draft("latency", {{"jitter", 5}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("missing attribute 'latency'"), std::string::npos);
}

TEST(MakeToxic, RejectsANegativeAttribute) {
  auto spec = make_toxic(draft("timeout", {{"timeout", -1}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("'timeout'"), std::string::npos);
  EXPECT_NE(spec.error().find("between 0 and"), std::string::npos);
}

TEST(MakeToxic, RejectsAnAttributeAboveItsRange) {
  auto spec = make_toxic(draft("latency", {{"latency", 100'000'000'000}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("between"), std::string::npos);
}

TEST(MakeToxic, RejectsAnUnknownAttribute) {
  auto spec = make_toxic(draft("latency", {{"latency", 1}, {"latncy", 2}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("unknown attribute 'latncy'"), std::string::npos);
}

TEST(MakeToxic, RejectsToxicityOutsideZeroToOne) {
  for (double toxicity : {-0.1, 1.01}) {
    auto d = draft("latency", {{"latency", 1}});
    d.toxicity = toxicity;
    auto spec = make_toxic(d);
    ASSERT_FALSE(spec.ok());
    EXPECT_NE(spec.error().find("toxicity"), std::string::npos);
  }
}

TEST(MakeToxic, RejectsAnUnknownStream) {
  auto d = draft("latency", {{"latency", 1}});
  d.stream = "sideways";
  auto spec = make_toxic(d);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("upstream"), std::string::npos);
}

TEST(MakeToxic, RejectsABandwidthOfZero) {
  auto spec = make_toxic(draft("bandwidth", {{"rate", 0}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("'rate'"), std::string::npos);
}

TEST(MakeToxic, RejectsASliceVariationAsLargeAsTheAverage) {
  auto spec = make_toxic(draft("slicer", {{"average_size", 10}, {"size_variation", 10}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("size_variation"), std::string::npos);
}

TEST(MakeToxic, RejectsANameThatCannotTravelInAPath) {
  auto d = draft("latency", {{"latency", 1}});
  d.name = "a/b";
  auto spec = make_toxic(d);
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("toxic name"), std::string::npos);
}

TEST(MakeToxic, AcceptsEveryTypeWithItsRequiredAttributes) {
  EXPECT_TRUE(make_toxic(draft("latency", {{"latency", 0}})).ok());
  EXPECT_TRUE(make_toxic(draft("bandwidth", {{"rate", 1}})).ok());
  EXPECT_TRUE(make_toxic(draft("timeout", {{"timeout", 0}})).ok());
  EXPECT_TRUE(make_toxic(draft("reset_peer", {})).ok());
  EXPECT_TRUE(make_toxic(draft("slow_close", {{"delay", 10}})).ok());
  EXPECT_TRUE(make_toxic(draft("limit_data", {{"bytes", 0}})).ok());
  EXPECT_TRUE(make_toxic(draft("slicer", {{"average_size", 1}})).ok());
}

TEST(UpdateToxic, MergesNewAttributesIntoTheOldOnes) {
  auto spec = make_toxic(draft("latency", {{"latency", 100}, {"jitter", 10}}));
  ASSERT_TRUE(spec.ok());
  auto updated = update_toxic(*spec, 0.5, {{"jitter", 20}});
  ASSERT_TRUE(updated.ok()) << updated.error();
  EXPECT_EQ(updated->attribute("latency"), 100);
  EXPECT_EQ(updated->attribute("jitter"), 20);
  EXPECT_EQ(updated->toxicity, 0.5);
  EXPECT_EQ(updated->name, spec->name);
}

TEST(UpdateToxic, AppliesTheSameChecksAsCreation) {
  auto spec = make_toxic(draft("latency", {{"latency", 100}}));
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(update_toxic(*spec, std::nullopt, {{"latency", -5}}).ok());
  EXPECT_FALSE(update_toxic(*spec, 2.0, {}).ok());
}

}  // namespace
}  // namespace chaosplus::proxy
