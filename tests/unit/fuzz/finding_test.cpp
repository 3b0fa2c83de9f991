#include "fuzz/finding.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <thread>

namespace chaosplus::fuzz {
namespace {

Finding finding(std::string operation, std::string oracle, std::string signature) {
  Finding f;
  f.engine = "fuzz";
  f.operation = std::move(operation);
  f.oracle = std::move(oracle);
  f.signature = std::move(signature);
  return f;
}

Reply response(int status, std::string body = {}, std::vector<net::Header> headers = {}) {
  Reply reply;
  reply.outcome = Outcome::response;
  reply.response.status = status;
  reply.response.body = std::move(body);
  reply.response.headers = std::move(headers);
  reply.latency_ns = 1'000'000;
  return reply;
}

Reply failed(Outcome outcome, std::int64_t latency_ms = 1) {
  Reply reply;
  reply.outcome = outcome;
  reply.latency_ns = latency_ms * 1'000'000;
  reply.error = "what the system said";
  return reply;
}

TEST(Severity, NamesRoundTripInOrder) {
  const std::vector<std::string> names{"info", "low", "medium", "high", "critical"};
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto severity = static_cast<Severity>(i);
    EXPECT_EQ(severity_name(severity), names[i]);
    auto parsed = parse_severity(names[i]);
    ASSERT_TRUE(parsed.ok()) << parsed.error();
    EXPECT_EQ(*parsed, severity);
  }
  EXPECT_LT(Severity::low, Severity::high);
  EXPECT_EQ(*parse_severity("HIGH"), Severity::high);
}

TEST(Severity, AnUnknownNameSaysWhatIsExpected) {
  auto parsed = parse_severity("urgent");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error(), "'urgent': expected a severity: info, low, medium, high or critical");
  EXPECT_FALSE(parse_severity("").ok());
}

TEST(FindingId, IsFAndTenHexDigitsOfTheKeyOnly) {
  Finding a = finding("createOrder", "server_error", "500 + ZeroDivision");
  EXPECT_EQ(a.key(), "fuzz|createOrder|server_error|500 + ZeroDivision");
  EXPECT_TRUE(std::regex_match(a.id(), std::regex("F[0-9a-f]{10}"))) << a.id();
  Finding b = a;
  b.title = "another title";
  b.count = 7;
  b.severity = Severity::critical;
  b.active_faults = {"latency token"};
  EXPECT_EQ(a.id(), b.id());
  b.signature = "500 + NullPointer";
  EXPECT_NE(a.id(), b.id());
  b = a;
  b.engine = "security";
  EXPECT_NE(a.id(), b.id());
}

// Ids are written into findings files and SARIF fingerprints, and `replay --id` reads them back
// in later runs and other builds: the hash may never change.
TEST(FindingId, IsStableAcrossBuilds) {
  // FNV-1a 64 of the key, high 24 bits folded into the low 40 (computed independently, in Python).
  EXPECT_EQ(finding("createOrder", "server_error", "500").id(), "F888fabbb67");
  Finding security = finding("getOrder", "fail_open", "200 while token down");
  security.engine = "security";
  EXPECT_EQ(security.id(), "F0c96974fd4");
}

TEST(FindingId, DiffersForManyKeys) {
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i)
    ids.insert(finding("op" + std::to_string(i % 100), "server_error", std::to_string(i)).id());
  EXPECT_EQ(ids.size(), 10000u);
}

TEST(FindingLog, KeepsTheFirstOfEachKeyInFirstSeenOrderAndCountsTheRest) {
  FindingLog log;
  Finding first = finding("b", "server_error", "500");
  first.title = "first";
  first.first_seen_ms = 10;
  EXPECT_TRUE(log.add(first));
  EXPECT_TRUE(log.add(finding("a", "server_error", "500")));
  Finding again = first;
  again.title = "second";
  again.first_seen_ms = 99;
  EXPECT_FALSE(log.add(again));
  EXPECT_FALSE(log.add(again));
  EXPECT_TRUE(log.add(finding("b", "timeout", "")));

  const auto all = log.all();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(log.size(), 3u);
  EXPECT_EQ(all[0].operation, "b");
  EXPECT_EQ(all[0].title, "first");
  EXPECT_EQ(all[0].first_seen_ms, 10);
  EXPECT_EQ(all[0].count, 3u);
  EXPECT_EQ(all[1].operation, "a");
  EXPECT_EQ(all[1].count, 1u);
  EXPECT_EQ(all[2].oracle, "timeout");
}

TEST(FindingLog, AFindingThatStandsForSeveralOccurrencesAddsThemAll) {
  FindingLog log;
  Finding f = finding("a", "server_error", "500");
  f.count = 5;
  log.add(f);
  log.add(f);
  EXPECT_EQ(log.all()[0].count, 10u);
}

