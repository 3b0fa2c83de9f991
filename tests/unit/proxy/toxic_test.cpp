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

TEST(MakeToxic, HttpToxicsActOnRequestsSoTheirStreamIsUpstream) {
  auto spec = make_toxic(draft("http_status", {}));
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->stream, Stream::upstream);
  EXPECT_EQ(spec->name, "http_status_upstream");
  auto d = draft("http_delay", {{"delay", 10}});
  d.stream = "downstream";
  auto refused = make_toxic(d);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("acts on requests"), std::string::npos) << refused.error();
}

TEST(MakeToxic, HttpStatusFillsItsDefaults) {
  auto spec = make_toxic(draft("http_status", {{"method", "POST"}, {"path", "/orders"}}));
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ(spec->attribute("status"), 503);
  EXPECT_EQ(spec->text("method"), "POST");
  EXPECT_EQ(spec->text("path"), "/orders");
  EXPECT_EQ(spec->text("body"), "");
  EXPECT_EQ(spec->text("content_type"), "text/plain; charset=utf-8");
}

TEST(MakeToxic, RejectsAStatusOutsideTwoHundredToFiveNinetyNine) {
  for (int status : {99, 101, 199, 600}) {
    auto spec = make_toxic(draft("http_status", {{"status", status}}));
    ASSERT_FALSE(spec.ok()) << status;
    EXPECT_NE(spec.error().find("'status'"), std::string::npos);
    EXPECT_NE(spec.error().find("between 200 and 599"), std::string::npos) << spec.error();
  }
}

TEST(MakeToxic, RejectsALowercaseMethodAndSuggestsTheRightOne) {
  auto spec = make_toxic(draft("http_status", {{"method", "post"}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("'POST'"), std::string::npos) << spec.error();
}

TEST(MakeToxic, RejectsSomethingThatIsNoMethod) {
  for (const char* method : {"GET POST", "GET,", "G/T", "\r\n"}) {
    auto spec = make_toxic(draft("http_abort", {{"method", method}}));
    ASSERT_FALSE(spec.ok()) << method;
    EXPECT_NE(spec.error().find("'method'"), std::string::npos) << spec.error();
  }
  EXPECT_TRUE(make_toxic(draft("http_abort", {{"method", "GET, HEAD"}})).ok());
  EXPECT_TRUE(make_toxic(draft("http_abort", {{"method", "*"}})).ok());
}

TEST(MakeToxic, RejectsAPathThatCannotMatch) {
  for (const char* path : {"orders", "/orders?id=1", "/a b"}) {
    auto spec = make_toxic(draft("http_delay", {{"delay", 1}, {"path", path}}));
    ASSERT_FALSE(spec.ok()) << path;
    EXPECT_NE(spec.error().find("'path'"), std::string::npos) << spec.error();
  }
  EXPECT_TRUE(make_toxic(draft("http_delay", {{"delay", 1}, {"path", "/orders/*"}})).ok());
}

TEST(MakeToxic, RejectsTextWhereANumberBelongsAndTheOtherWayRound) {
  auto text_status = make_toxic(draft("http_status", {{"status", "503"}}));
  ASSERT_FALSE(text_status.ok());
  EXPECT_NE(text_status.error().find("must be a number"), std::string::npos) << text_status.error();
  auto number_path = make_toxic(draft("http_status", {{"path", 7}}));
  ASSERT_FALSE(number_path.ok());
  EXPECT_NE(number_path.error().find("must be a string"), std::string::npos) << number_path.error();
  auto text_latency = make_toxic(draft("latency", {{"latency", "100ms"}}));
  EXPECT_FALSE(text_latency.ok());
}

TEST(MakeToxic, RejectsAnAbortModeOtherThanCloseOrReset) {
  auto spec = make_toxic(draft("http_abort", {{"mode", "explode"}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("'mode'"), std::string::npos);
  EXPECT_TRUE(make_toxic(draft("http_abort", {{"mode", "reset"}})).ok());
}

TEST(MakeToxic, RejectsAContentTypeThatWouldBreakTheHead) {
  auto spec = make_toxic(draft("http_status", {{"content_type", "text/plain\r\nSet-Cookie: x=1"}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("'content_type'"), std::string::npos);
}

TEST(MakeToxic, RejectsABodyLargerThan64KiB) {
  EXPECT_FALSE(make_toxic(draft("http_status", {{"body", std::string(65537, 'x')}})).ok());
  EXPECT_TRUE(make_toxic(draft("http_status", {{"body", std::string(65536, 'x')}})).ok());
}

TEST(MakeToxic, RequiresTheDelayOfHttpDelay) {
  auto spec = make_toxic(draft("http_delay", {{"path", "/x"}}));
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().find("missing attribute 'delay'"), std::string::npos);
}

TEST(UpdateToxic, ChecksTheToxicityOfAnHttpToxicLikeAnyOther) {
  auto spec = make_toxic(draft("http_status", {}));
  ASSERT_TRUE(spec.ok());
  EXPECT_FALSE(update_toxic(*spec, 1.5, {}).ok());
  auto updated = update_toxic(*spec, 0.1, {{"status", 500}});
  ASSERT_TRUE(updated.ok()) << updated.error();
  EXPECT_EQ(updated->attribute("status"), 500);
  EXPECT_EQ(updated->toxicity, 0.1);
}

}  // namespace
}  // namespace chaosplus::proxy
