#include "probes/expectation.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace chaosplus::probes {
namespace {

using std::chrono::milliseconds;

Comparison below(double seconds) { return {CompareOp::less, seconds}; }

TEST(JudgeHttp, AnyTwoHundredIsFineByDefault) {
  EXPECT_EQ(judge_http({}, 200, "", milliseconds(1)), "");
  EXPECT_EQ(judge_http({}, 204, "", milliseconds(1)), "");
}

TEST(JudgeHttp, ANonTwoHundredFailsByDefault) {
  EXPECT_EQ(judge_http({}, 503, "", milliseconds(1)), "status 503 not 2xx");
  EXPECT_EQ(judge_http({}, 302, "", milliseconds(1)), "status 302 not 2xx");
}

TEST(JudgeHttp, AnExplicitStatusSetIsHonoured) {
  spec::Expectation expect;
  expect.status = {200, 201};
  EXPECT_EQ(judge_http(expect, 201, "", milliseconds(1)), "");
  EXPECT_EQ(judge_http(expect, 503, "", milliseconds(1)), "status 503 not in [200, 201]");
  EXPECT_EQ(judge_http(expect, 204, "", milliseconds(1)), "status 204 not in [200, 201]");
}

TEST(JudgeHttp, AnExpectedErrorStatusPasses) {
  spec::Expectation expect;
  expect.status = {404};
  EXPECT_EQ(judge_http(expect, 404, "", milliseconds(1)), "");
}

TEST(JudgeHttp, BodyMustContainTheText) {
  spec::Expectation expect;
  expect.body_contains = "ok";
  EXPECT_EQ(judge_http(expect, 200, "{\"status\":\"ok\"}", milliseconds(1)), "");
  EXPECT_EQ(judge_http(expect, 200, "{\"status\":\"down\"}", milliseconds(1)), "body does not contain 'ok'");
}

TEST(JudgeHttp, BodyRegexIsSearchedAnywhere) {
  spec::Expectation expect;
  expect.body_regex = R"re("status":\s*"(up|ok)")re";
  EXPECT_EQ(judge_http(expect, 200, "{\"id\": 1, \"status\": \"up\", \"x\": 2}", milliseconds(1)), "");
  EXPECT_EQ(judge_http(expect, 200, "{\"status\": \"down\"}", milliseconds(1)),
            R"re(body does not match regex '"status":\s*"(up|ok)"')re");
}

TEST(JudgeHttp, StatusIsCheckedBeforeTheBody) {
  spec::Expectation expect;
  expect.body_contains = "ok";
  EXPECT_EQ(judge_http(expect, 500, "nope", milliseconds(1)), "status 500 not 2xx");
}

TEST(JudgeHttp, LatencyOverTheLimitFails) {
  spec::Expectation expect;
  expect.latency = below(0.3);
  EXPECT_EQ(judge_http(expect, 200, "", milliseconds(412)), "latency 412ms not < 300ms");
  EXPECT_EQ(judge_http(expect, 200, "", milliseconds(120)), "");
}

TEST(JudgeLatency, EveryOperatorIsWrittenOut) {
  EXPECT_EQ(judge_latency({CompareOp::less_equal, 0.1}, milliseconds(150)), "latency 150ms not <= 100ms");
  EXPECT_EQ(judge_latency({CompareOp::greater, 1.5}, milliseconds(20)), "latency 20ms not > 1.5s");
  EXPECT_EQ(judge_latency({CompareOp::greater_equal, 1.5}, milliseconds(1500)), "");
}

TEST(JudgeLatency, SubMillisecondLatenciesAreShownInMicroseconds) {
  EXPECT_EQ(judge_latency(below(0.0001), std::chrono::microseconds(250)), "latency 250us not < 100us");
}

TEST(JudgeCommand, ExitCodeZeroIsExpectedByDefault) {
  EXPECT_EQ(judge_command({}, 0, "", milliseconds(1)), "");
  EXPECT_EQ(judge_command({}, 1, "", milliseconds(1)), "exit code 1, expected 0");
}

TEST(JudgeCommand, AnExpectedExitCodeIsHonoured) {
  spec::Expectation expect;
  expect.exit_code = 3;
  EXPECT_EQ(judge_command(expect, 3, "", milliseconds(1)), "");
  EXPECT_EQ(judge_command(expect, 0, "", milliseconds(1)), "exit code 0, expected 3");
}

TEST(JudgeCommand, OutputMustContainTheText) {
  spec::Expectation expect;
  expect.output_contains = "PONG";
  EXPECT_EQ(judge_command(expect, 0, "PONG\n", milliseconds(1)), "");
  EXPECT_EQ(judge_command(expect, 0, "ERR\n", milliseconds(1)), "output does not contain 'PONG'");
}

TEST(JudgeCommand, OutputRegexIsSearchedAnywhere) {
  spec::Expectation expect;
  expect.output_regex = "replicas: [3-5]";
  EXPECT_EQ(judge_command(expect, 0, "name: db\nreplicas: 4\n", milliseconds(1)), "");
  EXPECT_EQ(judge_command(expect, 0, "replicas: 2\n", milliseconds(1)),
            "output does not match regex 'replicas: [3-5]'");
}

TEST(JudgeCommand, LatencyIsCheckedToo) {
  spec::Expectation expect;
  expect.latency = below(1);
  EXPECT_EQ(judge_command(expect, 0, "", milliseconds(2500)), "latency 2.5s not < 1s");
}

TEST(JudgeTcp, OnlyLatencyApplies) {
  spec::Expectation expect;
  EXPECT_EQ(judge_tcp(expect, milliseconds(900)), "");
  expect.latency = below(0.05);
  EXPECT_EQ(judge_tcp(expect, milliseconds(80)), "latency 80ms not < 50ms");
}

TEST(RegexSearch, AnInvalidPatternIsAFailureNamingIt) {
  auto matched = regex_search("([a-z", "abc");
  ASSERT_FALSE(matched.ok());
  EXPECT_NE(matched.error().find("invalid regex '([a-z'"), std::string::npos) << matched.error();
  spec::Expectation expect;
  expect.body_regex = "([a-z";
  EXPECT_NE(judge_http(expect, 200, "abc", milliseconds(1)).find("invalid regex"), std::string::npos);
}

TEST(RegexSearch, BackReferencesAreRefusedClearly) {
  auto matched = regex_search(R"((a)\1)", "aa");
  ASSERT_FALSE(matched.ok());
  EXPECT_NE(matched.error().find("back-reference"), std::string::npos) << matched.error();
}

TEST(RegexSearch, ALargeBodyDoesNotExhaustTheStack) {
  // The default std::regex matcher recurses per character and crashes on inputs like this one.
  std::string body(2 * 1024 * 1024, 'a');
  body += "xyz";
  auto matched = regex_search("a.*z", body);
  ASSERT_TRUE(matched.ok()) << matched.error();
  EXPECT_TRUE(*matched);
}

TEST(RegexSearch, ALargeBodyWithoutAMatchIsSearchedToTheEnd) {
  std::string body;
  while (body.size() < 1024 * 1024)
    body += R"({"id": 12, "name": "widget", "status": "down"},)"
            "\n";
  auto missing = regex_search(R"re("status":\s*"up")re", body);
  ASSERT_TRUE(missing.ok()) << missing.error();
  EXPECT_FALSE(*missing);
  body += R"({"status": "up"})";
  EXPECT_TRUE(*regex_search(R"re("status":\s*"up")re", body));
}

TEST(RegexSearch, ManyThreadsShareCompiledPatterns) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &failures] {
      const std::string own = "token-" + std::to_string(t) + "-[0-9]+";
      for (int i = 0; i < kRounds; ++i) {
        const std::string text = "x token-" + std::to_string(t) + "-" + std::to_string(i) + " y";
        auto shared = regex_search("token-[0-9]+-[0-9]+", text);
        auto mine = regex_search(own, text);
        auto other = regex_search("token-" + std::to_string(t + 100) + "-", text);
        if (!shared.ok() || !*shared || !mine.ok() || !*mine || !other.ok() || *other) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t;
}

}  // namespace
}  // namespace chaosplus::probes
