#include "fuzz/oracles.h"

#include <gtest/gtest.h>

namespace chaosplus::fuzz {
namespace {

Reply answer(int status, std::string body, std::string type = "application/json") {
  Reply r;
  r.outcome = Outcome::response;
  r.response.status = status;
  r.response.body = std::move(body);
  r.response.set_header("Content-Type", std::move(type));
  return r;
}

Reply failed(Outcome outcome) {
  Reply r;
  r.outcome = outcome;
  r.error = "test";
  return r;
}

std::vector<Verdict> judge(Oracles& oracles, const Reply& reply, bool fault = false, bool valid = true,
                           std::string mutation = {}, bool raw = false) {
  RequestCase request;
  request.method = "GET";
  request.path = "/orders/{id}";
  request.expect_valid = valid;
  request.mutation = std::move(mutation);
  OracleInput in;
  in.request = &request;
  in.bytes = "GET /orders/1 HTTP/1.1\r\nHost: x\r\n\r\n";
  in.reply = &reply;
  in.fault_active = fault;
  in.raw = raw;
  in.claims_invalid = !valid;
  return oracles.judge(in);
}

bool has(const std::vector<Verdict>& verdicts, const std::string& oracle) {
  return std::any_of(verdicts.begin(), verdicts.end(), [&](const Verdict& v) { return v.oracle == oracle; });
}

TEST(Oracles, ServerErrorsOfOneCauseShareASignatureWhateverTheirNumbers) {
  Oracles oracles(nullptr);
  auto a = judge(oracles, answer(500, R"({"error":"division by zero in order 41 at shop.cpp:120"})"));
  auto b = judge(oracles, answer(500, R"({"error":"division by zero in order 977 at shop.cpp:120"})"));
  auto c = judge(oracles, answer(500, R"({"error":"null customer"})"));
  ASSERT_TRUE(has(a, "server_error"));
  EXPECT_EQ(a.front().signature, b.front().signature);
  EXPECT_NE(a.front().signature, c.front().signature);
  EXPECT_EQ(a.front().severity, Severity::high);
  EXPECT_EQ(a.front().trigger.rule, "status_equals");
  EXPECT_EQ(a.front().trigger.value, "500");
}

TEST(Oracles, UnavailableUnderAFaultIsDegradationButA500StillIsABug) {
  Oracles oracles(nullptr);
  EXPECT_FALSE(has(judge(oracles, answer(503, "token service down"), true), "server_error"));
  EXPECT_FALSE(has(judge(oracles, answer(504, "gateway timeout"), true), "server_error"));
  EXPECT_TRUE(has(judge(oracles, answer(503, "token service down"), false), "server_error"));
  Reply announced = answer(503, "busy");
  announced.response.set_header("Retry-After", "1");
  EXPECT_FALSE(has(judge(oracles, announced, false), "server_error"));  // unavailable on purpose
  EXPECT_TRUE(has(judge(oracles, answer(500, "oops"), true), "server_error"));
  // A hang while a fault slows everything is the fault's; without one, it is a finding.
  EXPECT_TRUE(judge(oracles, failed(Outcome::timeout), true).empty());
  EXPECT_TRUE(has(judge(oracles, failed(Outcome::timeout), false), "timeout"));
}

TEST(Oracles, ConnectionFailuresAreFindingsExceptForRawFramingAndRefusals) {
  Oracles oracles(nullptr);
  EXPECT_TRUE(has(judge(oracles, failed(Outcome::reset)), "connection_reset"));
  EXPECT_TRUE(has(judge(oracles, failed(Outcome::closed)), "closed_without_response"));
  EXPECT_TRUE(judge(oracles, failed(Outcome::refused)).empty());  // the target watch's business
  // Malformed framing may be refused by closing or by waiting: both are fine answers.
  EXPECT_TRUE(judge(oracles, failed(Outcome::closed), false, true, {}, true).empty());
  EXPECT_TRUE(judge(oracles, failed(Outcome::timeout), false, true, {}, true).empty());
  EXPECT_TRUE(has(judge(oracles, answer(500, "x"), false, true, {}, true), "server_error"));
  EXPECT_TRUE(judge(oracles, answer(501, "unknown transfer coding"), false, true, {}, true).empty());
  EXPECT_TRUE(judge(oracles, answer(505, "HTTP/9.9"), false, true, {}, true).empty());
}

TEST(Oracles, AcceptedInvalidInputIsOneFindingPerPlace) {
  Oracles oracles(nullptr);
  auto a = judge(oracles, answer(201, "{}"), false, false, "body.qty: -1 below minimum 1");
  auto b = judge(oracles, answer(200, "{}"), false, false, "body.qty: 1000001 above maximum 1000");
  ASSERT_TRUE(has(a, "accepted_invalid"));
  EXPECT_EQ(a.front().signature, b.front().signature);
  EXPECT_EQ(a.front().severity, Severity::low);
  EXPECT_TRUE(judge(oracles, answer(400, "{}"), false, false, "body.qty: -1").empty());
  EXPECT_TRUE(judge(oracles, answer(200, "{}"), false, true).empty());
}

TEST(Leaks, StackTracesSqlErrorsPathsAndVersionsAreFound) {
  struct Case {
    std::string body;
    std::string kind;
  };
  const std::vector<Case> cases{
      {"Traceback (most recent call last):\n  File \"app.py\", line 3", "python traceback"},
      {"java.lang.NullPointerException\n\tat java.util.Objects.requireNonNull", "java stack trace"},
      {"panic: runtime error: index out of range\n\ngoroutine 1 [running]:", "go panic"},
      {"terminate called after throwing an instance of 'std::out_of_range'", "native stack trace"},
      {"what(): std::invalid_argument: stoi", "c++ exception"},
      {"ERROR:  syntax error at or near \"'\" at character 42", "postgresql error"},
      {"You have an error in your SQL syntax; check the manual", "mysql error"},
      {"sqlite3.OperationalError: unrecognized token", "sqlite error"},
      {"ORA-00933: SQL command not properly ended", "oracle error"},
      {"{\"error\":\"cannot open /home/shop/data/orders.db\"}", "file path"},
      {"<hr><center>nginx/1.22.1</center>", "version banner"},
      {"database: PostgreSQL 15.4 on x86_64", "version banner"},
  };
  for (const auto& c : cases) {
    auto leak = find_leak(c.body);
    ASSERT_TRUE(leak) << c.body;
    EXPECT_EQ(leak->kind, c.kind) << c.body;
    EXPECT_NE(c.body.find(leak->marker), std::string::npos);
  }
}

TEST(Leaks, OrdinaryErrorsAndEchoedInputAreNotLeaks) {
  for (std::string body : {"{\"error\":\"order not found\"}", "{\"error\":\"quantity must be positive\"}",
                           "Not Found: /users/5", "the user is valid and paid", "stoic"}) {
    EXPECT_FALSE(find_leak(body)) << body;
  }
  // A path the request itself sent, echoed back, is the client's text, not the server's.
  EXPECT_FALSE(find_leak("no such file: /var/tmp/x", "GET /files?name=/var/tmp/x HTTP/1.1\r\n"));
  EXPECT_TRUE(find_leak("no such file: /var/lib/shop/x", "GET /files?name=y HTTP/1.1\r\n"));
}

TEST(Oracles, ErrorLeaksAreJudgedOnErrorBodiesWithATriggerOnTheLeakedText) {
  Oracles oracles(nullptr);
  auto v = judge(oracles, answer(400, "Traceback (most recent call last):\n  File \"/srv/app.py\""));
  ASSERT_TRUE(has(v, "error_leak"));
  const auto leak = *std::find_if(v.begin(), v.end(), [](const Verdict& x) { return x.oracle == "error_leak"; });
  EXPECT_EQ(leak.trigger.rule, "body_contains");
  EXPECT_EQ(leak.trigger.value, "Traceback (most recent call last)");
  EXPECT_FALSE(has(judge(oracles, answer(200, "Traceback (most recent call last)")), "error_leak"));
}

TEST(Normalize, MasksNumbersAndReadsTheMessageOfJsonAndHtml) {
  EXPECT_EQ(normalize_message(R"({"error":{"message":"order 12 failed at 0x7ffd1234"}})"), "order # failed at #");
  EXPECT_EQ(normalize_message("<html><body><h1>Internal Error</h1></body></html>"), "Internal Error");
  EXPECT_EQ(normalize_message("\n\nboom 3\nsecond line"), "boom #");
  EXPECT_EQ(mask_digits("/items/3/price: expected number"), "/items/#/price: expected number");
  EXPECT_EQ(mask_digits("id 550e8400-e29b-41d4-a716-446655440000 gone"), "id # gone");
}

}  // namespace
}  // namespace chaosplus::fuzz