TEST(FindingLog, BumpCountsARepeatOfAKnownKeyOnly) {
  FindingLog log;
  const Finding f = finding("a", "server_error", "500");
  EXPECT_FALSE(log.bump(f.key()));  // unknown: nothing counted, the caller adds the full finding
  EXPECT_EQ(log.size(), 0u);
  EXPECT_TRUE(log.add(f));
  EXPECT_TRUE(log.bump(f.key()));
  EXPECT_TRUE(log.bump(f.key()));
  EXPECT_FALSE(log.bump(finding("a", "server_error", "502").key()));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log.all()[0].count, 3u);
}

TEST(FindingLog, UpdateReplacesTheFindingButKeepsCountAndFirstSeen) {
  FindingLog log;
  Finding f = finding("a", "server_error", "500");
  f.first_seen_ms = 42;
  f.raw_request = "GET /long?a=1&b=2 HTTP/1.1\r\n\r\n";
  log.add(f);
  Finding minimized = log.all()[0];
  log.add(f);  // counted while the caller minimizes its copy
  log.add(f);
  minimized.raw_request = "GET /long HTTP/1.1\r\n\r\n";
  minimized.without_faults = false;
  minimized.first_seen_ms = 0;
  log.update(minimized);

  const auto all = log.all();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].raw_request, "GET /long HTTP/1.1\r\n\r\n");
  EXPECT_EQ(all[0].without_faults, std::optional<bool>(false));
  EXPECT_EQ(all[0].count, 3u);
  EXPECT_EQ(all[0].first_seen_ms, 42);

  log.update(finding("b", "timeout", ""));
  EXPECT_EQ(log.size(), 2u);
}

TEST(FindingLog, IsSafeFromManyThreads) {
  FindingLog log;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log] {
      for (int i = 0; i < 2000; ++i) log.add(finding("op" + std::to_string(i % 10), "server_error", "500"));
    });
  }
  for (auto& thread : threads) thread.join();
  const auto all = log.all();
  ASSERT_EQ(all.size(), 10u);
  std::uint64_t total = 0;
  for (const auto& f : all) total += f.count;
  EXPECT_EQ(total, 8000u);
}

TEST(Trigger, Status5xx) {
  const Trigger t{"status_5xx", ""};
  EXPECT_TRUE(reply_triggers(t, response(500)));
  EXPECT_TRUE(reply_triggers(t, response(599)));
  EXPECT_FALSE(reply_triggers(t, response(499)));
  EXPECT_FALSE(reply_triggers(t, response(200)));
  EXPECT_FALSE(reply_triggers(t, failed(Outcome::reset)));
}

TEST(Trigger, StatusClassAndStatusEquals) {
  EXPECT_TRUE(reply_triggers({"status_class", "2xx"}, response(204)));
  EXPECT_TRUE(reply_triggers({"status_class", "4XX"}, response(404)));
  EXPECT_FALSE(reply_triggers({"status_class", "2xx"}, response(302)));
  EXPECT_FALSE(reply_triggers({"status_class", "2x"}, response(200)));
  EXPECT_TRUE(reply_triggers({"status_equals", "200"}, response(200)));
  EXPECT_FALSE(reply_triggers({"status_equals", "200"}, response(201)));
  EXPECT_FALSE(reply_triggers({"status_equals", "2OO"}, response(200)));
  EXPECT_FALSE(reply_triggers({"status_equals", "200"}, failed(Outcome::timeout)));
}

TEST(Trigger, OutcomeNamesWhatBecameOfTheRequest) {
  EXPECT_TRUE(reply_triggers({"outcome", "timeout"}, failed(Outcome::timeout)));
  EXPECT_TRUE(reply_triggers({"outcome", "reset"}, failed(Outcome::reset)));
  EXPECT_TRUE(reply_triggers({"outcome", "closed"}, failed(Outcome::closed)));
  EXPECT_TRUE(reply_triggers({"outcome", "refused"}, failed(Outcome::refused)));
  EXPECT_TRUE(reply_triggers({"outcome", "bad_response"}, failed(Outcome::bad_response)));
  EXPECT_TRUE(reply_triggers({"outcome", "connect_failed"}, failed(Outcome::connect_failed)));
  EXPECT_TRUE(reply_triggers({"outcome", "response"}, response(200)));
  EXPECT_FALSE(reply_triggers({"outcome", "timeout"}, failed(Outcome::reset)));
  EXPECT_FALSE(reply_triggers({"outcome", "timeout"}, response(200)));
  EXPECT_FALSE(reply_triggers({"outcome", "exploded"}, failed(Outcome::reset)));
}

