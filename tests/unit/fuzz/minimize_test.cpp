#include "fuzz/minimize.h"

#include <gtest/gtest.h>

#include "fuzz/rng.h"

namespace chaosplus::fuzz {
namespace {

const net::Url& base() {
  static const net::Url url{"http", "127.0.0.1", 80, "/"};
  return url;
}

std::size_t size(const RequestCase& r) { return render(r, base()).size(); }

RequestCase found() {
  RequestCase r;
  r.operation_id = "createOrder";
  r.method = "POST";
  r.path = "/shops/{shopId}/orders";
  r.path_params = {{"shopId", 734}};
  r.query = {{"limit", 50}, {"tags", "a,b,c"}, {"q", "hello world"}};
  r.headers = {{"X-Request-Id", "0f9c7a4e-1111-4222-8333-444455556666"}, {"X-Trace", "abcdef"}};
  r.cookies = {{"session", "s3cr3t-session"}};
  r.body = Json{{"sku", "SKU1234' OR '1'='1"},
                {"qty", 42},
                {"note", "a fairly long note that does not matter"},
                {"lines", Json::array({Json{{"n", 1}}, Json{{"n", 2}}, Json{{"n", 3}}})}};
  r.body_content_type = "application/json";
  r.expect_valid = false;
  r.mutation = "body.sku: sql tautology";
  return r;
}

// The "server" fails when the sku holds a quote: the minimal trigger is a body with only that.
bool quote_in_sku(const RequestCase& r) {
  return r.body && r.body->is_object() && r.body->contains("sku") && (*r.body)["sku"].is_string() &&
         (*r.body)["sku"].get<std::string>().find('\'') != std::string::npos;
}

TEST(Minimize, ShrinksToTheKnownMinimalTrigger) {
  const RequestCase original = found();
  const MinimizeResult result = minimize_case(original, quote_in_sku, 500);
  const RequestCase& m = result.minimized;
  EXPECT_TRUE(quote_in_sku(m));
  EXPECT_EQ(*m.body, (Json{{"sku", "'"}}));
  EXPECT_TRUE(m.query.empty());
  EXPECT_TRUE(m.headers.empty());
  EXPECT_TRUE(m.cookies.empty());
  EXPECT_EQ(m.path_params.at("shopId"), 0) << "path parameters stay, their values shrink";
  EXPECT_EQ(m.mutation, original.mutation);
  EXPECT_LT(size(m), size(original) / 2);
  EXPECT_LE(result.attempts, 500);
  EXPECT_GT(result.attempts, 0);
}

TEST(Minimize, KeepsWhatTheTriggerNeedsAcrossParts) {
  // Needs the header X-Trace (any value of 3+ characters) and a limit above 10.
  auto needs = [](const RequestCase& r) {
    bool header = false, limit = false;
    for (const auto& [name, value] : r.headers) header = header || (name == "X-Trace" && value.size() >= 3);
    for (const auto& [name, value] : r.query)
      limit = limit || (name == "limit" && value.is_number() && value.get<int>() > 10);
    return header && limit;
  };
  const RequestCase m = minimize(found(), needs, 500);
  ASSERT_TRUE(needs(m));
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].second.size(), 3u);
  ASSERT_EQ(m.query.size(), 1u);
  EXPECT_FALSE(m.body);
}

TEST(Minimize, NothingSmallerTriggersGivesTheOriginalAndRespectsTheBudget) {
  const RequestCase original = found();
  int calls = 0;
  const MinimizeResult result = minimize_case(
      original,
      [&](const RequestCase& r) {
        ++calls;
        return render(r, base()) == render(found(), base());
      },
      25);
  EXPECT_EQ(render(result.minimized, base()), render(original, base()));
  EXPECT_EQ(calls, result.attempts);
  EXPECT_LE(result.attempts, 25);
}

TEST(Minimize, NeverGrowsEvenWithAFlakyTrigger) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Rng coin(seed);
    const RequestCase original = found();
    const RequestCase m = minimize(
        original, [&](const RequestCase&) { return coin.chance(0.5); }, 200);
    EXPECT_LE(size(m), size(original)) << seed;
  }
}

TEST(Minimize, RawRequestsShrinkByChunksAndKeepTheRequestLine) {
  RequestCase r;
  r.raw =
      "POST /orders HTTP/1.1\r\nHost: 127.0.0.1:80\r\nX-Padding: aaaaaaaaaaaaaaaaaaaa\r\nContent-Length: 5\r\n"
      "User-Agent: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
  r.mutation = "protocol: CL.TE conflict";
  auto smuggles = [](const RequestCase& c) {
    return c.raw && c.raw->find("Content-Length: 5") != std::string::npos &&
           c.raw->find("Transfer-Encoding: chunked") != std::string::npos;
  };
  const MinimizeResult result = minimize_case(r, smuggles, 400);
  const std::string& raw = *result.minimized.raw;
  EXPECT_TRUE(smuggles(result.minimized));
  EXPECT_EQ(raw.rfind("POST /orders HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(raw.find("X-Padding"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("hello"), std::string::npos) << raw;
  EXPECT_LT(raw.size(), r.raw->size() / 2 + 10);
}

TEST(Minimize, RawBodiesShrinkByteChunks) {
  RequestCase r;
  r.method = "POST";
  r.path = "/x";
  r.raw_body = std::string(300, 'a') + "\xff\xfe" + std::string(300, 'b');
  r.body_content_type = "application/json";
  const RequestCase m = minimize(
      r, [](const RequestCase& c) { return c.raw_body && c.raw_body->find("\xff\xfe") != std::string::npos; }, 300);
  EXPECT_EQ(*m.raw_body, "\xff\xfe");
}

}  // namespace
}  // namespace chaosplus::fuzz
