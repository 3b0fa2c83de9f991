#include <gtest/gtest.h>

#include <string>

#include "fuzz/minimize.h"

namespace chaosplus::fuzz {
namespace {

const net::Url& base() {
  static const net::Url url = *net::Url::parse("http://127.0.0.1:8080/");
  return url;
}

std::size_t size_of(const RequestCase& c) { return render(c, base()).size(); }

RequestCase big_case() {
  RequestCase c;
  c.operation_id = "createOrder";
  c.method = "POST";
  c.path = "/orders/{id}";
  c.path_params["id"] = "12345678";
  c.query = {{"limit", 500}, {"verbose", true}, {"tag", "aaaaaaaaaaaaaaaa"}};
  c.headers = {{"X-Trace", "abcdefgh"}};
  c.cookies["session"] = "zzzz";
  c.body = Json{{"sku", "A-1"}, {"quantity", -7}, {"note", std::string(300, 'n')}, {"items", Json::array({1, 2, 3})}};
  c.body_content_type = "application/json";
  return c;
}

TEST(Minimize, ShrinksToTheFieldThatTriggersAndItsSmallestValue) {
  // The "bug": a negative quantity in the body.
  auto triggers = [](const RequestCase& c) {
    return c.body && c.body->is_object() && c.body->contains("quantity") && (*c.body)["quantity"].is_number() &&
           (*c.body)["quantity"].get<double>() < 0;
  };
  const RequestCase original = big_case();
  ASSERT_TRUE(triggers(original));
  MinimizeResult r = minimize_case(original, triggers, 500);
  EXPECT_TRUE(triggers(r.minimized));
  // -7 stays: -1 renders no smaller, and only strictly smaller candidates are tried.
  EXPECT_EQ(*r.minimized.body, (Json{{"quantity", -7}}));
  EXPECT_TRUE(r.minimized.query.empty());
  EXPECT_TRUE(r.minimized.headers.empty());
  EXPECT_TRUE(r.minimized.cookies.empty());
  EXPECT_TRUE(r.minimized.path_params.contains("id"));
  EXPECT_LT(size_of(r.minimized), size_of(original));
  EXPECT_LE(r.attempts, 500);
}

TEST(Minimize, NothingSmallerTriggersKeepsTheOriginal) {
  const RequestCase original = big_case();
  const std::string bytes = render(original, base());
  MinimizeResult r = minimize_case(
      original, [&](const RequestCase& c) { return render(c, base()) == bytes; }, 200);
  EXPECT_EQ(render(r.minimized, base()), bytes);
}

TEST(Minimize, NeverExceedsItsAttemptsAndNeverGrows) {
  int calls = 0;
  MinimizeResult r = minimize_case(
      big_case(),
      [&](const RequestCase&) {
        ++calls;
        return calls % 3 == 0;  // an erratic trigger
      },
      25);
  EXPECT_EQ(calls, r.attempts);
  EXPECT_LE(r.attempts, 25);
  EXPECT_LE(size_of(r.minimized), size_of(big_case()));
}

TEST(Minimize, RawRequestsKeepTheirRequestLineAndLoseOtherLines) {
  RequestCase c;
  c.method = "GET";
  c.path = "/";
  c.raw = "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\nX-B: 2\r\n\r\nzz";
  auto triggers = [](const RequestCase& r) { return r.raw->find("Transfer-Encoding: chunked") != std::string::npos; };
  RequestCase m = minimize(c, triggers, 200);
  EXPECT_EQ(*m.raw, "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(Minimize, RawBodiesShrinkByChunks) {
  RequestCase c;
  c.method = "POST";
  c.path = "/x";
  c.raw_body = std::string(1000, 'a') + "BOOM" + std::string(1000, 'b');
  auto triggers = [](const RequestCase& r) { return r.raw_body->find("BOOM") != std::string::npos; };
  RequestCase m = minimize(c, triggers, 400);
  EXPECT_NE(m.raw_body->find("BOOM"), std::string::npos);
  EXPECT_LT(m.raw_body->size(), 100u);
}

}  // namespace
}  // namespace chaosplus::fuzz
