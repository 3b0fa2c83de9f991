#include "core/units.h"

#include <gtest/gtest.h>

#include <csignal>

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, AcceptsEveryUnitAndCompounds) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("2s"), 2s);
  EXPECT_EQ(*parse_duration("2m"), 120s);
  EXPECT_EQ(*parse_duration("1m30s"), 90s);
  EXPECT_EQ(*parse_duration("1h"), 3600s);
  EXPECT_EQ(*parse_duration("250us"), 250us);
  EXPECT_EQ(*parse_duration("1.5s"), 1500ms);
}

TEST(ParseDuration, RejectsNumbersWithoutUnitsAndUnknownUnits) {
  for (const char* bad : {"", "5", "5 parsecs", "ms", "-1s", "1.s", "5sec", "1s2", "2 s x"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().find("is not a duration"), std::string::npos) << r.error();
  }
}

TEST(FormatDuration, GivesTheShortestForm) {
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(120s), "2m");
  EXPECT_EQ(format_duration(0s), "0s");
}

TEST(ParseRate, ConvertsToPerSecond) {
  EXPECT_DOUBLE_EQ(*parse_rate("200/s"), 200);
  EXPECT_DOUBLE_EQ(*parse_rate("120/m"), 2);
  EXPECT_FALSE(parse_rate("200").ok());
  EXPECT_FALSE(parse_rate("200/week").ok());
}

TEST(ParsePercentage, IsAFractionAndStrict) {
  EXPECT_DOUBLE_EQ(*parse_percentage("99%"), 0.99);
  EXPECT_DOUBLE_EQ(*parse_percentage("99.5%"), 0.995);
  EXPECT_FALSE(parse_percentage("99").ok());
  EXPECT_FALSE(parse_percentage("101%").ok());
  EXPECT_FALSE(parse_percentage("%").ok());
}

TEST(ParseBytes, KnowsDecimalAndBinaryUnits) {
  EXPECT_EQ(*parse_bytes("64KB"), 64000u);
  EXPECT_EQ(*parse_bytes("64KiB"), 65536u);
  EXPECT_EQ(*parse_bytes("1MiB"), 1048576u);
  EXPECT_EQ(*parse_bytes("512"), 512u);
  EXPECT_FALSE(parse_bytes("12 bananas").ok());
}

TEST(ParseSignal, AcceptsNamesWithOrWithoutPrefixAndNumbers) {
  EXPECT_EQ(*parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*parse_signal("term"), SIGTERM);
  EXPECT_EQ(*parse_signal("9"), 9);
  EXPECT_FALSE(parse_signal("SIGBANANA").ok());
  EXPECT_FALSE(parse_signal("0").ok());
  EXPECT_EQ(signal_name(SIGSTOP), "SIGSTOP");
}

TEST(ParseComparison, ReadsOperatorAndQuantity) {
  auto latency = parse_comparison("< 300ms", QuantityKind::duration);
  ASSERT_TRUE(latency.ok());
  EXPECT_EQ(latency->op, CompareOp::less);
  EXPECT_DOUBLE_EQ(latency->value, 0.3);
  EXPECT_TRUE(latency->holds(0.299));
  EXPECT_FALSE(latency->holds(0.3));

  auto rate = parse_comparison(">=99%", QuantityKind::percentage);
  ASSERT_TRUE(rate.ok());
  EXPECT_TRUE(rate->holds(0.99));
  EXPECT_FALSE(rate->holds(0.98));
}

TEST(ParseComparison, ExplainsAMissingOperator) {
  auto r = parse_comparison("99%", QuantityKind::percentage);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find(">= 99%"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace chaosplus
