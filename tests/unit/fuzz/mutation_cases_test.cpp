#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fuzz/mutate.h"

namespace chaosplus::fuzz {
namespace {

const net::Url& base() {
  static const net::Url url = *net::Url::parse("http://127.0.0.1:8080/");
  return url;
}

openapi::Operation order_operation() {
  openapi::Operation op;
  op.id = "createOrder";
  op.method = "POST";
  op.path = "/orders";
  openapi::Parameter limit;
  limit.name = "limit";
  limit.in = openapi::ParameterIn::query;
  limit.schema = Json{{"type", "integer"}, {"minimum", 1}, {"maximum", 10}};
  op.parameters.push_back(limit);
  openapi::RequestBody body;
  body.content.push_back(openapi::Media{
      "application/json",
      Json{{"type", "object"},
           {"required", {"sku"}},
           {"properties", {{"sku", {{"type", "string"}}}, {"quantity", {{"type", "integer"}, {"minimum", 1}}}}}},
      {}});
  op.body = body;
  return op;
}

RequestCase order_case() {
  RequestCase c;
  c.operation_id = "createOrder";
  c.method = "POST";
  c.path = "/orders";
  c.query = {{"limit", 5}};
  c.headers = {{"X-Trace", "abc"}};
  c.body = Json{{"sku", "A-1"}, {"quantity", 2}};
  c.body_content_type = "application/json";
  return c;
}

TEST(Mutate, EachMutationChangesTheCaseSaysWhatAndIsDeterministic) {
  const openapi::Operation op = order_operation();
  const std::vector<RequestCase> corpus{order_case()};
  Rng a(11);
  Rng b(11);
  const std::string original = render(order_case(), base());
  std::set<std::string> kinds;
  for (int i = 0; i < 500; ++i) {
    RequestCase x = mutate(order_case(), a, MutationContext{&op, &corpus});
    RequestCase y = mutate(order_case(), b, MutationContext{&op, &corpus});
    const std::string bytes = render(x, base());
    ASSERT_EQ(bytes, render(y, base()));
    EXPECT_FALSE(x.expect_valid);
    EXPECT_FALSE(x.mutation.empty());
    kinds.insert(x.mutation.substr(0, x.mutation.find(':')));
  }
  // Body members, the query parameter and the header are all reached.
  EXPECT_TRUE(kinds.contains("body.sku"));
  EXPECT_TRUE(kinds.contains("body.quantity"));
  EXPECT_TRUE(kinds.contains("query.limit"));
  EXPECT_TRUE(kinds.contains("header.X-Trace"));
}

TEST(Mutate, HeaderValuesNeverCarryLineBreaks) {
  Rng rng(5);
  RequestCase c = order_case();
  c.body.reset();
  c.query.clear();
  for (int i = 0; i < 300; ++i) {
    RequestCase m = mutate(c, rng);
    for (const auto& [name, value] : m.headers) {
      EXPECT_EQ(value.find_first_of(std::string("\r\n\0", 3)), std::string::npos) << m.mutation;
    }
  }
}

TEST(Mutate, RawCasesAreDamagedAsBytes) {
  RequestCase c;
  c.method = "GET";
  c.path = "/";
  c.raw = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  Rng rng(3);
  RequestCase m = mutate(c, rng);
  ASSERT_TRUE(m.raw.has_value());
  EXPECT_EQ(m.mutation.rfind("raw: ", 0), 0u);
}

TEST(Mutate, BytesMutationFillsRawBodyWithinTheBound) {
  Rng rng(8);
  for (int i = 0; i < 200; ++i) {
    RequestCase m = mutate_bytes(order_case(), rng);
    ASSERT_TRUE(m.raw_body.has_value());
    EXPECT_LE(m.raw_body->size(), std::size_t{1} << 20);
    EXPECT_EQ(m.mutation.rfind("body bytes: ", 0), 0u);
  }
  std::string what;
  Rng r2(1);
  const std::string damaged = damage_bytes("hello world", r2, &what);
  EXPECT_FALSE(what.empty());
}

}  // namespace
}  // namespace chaosplus::fuzz
