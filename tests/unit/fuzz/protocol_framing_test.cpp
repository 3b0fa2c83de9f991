#include <gtest/gtest.h>

#include <set>
#include <string>

#include "fuzz/protocol_mutations.h"
#include "fuzz/rng.h"

namespace chaosplus::fuzz {
namespace {

RequestCase valid_post() {
  RequestCase c;
  c.operation_id = "checkout";
  c.method = "POST";
  c.path = "/checkout";
  c.body = Json{{"sku", "A-1"}};
  c.body_content_type = "application/json";
  return c;
}

const net::Url& base() {
  static const net::Url url = *net::Url::parse("http://127.0.0.1:8080/");
  return url;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ProtocolMutations, EveryKindIsRawInvalidAndNamed) {
  for (int k = 0; k < kProtocolMutationCount; ++k) {
    Rng rng(7);
    const auto kind = static_cast<ProtocolMutation>(k);
    RequestCase out = protocol_mutation(valid_post(), base(), kind, rng);
    ASSERT_TRUE(out.raw.has_value()) << k;
    EXPECT_FALSE(out.expect_valid);
    EXPECT_EQ(out.mutation.rfind("protocol: " + std::string(protocol_mutation_name(kind)), 0), 0u) << out.mutation;
    EXPECT_NE(*out.raw, render(valid_post(), base())) << protocol_mutation_name(kind);
  }
}

TEST(ProtocolMutations, ClTeConflictCarriesBothFramings) {
  Rng rng(1);
  const std::string raw =
      *protocol_mutation(valid_post(), base(), ProtocolMutation::content_length_and_chunked, rng).raw;
  EXPECT_EQ(count(raw, "Content-Length: "), 1u);
  EXPECT_NE(raw.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_NE(raw.find("\r\n\r\nd\r\n{\"sku\":\"A-1\"}\r\n0\r\n\r\n"), std::string::npos) << raw;
}

TEST(ProtocolMutations, TwoContentLengthsDisagree) {
  Rng rng(3);
  const std::string raw = *protocol_mutation(valid_post(), base(), ProtocolMutation::two_content_lengths, rng).raw;
  EXPECT_EQ(count(raw, "Content-Length: "), 2u);
  EXPECT_NE(raw.find("Content-Length: 13\r\n"), std::string::npos);
}

TEST(ProtocolMutations, BareLfHasNoCarriageReturn) {
  Rng rng(3);
  const std::string raw = *protocol_mutation(valid_post(), base(), ProtocolMutation::bare_lf, rng).raw;
  EXPECT_EQ(raw.find('\r'), std::string::npos);
  EXPECT_EQ(raw.rfind("POST /checkout HTTP/1.1\nHost: 127.0.0.1:8080\n", 0), 0u) << raw;
}

TEST(ProtocolMutations, MissingHostDropsItAndManyHeadersIsBounded) {
  Rng rng(5);
  EXPECT_EQ(protocol_mutation(valid_post(), base(), ProtocolMutation::missing_host, rng).raw->find("Host:"),
            std::string::npos);
  for (int i = 0; i < 20; ++i) {
    const std::string raw = *protocol_mutation(valid_post(), base(), ProtocolMutation::many_headers, rng).raw;
    const std::size_t n = count(raw, "X-Many-");
    EXPECT_GE(n, 100u);
    EXPECT_LE(n, 10000u);
  }
}

TEST(ProtocolMutations, TheSameSeedGivesTheSameBytesAndKindsVary) {
  std::set<std::string> kinds;
  Rng a(99);
  Rng b(99);
  for (int i = 0; i < 200; ++i) {
    RequestCase x = protocol_mutation(valid_post(), base(), a);
    RequestCase y = protocol_mutation(valid_post(), base(), b);
    ASSERT_EQ(*x.raw, *y.raw);
    kinds.insert(x.mutation.substr(0, x.mutation.find(':', 10)));
  }
  EXPECT_EQ(kinds.size(), static_cast<std::size_t>(kProtocolMutationCount));
}

}  // namespace
}  // namespace chaosplus::fuzz
