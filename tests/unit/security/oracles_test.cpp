#include "security/oracles.h"

#include <gtest/gtest.h>

namespace chaosplus::security {
namespace {

fuzz::Reply reply(int status, std::string body = "", std::string content_type = "application/json") {
  fuzz::Reply r;
  r.response.status = status;
  r.response.body = std::move(body);
  if (!content_type.empty()) r.response.headers.push_back({"Content-Type", std::move(content_type)});
  return r;
}

fuzz::Reply failed(fuzz::Outcome outcome) {
  fuzz::Reply r;
  r.outcome = outcome;
  return r;
}

TEST(Access, ClassifiesRefusalsAllowsAndFailingClosed) {
  EXPECT_EQ(classify_access(reply(401)), Access::refused);
  EXPECT_EQ(classify_access(reply(403)), Access::refused);
  EXPECT_EQ(classify_access(reply(404)), Access::refused);
  EXPECT_EQ(classify_access(reply(200)), Access::allowed);
  EXPECT_EQ(classify_access(reply(204)), Access::allowed);
  EXPECT_EQ(classify_access(reply(503)), Access::fail_closed);
  EXPECT_EQ(classify_access(reply(504)), Access::fail_closed);
  EXPECT_EQ(classify_access(failed(fuzz::Outcome::timeout)), Access::fail_closed);
  EXPECT_EQ(classify_access(failed(fuzz::Outcome::refused)), Access::fail_closed);
  EXPECT_EQ(classify_access(reply(500)), Access::other);
  EXPECT_EQ(classify_access(reply(400)), Access::other);
  EXPECT_EQ(classify_access(failed(fuzz::Outcome::bad_response)), Access::other);
}

TEST(Recheck, TwoHundredWhereTheBaselineRefusedIsFailOpenOnlyUnderAFault) {
  const auto v = judge_recheck(reply(401), reply(200), true, {});
  EXPECT_EQ(v.change, AuthChange::fail_open);
  EXPECT_EQ(v.why, "200 where the baseline had 401");
  EXPECT_EQ(judge_recheck(reply(401), reply(200), false, {}).change, AuthChange::inconsistent);
}

TEST(Recheck, FailingClosedAndStillRefusingArePasses) {
  EXPECT_EQ(judge_recheck(reply(401), reply(503), true, {}).change, AuthChange::none);
  EXPECT_EQ(judge_recheck(reply(403), reply(504), true, {}).change, AuthChange::none);
  EXPECT_EQ(judge_recheck(reply(401), failed(fuzz::Outcome::timeout), true, {}).change, AuthChange::none);
  EXPECT_EQ(judge_recheck(reply(401), reply(401), true, {}).change, AuthChange::none);
  EXPECT_EQ(judge_recheck(reply(404), reply(500), true, {}).change, AuthChange::none);
}

TEST(Recheck, OnlyARefusedBaselineIsCompared) {
  // The baseline already allowed it (auth_missing, reported at the baseline) or answered 400.
  EXPECT_EQ(judge_recheck(reply(200), reply(200), true, {}).change, AuthChange::none);
  EXPECT_EQ(judge_recheck(reply(400), reply(200), true, {}).change, AuthChange::none);
}

TEST(Recheck, TheResourcesDataInARefusalIsALeak) {
  const std::vector<std::string> markers{"alice@example.com"};
  auto v =
      judge_recheck(reply(401, R"({"error":"no"})"), reply(500, R"({"owner":"alice@example.com"})"), true, markers);
  EXPECT_EQ(v.change, AuthChange::fail_open);
  EXPECT_EQ(v.marker, "alice@example.com");
  // Data the baseline's refusal held too is not a leak.
  EXPECT_EQ(judge_recheck(reply(401, "alice@example.com"), reply(403, "alice@example.com"), true, markers).change,
            AuthChange::none);
}

TEST(Markers, AreTheLongerStringsOfAJsonBody) {
  EXPECT_EQ(resource_markers(R"({"id":"ord-123456","n":5,"sku":"a1","owner":{"email":"alice@example.com"}})"),
            (std::vector<std::string>{"ord-123456", "alice@example.com"}));
  EXPECT_TRUE(resource_markers("not json").empty());
}

TEST(Timing, ConfirmedWhenEverySleepIsSlowAndTheControlFast) {
  const std::int64_t ms = 1'000'000;
  const std::vector<std::int64_t> baseline{3 * ms, 4 * ms, 5 * ms};
  const std::vector<std::int64_t> slow{2004 * ms, 2010 * ms};
  const std::vector<std::int64_t> fast{4 * ms};
  auto v = judge_timing(baseline, slow, fast, 2000 * ms);
  EXPECT_TRUE(v.confirmed) << v.evidence;
  EXPECT_NE(v.evidence.find("baseline median 4ms"), std::string::npos) << v.evidence;
}

TEST(Timing, OneSlowSampleOrASlowControlOrASlowBaselineIsNotEvidence) {
  const std::int64_t ms = 1'000'000;
  const std::vector<std::int64_t> baseline{3 * ms, 4 * ms, 5 * ms};
  // Only one of the two attack samples is slow: a hiccup.
  EXPECT_FALSE(
      judge_timing(baseline, std::vector<std::int64_t>{2004 * ms, 6 * ms}, std::vector<std::int64_t>{4 * ms}, 2000 * ms)
          .confirmed);
  // A single attack sample is not enough.
  EXPECT_FALSE(
      judge_timing(baseline, std::vector<std::int64_t>{2004 * ms}, std::vector<std::int64_t>{4 * ms}, 2000 * ms)
          .confirmed);
  // The control is slow as well: the target is slow, not sleeping on our payload.
  EXPECT_FALSE(judge_timing(baseline, std::vector<std::int64_t>{2004 * ms, 2100 * ms},
                            std::vector<std::int64_t>{1900 * ms}, 2000 * ms)
                   .confirmed);
  // Under an injected latency of 1.5s the baseline (same fault state) is slow too: 2.1s is no sleep.
  const std::vector<std::int64_t> degraded{1500 * ms, 1520 * ms, 1490 * ms};
  EXPECT_FALSE(judge_timing(degraded, std::vector<std::int64_t>{2100 * ms, 2150 * ms},
                            std::vector<std::int64_t>{1510 * ms}, 2000 * ms)
                   .confirmed);
}

TEST(Boolean, DifferentialNeedsEveryRoundToAgree) {
  const BooleanRound vulnerable{reply(200, R"([{"id":1}])"), reply(200, R"([{"id":1}])"), reply(200, "[]")};
  const std::vector<BooleanRound> two{vulnerable, vulnerable};
  EXPECT_TRUE(judge_boolean(two, "a1", "a1' AND '1'='1", "a1' AND '1'='2"));
  // One round only: not enough.
  EXPECT_FALSE(judge_boolean(std::span(two).first(1), "a1", "x", "y"));
  // Everything alike: the input is not read as SQL.
  const BooleanRound safe{reply(200, "[]"), reply(200, "[]"), reply(200, "[]")};
  EXPECT_FALSE(judge_boolean(std::vector<BooleanRound>{safe, safe}, "a1", "x", "y"));
  // A round where the true case differs from the original: noise, not evidence.
  const BooleanRound noisy{reply(200, R"([{"id":1}])"), reply(200, "[]"), reply(200, "[]")};
  EXPECT_FALSE(judge_boolean(std::vector<BooleanRound>{vulnerable, noisy}, "a1", "x", "y"));
  // Server errors say nothing about the condition.
  const BooleanRound errors{reply(200, "[]"), reply(200, "[]"), reply(500, "boom")};
  EXPECT_FALSE(judge_boolean(std::vector<BooleanRound>{errors, errors}, "a1", "x", "y"));
}

TEST(Boolean, AnEchoedValueIsNoDifference) {
  // A search that echoes the query: the bodies differ only by the value sent.
  const auto a = reply(200, R"({"q":"a1","items":[]})");
  const auto b = reply(200, R"({"q":"a1' AND '1'='1","items":[]})");
  EXPECT_TRUE(similar(a, "a1", b, "a1' AND '1'='1"));
  EXPECT_FALSE(similar(a, "a1", reply(404, R"({"q":"a1","items":[]})"), "a1"));
}

std::string sql_signature(std::string_view body) {
  auto e = find_sql_error(body);
  return e ? e->signature : "";
}

TEST(SqlErrors, SignaturesOfEachDatabase) {
  EXPECT_EQ(sql_signature("ERROR:  syntax error at or near \"'\" LINE 1"), "PostgreSQL: syntax error at or near");
  EXPECT_EQ(sql_signature("You have an error in your SQL syntax; check the manual"),
            "MySQL: you have an error in your sql syntax");
  EXPECT_EQ(sql_signature(R"({"error":"near \"x\": syntax error"})"), "SQLite: near \"...\": syntax error");
  EXPECT_EQ(sql_signature("ORA-01756: quoted string not properly terminated"),
            "Oracle: quoted string not properly terminated");
  EXPECT_EQ(sql_signature("ORA-00921: unexpected end"), "Oracle: ORA-00921");
  EXPECT_EQ(sql_signature("Unclosed quotation mark after the character string ''."),
            "MSSQL: unclosed quotation mark after the character string");
  EXPECT_EQ(sql_signature(R"({"error":"sku must be letters and digits"})"), "");
  EXPECT_EQ(sql_signature(""), "");
  // The text as the body has it, for a replay to look for.
  EXPECT_EQ(find_sql_error("You have an error in your SQL syntax")->text, "You have an error in your SQL syntax");
}

TEST(Traversal, PasswdLine) {
  EXPECT_TRUE(shows_passwd("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1"));
  EXPECT_FALSE(shows_passwd("no such file: ../../etc/passwd"));
}

TEST(Template, TheProductAppearsAndThePayloadDoesNot) {
  EXPECT_TRUE(shows_template_result("Hello 1337", "{{7*191}}", "Hello cpx1"));
  // Echoed unevaluated.
  EXPECT_FALSE(shows_template_result("Hello {{7*191}} 1337", "{{7*191}}", "Hello"));
  // 1337 was on the page anyway.
  EXPECT_FALSE(shows_template_result("Hello 1337", "{{7*191}}", "order 1337"));
}

TEST(Markup, ReflectedOnlyInHtml) {
  net::Response html;
  html.headers.push_back({"Content-Type", "text/html; charset=utf-8"});
  html.body = "<p>you searched for cpx<cpx91a7></p>";
  EXPECT_TRUE(reflects_markup(html));
  html.body = "<p>you searched for cpx&lt;cpx91a7&gt;</p>";
  EXPECT_FALSE(reflects_markup(html));
  net::Response json;
  json.headers.push_back({"Content-Type", "application/json"});
  json.body = R"({"q":"<cpx91a7>"})";
  EXPECT_FALSE(reflects_markup(json));
}

TEST(Headers, HtmlJsonHttpsAndAuthenticatedRules) {
  net::Response html;
  html.headers.push_back({"Content-Type", "text/html"});
  EXPECT_EQ(missing_security_headers(html, false, false),
            (std::vector<std::string>{"X-Content-Type-Options", "Content-Security-Policy", "X-Frame-Options"}));
  html.headers.push_back({"X-Content-Type-Options", "nosniff"});
  html.headers.push_back({"Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'"});
  EXPECT_TRUE(missing_security_headers(html, false, false).empty());
  EXPECT_EQ(missing_security_headers(html, true, false), (std::vector<std::string>{"Strict-Transport-Security"}));

  net::Response json;
  json.status = 200;
  json.headers.push_back({"Content-Type", "application/json"});
  json.headers.push_back({"X-Content-Type-Options", "nosniff"});
  EXPECT_TRUE(missing_security_headers(json, false, false).empty());
  EXPECT_EQ(missing_security_headers(json, false, true), (std::vector<std::string>{"Cache-Control"}));
  json.headers.push_back({"Cache-Control", "no-store"});
  EXPECT_TRUE(missing_security_headers(json, false, true).empty());

  net::Response text;
  text.headers.push_back({"Content-Type", "text/plain"});
  EXPECT_TRUE(missing_security_headers(text, false, false).empty());
}

TEST(Cors, ReflectedOriginNullAndWildcardWithCredentials) {
  net::Response r;
  r.headers.push_back({"Access-Control-Allow-Origin", "https://evil.example"});
  auto p = judge_cors(r, "https://evil.example");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->severity, fuzz::Severity::medium);
  r.headers.push_back({"Access-Control-Allow-Credentials", "true"});
  p = judge_cors(r, "https://evil.example");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->severity, fuzz::Severity::high);
  EXPECT_EQ(p->signature, "reflects any origin with credentials");

  net::Response null_origin;
  null_origin.headers.push_back({"Access-Control-Allow-Origin", "null"});
  EXPECT_EQ(judge_cors(null_origin, "null")->signature, "null origin allowed");

  net::Response wildcard;
  wildcard.headers.push_back({"Access-Control-Allow-Origin", "*"});
  EXPECT_FALSE(judge_cors(wildcard, "https://evil.example"));
  wildcard.headers.push_back({"Access-Control-Allow-Credentials", "true"});
  EXPECT_EQ(judge_cors(wildcard, "https://evil.example")->signature, "wildcard origin with credentials");

  net::Response fixed;
  fixed.headers.push_back({"Access-Control-Allow-Origin", "https://shop.example"});
  fixed.headers.push_back({"Access-Control-Allow-Credentials", "true"});
  EXPECT_FALSE(judge_cors(fixed, "https://evil.example"));
  EXPECT_FALSE(judge_cors(net::Response{}, "https://evil.example"));
}

TEST(Banners, VersionsAndStackTraces) {
  net::Response r;
  r.headers.push_back({"Server", "nginx/1.25.3"});
  r.headers.push_back({"X-Powered-By", "Express"});
  r.body = "Traceback (most recent call last):\n  File \"app.py\", line 3";
  const auto found = banners(r);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].signature, "Server: nginx/1.25.3");
  EXPECT_EQ(found[0].severity, fuzz::Severity::low);
  EXPECT_EQ(found[1].severity, fuzz::Severity::info);
  EXPECT_TRUE(found[2].stack_trace);
  EXPECT_EQ(found[2].signature, "verbose error: Python traceback");

  net::Response quiet;
  quiet.headers.push_back({"Server", "shop"});
  EXPECT_TRUE(banners(quiet).empty());
}

}  // namespace
}  // namespace chaosplus::security
