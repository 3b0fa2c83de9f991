#include "fuzz/protocol_mutations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace chaosplus::fuzz {
namespace {

const net::Url& base() {
  static const net::Url url{"http", "127.0.0.1", 8080, "/"};
  return url;
}

RequestCase post() {
  RequestCase r;
  r.operation_id = "create";
  r.method = "POST";
  r.path = "/orders";
  r.body = Json{{"sku", "A1"}};
  r.body_content_type = "application/json";
  return r;
}

RequestCase of(ProtocolMutation kind, std::uint64_t seed = 1) {
  Rng rng(seed);
  return protocol_mutation(post(), base(), kind, rng, {{"Authorization", "Bearer t"}});
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(ProtocolMutation, EveryKindIsRawLabelledAndKeepsTheOperation) {
  std::set<std::string> names;
  for (int k = 0; k < kProtocolMutationCount; ++k) {
    const auto kind = static_cast<ProtocolMutation>(k);
    const RequestCase r = of(kind);
    ASSERT_TRUE(r.raw);
    EXPECT_FALSE(r.expect_valid);
    EXPECT_EQ(r.operation_id, "create");
    EXPECT_EQ(r.mutation.rfind("protocol: " + std::string(protocol_mutation_name(kind)), 0), 0u) << r.mutation;
    EXPECT_EQ(render(r, base()), *r.raw);
    EXPECT_LE(r.raw->size(), 1u << 20);
    names.insert(std::string(protocol_mutation_name(kind)));
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(kProtocolMutationCount));
}

TEST(ProtocolMutation, ClTeConflictFramesTheBodyChunkedWithTheOldLength) {
  const std::string raw = *of(ProtocolMutation::content_length_and_chunked).raw;
  EXPECT_EQ(count(raw, "Content-Length: 12\r\n"), 1u) << raw;
  EXPECT_EQ(count(raw, "Transfer-Encoding: chunked\r\n"), 1u);
  EXPECT_NE(raw.find("\r\n\r\nc\r\n{\"sku\":\"A1\"}\r\n0\r\n\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Authorization: Bearer t\r\n"), std::string::npos);
}

TEST(ProtocolMutation, TwoContentLengthsNeverPromiseMoreThanIsSent) {
  for (std::uint64_t seed = 1; seed < 30; ++seed) {
    const std::string raw = *of(ProtocolMutation::two_content_lengths, seed).raw;
    EXPECT_EQ(count(raw, "Content-Length: "), 2u);
    const std::size_t second = raw.rfind("Content-Length: ");
    EXPECT_LE(std::stoul(raw.substr(second + 16)), 12u);
  }
}

TEST(ProtocolMutation, LineEndsFoldsAndHosts) {
  const std::string lf = *of(ProtocolMutation::bare_lf).raw;
  EXPECT_EQ(lf.find('\r'), std::string::npos);
  EXPECT_EQ(lf.rfind("POST /orders HTTP/1.1\nHost: 127.0.0.1:8080\n", 0), 0u) << lf;
  EXPECT_NE(of(ProtocolMutation::obs_fold).raw->find("X-Folded: first\r\n"), std::string::npos);
  EXPECT_EQ(of(ProtocolMutation::missing_host).raw->find("Host:"), std::string::npos);
  EXPECT_EQ(count(*of(ProtocolMutation::duplicate_host).raw, "Host: "), 2u);
  EXPECT_EQ(of(ProtocolMutation::absolute_form_target).raw->rfind("POST http://other.example/orders HTTP/1.1\r\n", 0),
            0u);
  EXPECT_NE(of(ProtocolMutation::nul_in_header).raw->find(std::string("X-Nul: a\0b\r\n", 12)), std::string::npos);
  EXPECT_NE(of(ProtocolMutation::space_before_colon).raw->find("Content-Length : 12\r\n"), std::string::npos);
}

TEST(ProtocolMutation, HugeHeadersAreBounded) {
  std::set<std::size_t> counts;
  for (std::uint64_t seed = 1; seed < 10; ++seed) {
    const std::string raw = *of(ProtocolMutation::many_headers, seed).raw;
    counts.insert(count(raw, "X-Many-"));
  }
  EXPECT_EQ(counts, (std::set<std::size_t>{1000, 10000}));
  const std::string huge = *of(ProtocolMutation::huge_header_line).raw;
  EXPECT_NE(huge.find("X-Huge: " + std::string(65536, 'a') + "\r\n"), std::string::npos);
}

TEST(ProtocolMutation, BadChunksMethodsAndVersions) {
  std::set<std::string> variants;
  for (std::uint64_t seed = 1; seed < 60; ++seed) {
    variants.insert(of(ProtocolMutation::bad_chunk_size, seed).mutation);
    variants.insert(of(ProtocolMutation::invalid_version, seed).mutation);
  }
  EXPECT_TRUE(variants.count("protocol: bad chunk size: chunk size '-1'"));
  EXPECT_TRUE(variants.count("protocol: bad chunk size: chunk size 'fffffffffffffffffff1'"));
  EXPECT_TRUE(variants.count("protocol: bad chunk size: missing CRLF after chunk"));
  EXPECT_TRUE(variants.count("protocol: invalid version: 'HTTP/1.2'"));
  EXPECT_TRUE(variants.count("protocol: invalid version: no version (HTTP/0.9 style)"));
  const std::string method = *of(ProtocolMutation::invalid_method).raw;
  EXPECT_NE(method.rfind("POST ", 0), 0u);
}

TEST(ProtocolMutation, RandomKindIsDeterministic) {
  Rng a(3), b(3);
  for (int i = 0; i < 100; ++i)
    ASSERT_EQ(*protocol_mutation(post(), base(), a).raw, *protocol_mutation(post(), base(), b).raw);
}

}  // namespace
}  // namespace chaosplus::fuzz
