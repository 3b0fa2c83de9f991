#include "core/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "support/prometheus.h"

namespace chaosplus {
namespace {

TEST(PrometheusText, WritesHelpTypeAndSamplesWithEscapedLabels) {
  PrometheusText out;
  out.family("chaosplus_active_faults", PrometheusText::Type::gauge, "faults on\nnow \\ here");
  out.sample({{"run", "r1"}, {"kind", "say \"hi\"\\\n"}}, 2);
  out.sample(0.25);
  EXPECT_EQ(out.text(),
            "# HELP chaosplus_active_faults faults on\\nnow \\\\ here\n"
            "# TYPE chaosplus_active_faults gauge\n"
            "chaosplus_active_faults{run=\"r1\",kind=\"say \\\"hi\\\"\\\\\\n\"} 2\n"
            "chaosplus_active_faults 0.25\n");
}

TEST(PrometheusText, NumbersReadBackExactly) {
  EXPECT_EQ(PrometheusText::format_value(0), "0");
  EXPECT_EQ(PrometheusText::format_value(-3), "-3");
  EXPECT_EQ(PrometheusText::format_value(1e20), "1e+20");
  EXPECT_EQ(PrometheusText::format_value(0.1), "0.1");
  EXPECT_EQ(PrometheusText::format_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(PrometheusText::format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(PrometheusText::format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  const double third = 1.0 / 3;
  EXPECT_EQ(std::strtod(PrometheusText::format_value(third).c_str(), nullptr), third);
}

TEST(PrometheusText, RefusesBadNamesAndAFamilyWrittenTwice) {
  PrometheusText out;
  EXPECT_THROW(out.sample(1), std::logic_error);  // no family yet
  EXPECT_THROW(out.family("9lives", PrometheusText::Type::counter, ""), std::logic_error);
  out.family("requests_total", PrometheusText::Type::counter, "");
  EXPECT_THROW(out.sample({{"bad-label", "x"}}, 1), std::logic_error);
  EXPECT_THROW(out.family("requests_total", PrometheusText::Type::counter, ""), std::logic_error);
}

TEST(PrometheusText, ItsOutputPassesTheTestsParser) {
  PrometheusText out;
  out.family("a_total", PrometheusText::Type::counter, "help");
  out.sample({{"route", "/api/runs/{id}"}, {"code", "200"}}, 3);
  out.family("b", PrometheusText::Type::gauge, "other");
  out.sample(std::numeric_limits<double>::quiet_NaN());
  auto parsed = testing::parse_prometheus(out.text());
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  ASSERT_EQ(parsed.samples.size(), 2u);
  EXPECT_EQ(parsed.samples[0].name, "a_total");
  EXPECT_EQ(parsed.samples[0].labels.at("route"), "/api/runs/{id}");
  EXPECT_EQ(parsed.samples[0].value, 3);
  EXPECT_TRUE(std::isnan(parsed.samples[1].value));
  EXPECT_EQ(parsed.types.at("a_total"), "counter");
  // The parser is strict: a sample of an undeclared family, a broken label, a bad value.
  EXPECT_FALSE(testing::parse_prometheus("x 1\n").ok());
  EXPECT_FALSE(testing::parse_prometheus("# TYPE x gauge\nx{a=\"1} 1\n").ok());
  EXPECT_FALSE(testing::parse_prometheus("# TYPE x gauge\nx one\n").ok());
}

}  // namespace
}  // namespace chaosplus
