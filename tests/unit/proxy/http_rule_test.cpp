#include "proxy/http_rule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaosplus::proxy {
namespace {

ToxicSpec spec(std::string type, Attributes attributes, double toxicity = 1.0) {
  ToxicDraft d;
  d.type = std::move(type);
  d.attributes = std::move(attributes);
  d.toxicity = toxicity;
  auto made = make_toxic(d);
  EXPECT_TRUE(made.ok()) << made.error();
  return made.value();
}

MessageHead request(std::string method, std::string target = "/", int minor = 1) {
  MessageHead head;
  head.method = std::move(method);
  head.target = std::move(target);
  head.minor_version = minor;
  return head;
}

TEST(GlobMatch, StarMatchesAnyRunOfCharactersSlashesIncluded) {
  EXPECT_TRUE(glob_match("/orders/*", "/orders/1"));
  EXPECT_TRUE(glob_match("/orders/*", "/orders/1/items"));
  EXPECT_TRUE(glob_match("/orders/*", "/orders/"));
  EXPECT_FALSE(glob_match("/orders/*", "/orders"));
  EXPECT_TRUE(glob_match("/orders*", "/orders"));
  EXPECT_TRUE(glob_match("/orders*", "/orders-archive"));
  EXPECT_TRUE(glob_match("/api/*/orders", "/api/v2/orders"));
  EXPECT_FALSE(glob_match("/api/*/orders", "/api/v2/orders/1"));
  EXPECT_TRUE(glob_match("*.json", "/a/b.json"));
  EXPECT_TRUE(glob_match("/a*b*c", "/aXbYbZc"));
  EXPECT_FALSE(glob_match("/a*b*c", "/aXbYbZ"));
}

TEST(RequestMatch, AnEmptyOrStarPatternMatchesEverything) {
  EXPECT_TRUE(RequestMatch("", "").matches("PATCH", "/anything"));
  EXPECT_TRUE(RequestMatch("*", "*").matches("GET", "*"));
}

TEST(RequestMatch, APathWithoutStarMatchesExactly) {
  RequestMatch match("", "/orders");
  EXPECT_TRUE(match.matches("GET", "/orders"));
  EXPECT_FALSE(match.matches("GET", "/orders/1"));
  EXPECT_FALSE(match.matches("GET", "/Orders"));
}

TEST(RequestMatch, MethodsComeFromACommaSeparatedListAndMatchExactly) {
  RequestMatch match("GET, HEAD", "");
  EXPECT_TRUE(match.matches("GET", "/"));
  EXPECT_TRUE(match.matches("HEAD", "/"));
  EXPECT_FALSE(match.matches("POST", "/"));
  EXPECT_FALSE(match.matches("get", "/"));
}

TEST(RequestMatch, BothMethodAndPathMustMatch) {
  RequestMatch match("POST", "/orders");
  EXPECT_TRUE(match.matches("POST", "/orders"));
  EXPECT_FALSE(match.matches("GET", "/orders"));
  EXPECT_FALSE(match.matches("POST", "/carts"));
}

int hits_in(HttpRule& rule, int requests, std::string_view method = "POST", std::string_view path = "/orders") {
  int hits = 0;
  for (int i = 0; i < requests; ++i) hits += rule.hits(method, path) ? 1 : 0;
  return hits;
}

TEST(HttpRule, ToxicityOneHitsEveryMatchingRequest) {
  HttpRule rule(1, spec("http_status", {{"method", "POST"}, {"path", "/orders"}}, 1.0), 7);
  EXPECT_EQ(hits_in(rule, 1000), 1000);
}

TEST(HttpRule, ToxicityZeroHitsNone) {
  HttpRule rule(1, spec("http_status", {{"method", "POST"}, {"path", "/orders"}}, 0.0), 7);
  EXPECT_EQ(hits_in(rule, 1000), 0);
}

TEST(HttpRule, ToxicityIsTheShareOfMatchingRequestsHit) {
  HttpRule rule(1, spec("http_status", {{"path", "/orders"}}, 0.1), 12345);
  int hits = hits_in(rule, 10'000);
  EXPECT_GT(hits, 800);
  EXPECT_LT(hits, 1200);
}

TEST(HttpRule, ANonMatchingRequestIsNeverHitAndDrawsNothing) {
  auto settings = spec("http_status", {{"method", "POST"}}, 0.5);
  HttpRule plain(1, settings, 99);
  HttpRule interleaved(1, settings, 99);
  for (int i = 0; i < 200; ++i) {
    EXPECT_FALSE(interleaved.hits("GET", "/orders"));
    EXPECT_EQ(plain.hits("POST", "/orders"), interleaved.hits("POST", "/orders")) << i;
  }
}

TEST(HttpRule, TheSameSeedMakesTheSameDecisions) {
  auto settings = spec("http_status", {}, 0.3);
  HttpRule a(1, settings, 2024);
  HttpRule b(1, settings, 2024);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(a.hits("GET", "/"), b.hits("GET", "/"));
}

TEST(HttpRule, ReconfiguringChangesWhatMatches) {
  HttpRule rule(1, spec("http_status", {{"path", "/a"}}), 1);
  EXPECT_FALSE(rule.hits("GET", "/b"));
  rule.reconfigure(spec("http_status", {{"path", "/b"}}));
  EXPECT_TRUE(rule.hits("GET", "/b"));
}

TEST(HttpRule, DelayDrawsStayWithinJitterAndNeverGoNegative) {
  HttpRule rule(1, spec("http_delay", {{"delay", 100}, {"jitter", 20}}), 3);
  for (int i = 0; i < 1000; ++i) {
    auto delay = rule.draw_delay();
    EXPECT_GE(delay, std::chrono::milliseconds(80));
    EXPECT_LE(delay, std::chrono::milliseconds(120));
  }
  HttpRule wide(2, spec("http_delay", {{"delay", 5}, {"jitter", 50}}), 3);
  for (int i = 0; i < 1000; ++i) EXPECT_GE(wide.draw_delay().count(), 0);
}

TEST(HttpRule, AnAnswerCarriesTheStatusBodyAndAMarker) {
  HttpRule rule(1, spec("http_status", {{"status", 503}, {"body", "busy"}}), 1);
  std::string answer = rule.answer(request("POST", "/orders"), false);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << answer;
  EXPECT_NE(answer.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_NE(answer.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_NE(answer.find("X-Chaosplus-Toxic: http_status_upstream\r\n"), std::string::npos);
  EXPECT_EQ(answer.find("Connection:"), std::string::npos);
  EXPECT_TRUE(answer.ends_with("\r\n\r\nbusy"));
}

TEST(HttpRule, AnAnswerToHeadHasTheLengthButNoBody) {
  HttpRule rule(1, spec("http_status", {{"status", 500}, {"body", "oops"}}), 1);
  std::string answer = rule.answer(request("HEAD"), false);
  EXPECT_NE(answer.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_TRUE(answer.ends_with("\r\n\r\n"));
}

TEST(HttpRule, AnAnswerSaysCloseWhenItClosesAndKeepAliveToHttp10) {
  HttpRule rule(1, spec("http_status", {}), 1);
  EXPECT_NE(rule.answer(request("GET"), true).find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(rule.answer(request("GET", "/", 0), false).find("Connection: keep-alive\r\n"), std::string::npos);
}

TEST(HttpRule, NoContentHasNoBodyAndNoLength) {
  HttpRule rule(1, spec("http_status", {{"status", 204}, {"body", "ignored"}}), 1);
  std::string answer = rule.answer(request("DELETE"), false);
  EXPECT_EQ(answer.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(answer.ends_with("\r\n\r\n"));
}

TEST(AnswerCloses, WhenTheClientAsksOrMayStillWaitForContinue) {
  MessageHead head = request("POST");
  EXPECT_FALSE(answer_closes(head));
  head.close = true;
  EXPECT_TRUE(answer_closes(head));
  head.close = false;
  head.expect_continue = true;
  head.body = BodyKind::length;
  EXPECT_TRUE(answer_closes(head));
  head.body = BodyKind::none;
  EXPECT_FALSE(answer_closes(head));
}

}  // namespace
}  // namespace chaosplus::proxy