TEST(Trigger, BodyContains) {
  EXPECT_TRUE(reply_triggers({"body_contains", "49"}, response(200, "{\"name\":\"49\"}")));
  EXPECT_FALSE(reply_triggers({"body_contains", "49"}, response(200, "{\"name\":\"{{7*7}}\"}")));
  EXPECT_FALSE(reply_triggers({"body_contains", ""}, response(200, "anything")));
  EXPECT_FALSE(reply_triggers({"body_contains", "x"}, failed(Outcome::closed)));
}

TEST(Trigger, LatencyOverCountsAHangToo) {
  Reply slow = response(200);
  slow.latency_ns = 3'100'000'000;
  EXPECT_TRUE(reply_triggers({"latency_over", "3000"}, slow));
  slow.latency_ns = 2'900'000'000;
  EXPECT_FALSE(reply_triggers({"latency_over", "3000"}, slow));
  EXPECT_TRUE(reply_triggers({"latency_over", "3000"}, failed(Outcome::timeout, 5000)));
  EXPECT_FALSE(reply_triggers({"latency_over", "3000"}, failed(Outcome::refused, 5000)));
  EXPECT_FALSE(reply_triggers({"latency_over", "3s"}, slow));
}

TEST(Trigger, HeaderMissingAndHeaderEquals) {
  const Reply reply = response(200, "", {{"access-control-allow-origin", " * "}, {"Server", "shop/1.2"}});
  EXPECT_TRUE(reply_triggers({"header_missing", "X-Content-Type-Options"}, reply));
  EXPECT_FALSE(reply_triggers({"header_missing", "server"}, reply));
  EXPECT_TRUE(reply_triggers({"header_equals", "Access-Control-Allow-Origin: *"}, reply));
  EXPECT_TRUE(reply_triggers({"header_equals", "Server:shop/1.2"}, reply));
  EXPECT_FALSE(reply_triggers({"header_equals", "Server: shop/1.3"}, reply));
  EXPECT_FALSE(reply_triggers({"header_equals", "no colon"}, reply));
  EXPECT_FALSE(reply_triggers({"header_missing", "Server"}, failed(Outcome::reset)));
}

TEST(Trigger, SchemaMismatchNeedsTheDocument) {
  EXPECT_FALSE(reply_triggers({"schema_mismatch", ""}, response(418, "teapot")));
}

const char* kShopDocument = R"({
  "openapi": "3.0.3",
  "info": {"title": "shop", "version": "1"},
  "paths": {
    "/orders/{id}": {
      "get": {
        "operationId": "getOrder",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
        "responses": {
          "200": {"description": "the order", "content": {"application/json": {"schema": {
            "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}}}},
          "404": {"description": "no such order"}
        }
      }
    }
  }
})";

TEST(Trigger, SchemaMismatchAsksTheResponseChecker) {
  auto document = openapi::load_text(kShopDocument, "shop.json");
  ASSERT_TRUE(document.ok()) << document.error();
  openapi::ResponseChecker checker(*document);
  const openapi::Operation* operation = document->find("getOrder");
  ASSERT_NE(operation, nullptr);
  const Trigger t{"schema_mismatch", ""};
  const net::Header json{"Content-Type", "application/json"};
  EXPECT_FALSE(reply_triggers(t, response(200, R"({"id": 7})", {json}), &checker, operation));
  EXPECT_TRUE(reply_triggers(t, response(200, R"({"id": "seven"})", {json}), &checker, operation));
  EXPECT_TRUE(reply_triggers(t, response(418, "teapot"), &checker, operation));
  EXPECT_FALSE(reply_triggers(t, failed(Outcome::reset), &checker, operation));
  Reply cut = response(200, R"({"id": 7, "na)", {json});
  cut.body_truncated = true;
  EXPECT_FALSE(reply_triggers(t, cut, &checker, operation)) << "a body cut short proves nothing";
}

TEST(Trigger, CheckSaysWhatIsWrongWithATrigger) {
  EXPECT_TRUE(check_trigger({"status_5xx", ""}).ok());
  EXPECT_TRUE(check_trigger({"outcome", "connect_failed"}).ok());
  EXPECT_EQ(check_trigger({"status_class", "2x"}).error(),
            "trigger status_class '2x': expected a status class: 2xx ... 5xx");
  EXPECT_TRUE(check_trigger({"outcome", "response"}).ok());
  EXPECT_EQ(check_trigger({"outcome", "exploded"}).error(),
            "trigger outcome 'exploded': expected an outcome: response, timeout, reset, closed, refused, "
            "connect_failed or bad_response");
  EXPECT_FALSE(check_trigger({"latency_over", "0"}).ok());
  EXPECT_FALSE(check_trigger({"header_equals", ": x"}).ok());
  const auto unknown = check_trigger({"status_is_bad", ""});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().find("'status_is_bad': expected status_5xx, status_class"), std::string::npos)
      << unknown.error();
}

}  // namespace
}  // namespace chaosplus::fuzz
