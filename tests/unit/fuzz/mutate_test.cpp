#include "fuzz/mutate.h"

#include <gtest/gtest.h>

#include <set>

#include "fuzz/encoding.h"
#include "fuzz/generator.h"
#include "unit/fuzz/operations.h"

namespace chaosplus::fuzz {
namespace {

const net::Url& base() {
  static const net::Url url{"http", "127.0.0.1", 80, "/"};
  return url;
}

RequestCase order(Rng& rng) {
  const auto op = testing::create_order();
  for (;;) {
    RequestCase r = valid_case(op, rng);
    if (r.body_content_type == "application/json" && r.body->contains("lines")) return r;
  }
}

TEST(Mutate, ChangesOneThingAndSaysWhat) {
  const auto op = testing::create_order();
  Rng rng(1);
  std::set<std::string> kinds;
  for (int i = 0; i < 1000; ++i) {
    const RequestCase original = order(rng);
    const RequestCase m = mutate(original, rng, {&op, nullptr});
    ASSERT_FALSE(m.mutation.empty());
    EXPECT_FALSE(m.expect_valid);
    EXPECT_EQ(m.operation_id, original.operation_id);
    const std::string place = m.mutation.substr(0, m.mutation.find_first_of(".:"));
    kinds.insert(place);
    if (m.mutation.find("dropped") != std::string::npos) kinds.insert("dropped");
    if (m.mutation.find("duplicated") != std::string::npos) kinds.insert("duplicated");
    if (m.mutation.find("added") != std::string::npos) kinds.insert("added");
  }
  for (const char* kind : {"body", "query", "path", "dropped", "duplicated", "added"})
    EXPECT_TRUE(kinds.count(kind)) << kind;
}

TEST(Mutate, ReplacesABodyLeafWithAnEdgeOfItsOwnSchema) {
  const auto op = testing::create_order();
  Rng rng(2);
  std::set<std::string> seen;
  for (int i = 0; i < 3000; ++i) seen.insert(mutate(order(rng), rng, {&op, nullptr}).mutation);
  EXPECT_TRUE(seen.count("body.qty: replaced by 0 below minimum 1"));
  EXPECT_TRUE(seen.count("body.qty: replaced by 100 above maximum 99"));
}

TEST(Mutate, DuplicateKeysGoToTheRawBody) {
  Rng rng(3);
  for (int i = 0; i < 2000; ++i) {
    const RequestCase m = mutate(order(rng), rng);
    if (m.mutation.find("key duplicated") == std::string::npos) continue;
    ASSERT_TRUE(m.raw_body);
    const std::string key = m.mutation.substr(m.mutation.rfind('/', m.mutation.find(':')) + 1,
                                              m.mutation.find(':') - m.mutation.rfind('/', m.mutation.find(':')) - 1);
    const std::string quoted =
        "\"" + (key.find('.') == std::string::npos ? key : key.substr(key.find('.') + 1)) + "\":";
    const std::size_t first = m.raw_body->find(quoted);
    ASSERT_NE(first, std::string::npos) << *m.raw_body << " " << m.mutation;
    EXPECT_NE(m.raw_body->find(quoted, first + 1), std::string::npos) << *m.raw_body << " " << m.mutation;
    return;
  }
  FAIL() << "no duplicated key in 2000 mutations";
}

TEST(Mutate, BorrowsFromTheCorpus) {
  Rng rng(4);
  std::vector<RequestCase> corpus;
  RequestCase donor = order(rng);
  donor.body = Json{{"sku", "FROM-CORPUS"}};
  corpus.push_back(donor);
  bool borrowed = false;
  for (int i = 0; i < 500 && !borrowed; ++i) {
    const RequestCase m = mutate(order(rng), rng, {nullptr, &corpus});
    borrowed = m.mutation.find("\"FROM-CORPUS\" from the corpus") != std::string::npos;
  }
  EXPECT_TRUE(borrowed);
}

TEST(Mutate, SameSeedSameMutations) {
  Rng seed_a(5), seed_b(5);
  for (int i = 0; i < 200; ++i) {
    const RequestCase a = mutate(order(seed_a), seed_a), b = mutate(order(seed_b), seed_b);
    ASSERT_EQ(render(a, base()), render(b, base()));
    ASSERT_EQ(a.mutation, b.mutation);
  }
}

TEST(MutateBytes, DamagesTheRenderedBodyIntoRawBody) {
  Rng rng(6);
  int differs = 0;
  for (int i = 0; i < 300; ++i) {
    const RequestCase original = order(rng);
    const RequestCase m = mutate_bytes(original, rng);
    ASSERT_TRUE(m.raw_body);
    EXPECT_EQ(m.body_content_type, "application/json");
    EXPECT_NE(m.mutation.find("body bytes: "), std::string::npos);
    EXPECT_LE(m.raw_body->size(), kMaxHugeBytes);
    differs += *m.raw_body != json_text(*original.body);
    EXPECT_FALSE(m.expect_valid);
  }
  EXPECT_GT(differs, 290);
  RequestCase empty;
  empty.method = "GET";
  empty.path = "/";
  EXPECT_TRUE(mutate_bytes(empty, rng).raw_body);
}

TEST(MutateBytes, MultipartKeepsItsBoundary) {
  RequestCase r;
  r.method = "POST";
  r.path = "/up";
  r.body = Json{{"a", "b"}};
  r.body_content_type = "multipart/form-data";
  Rng rng(7);
  const RequestCase m = mutate_bytes(r, rng);
  EXPECT_EQ(m.body_content_type.rfind("multipart/form-data; boundary=chaosplus-", 0), 0u) << m.body_content_type;
}

TEST(DamageBytes, EveryKindAppearsAndSizesStayBounded) {
  Rng rng(8);
  std::set<std::string> kinds;
  for (int i = 0; i < 2000; ++i) {
    std::string what;
    const std::string out = damage_bytes(std::string(200, 'x'), rng, &what);
    ASSERT_LE(out.size(), kMaxHugeBytes);
    for (const char* kind :
         {"flipped", "random bytes", "interesting bytes", "deleted", "repeated", "truncated", "swapped"})
      if (what.find(kind) != std::string::npos) kinds.insert(kind);
  }
  EXPECT_EQ(kinds.size(), 7u);
}

TEST(Mutate, RawRequestsKeepTheirRequestLine) {
  RequestCase r;
  r.raw = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  r.mutation = "protocol: test";
  Rng rng(9);
  for (int i = 0; i < 100; ++i) {
    const RequestCase m = mutate(r, rng);
    ASSERT_TRUE(m.raw);
    EXPECT_EQ(m.raw->rfind("POST /x HTTP/1.1\r\n", 0), 0u);
    EXPECT_EQ(m.mutation.rfind("protocol: test; raw: ", 0), 0u);
  }
}

}  // namespace
}  // namespace chaosplus::fuzz
