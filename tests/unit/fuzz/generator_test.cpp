#include "fuzz/generator.h"

#include <gtest/gtest.h>

#include <set>

#include "fuzz/encoding.h"
#include "fuzz/formats.h"
#include "fuzz/mutate.h"
#include "fuzz/protocol_mutations.h"
#include "unit/fuzz/operations.h"
#include "unit/fuzz/schema_check.h"

namespace chaosplus::fuzz {
namespace {

using testing::create_order;
using testing::validates;

const net::Url& base() {
  static const net::Url url = net::Url::parse("http://127.0.0.1:8080/api").value();
  return url;
}

TEST(ValidCase, FillsWhatTheOperationDocumentsAndConforms) {
  const auto op = create_order();
  Rng rng(1);
  int with_tags = 0, form = 0;
  for (int i = 0; i < 500; ++i) {
    const RequestCase r = valid_case(op, rng);
    ASSERT_TRUE(r.expect_valid);
    ASSERT_TRUE(r.mutation.empty());
    EXPECT_EQ(r.operation_id, "createOrder");
    EXPECT_EQ(r.method, "POST");
    ASSERT_TRUE(r.path_params.count("shopId"));
    EXPECT_TRUE(validates(op.parameters[0].schema, r.path_params.at("shopId")));
    bool limit = false;
    for (const auto& [name, value] : r.query) {
      if (name == "limit") {
        limit = true;
        EXPECT_TRUE(validates(op.parameters[1].schema, value)) << value;
      }
      if (name == "tags") {
        ++with_tags;
        EXPECT_TRUE(value.is_string()) << "explode false joins the array: " << value;
      }
    }
    EXPECT_TRUE(limit);
    for (const auto& [name, value] : r.headers) {
      EXPECT_NE(name, "Content-Type") << "ignored by OpenAPI";
      if (name == "X-Request-Id") {
        EXPECT_TRUE(formats::fits("uuid", value)) << value;
      }
    }
    ASSERT_TRUE(r.body) << "the body is required";
    if (r.body_content_type == "application/json") {
      std::string why;
      EXPECT_TRUE(validates(op.body->content[0].schema, *r.body, &why)) << r.body->dump() << why;
    } else {
      EXPECT_EQ(r.body_content_type, "application/x-www-form-urlencoded");
      ++form;
    }
  }
  EXPECT_GT(with_tags, 100);
  EXPECT_GT(form, 20);
  EXPECT_LT(form, 300);
}

TEST(ValidCase, ValuePoolFeedsPathParametersByNormalizedName) {
  const auto op = testing::get_item();
  ValuePool pool;
  pool.offer("itemId", "11111111-2222-4333-8444-555555555555");
  const ValueSource source = pool.source();
  Rng rng(2);
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(valid_case(op, rng, source).path_params.at("item_id"), "11111111-2222-4333-8444-555555555555");
  pool.forget(Json("11111111-2222-4333-8444-555555555555"));
  EXPECT_TRUE(pool.empty());
  EXPECT_NE(valid_case(op, rng, source).path_params.at("item_id"), "11111111-2222-4333-8444-555555555555");
}

TEST(ValuePool, KeepsTheNewestValuesPerName) {
  ValuePool pool(3);
  for (int i = 0; i < 10; ++i) pool.offer("id", i);
  Rng rng(3);
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) seen.insert(pool.pick("ID", rng)->get<int>());
  EXPECT_EQ(seen, (std::set<int>{7, 8, 9}));
  EXPECT_FALSE(pool.pick("other", rng));
}

TEST(InvalidCase, EachCaseNamesOneDefectThatReallyIsOne) {
  const auto op = create_order();
  Rng rng(4);
  std::set<std::string> places;
  int negative = 0;
  for (int i = 0; i < 1000; ++i) {
    const RequestCase r = invalid_case(op, rng);
    ASSERT_FALSE(r.mutation.empty());
    const std::string place = r.mutation.substr(0, r.mutation.find_first_of(".:"));
    places.insert(place);
    if (r.expect_valid) continue;
    ++negative;
    if (r.mutation.rfind("query.limit: ", 0) == 0 && r.mutation.find("missing") == std::string::npos) {
      bool broken = false;
      for (const auto& [name, value] : r.query)
        if (name == "limit") broken = !validates(op.parameters[1].schema, value);
      EXPECT_TRUE(broken) << r.mutation;
    }
    if (r.mutation.rfind("body", 0) == 0 && r.body && !r.raw_body && r.body_content_type == "application/json") {
      const bool broken = !validates(op.body->content[0].schema, *r.body) || !strict_json(*r.body);
      EXPECT_TRUE(broken) << r.mutation << " " << json_text(*r.body).substr(0, 200);
    }
  }
  EXPECT_GT(negative, 700);
  EXPECT_EQ(places, (std::set<std::string>{"body", "cookie", "header", "path", "query"}));
}

TEST(InvalidCase, AnOperationWithNothingToBendStillGetsAHostileCase) {
  Rng rng(5);
  const RequestCase r = invalid_case(testing::ping(), rng);
  EXPECT_EQ(r.query.size(), 1u);
  EXPECT_EQ(r.mutation.rfind("query.chaosplus: undocumented parameter, ", 0), 0u) << r.mutation;
}

// Same seed, same operations: the same bytes, request after request.
std::vector<std::string> stream(std::uint64_t seed) {
  const std::vector<openapi::Operation> ops = {create_order(), testing::get_item(), testing::ping()};
  Rng rng(seed);
  ValuePool pool;
  std::vector<RequestCase> corpus;
  std::vector<std::string> out;
  for (int i = 0; i < 2000; ++i) {
    const auto& op = ops[rng.below(ops.size())];
    RequestCase r;
    switch (rng.below(5)) {
      case 0: r = valid_case(op, rng, pool.source()); break;
      case 1: r = invalid_case(op, rng, pool.source()); break;
      case 2:
        r = corpus.empty() ? valid_case(op, rng) : mutate(corpus[rng.below(corpus.size())], rng, {&op, &corpus});
        break;
      case 3: r = mutate_bytes(valid_case(op, rng), rng); break;
      default: r = protocol_mutation(valid_case(op, rng), base(), rng); break;
    }
    if (r.body && corpus.size() < 50 && !r.raw) corpus.push_back(r);
    if (r.path_params.count("shopId")) pool.offer("shopId", r.path_params.at("shopId"));
    out.push_back(render(r, base(), {{"Authorization", "Bearer t"}}));
  }
  return out;
}

TEST(Determinism, SameSeedSameRequestStreamByteForByte) {
  const auto first = stream(20261206);
  const auto second = stream(20261206);
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) ASSERT_EQ(first[i], second[i]) << "request " << i;
  const auto other = stream(20261207);
  std::size_t same = 0;
  for (std::size_t i = 0; i < first.size(); ++i) same += first[i] == other[i];
  EXPECT_LT(same, first.size() / 4);
  for (const auto& bytes : first) EXPECT_LE(bytes.size(), kMaxHugeBytes + 16 * 1024);
}

}  // namespace
}  // namespace chaosplus::fuzz

namespace chaosplus::fuzz {
namespace {

// Documents as openapi::load reads them (references inlined, cycles cut, 3.0 normalized): every
// operation gets conforming cases whose path placeholders are all filled and whose JSON bodies
// validate, and negative and mutated cases that render.
TEST(ValidCase, RealDocumentsGiveConformingRequests) {
  for (const char* file :
       {"tests/data/openapi/petstore.yaml", "tests/data/openapi/shop31.json", "demo/shop-api.openapi.yaml"}) {
    auto document = openapi::load(std::string(CHAOSPLUS_SOURCE_DIR) + "/" + file);
    ASSERT_TRUE(document.ok()) << file << ": " << document.error();
    ASSERT_FALSE(document->operations.empty()) << file;
    Rng rng(12);
    for (const auto& op : document->operations) {
      for (int i = 0; i < 100; ++i) {
        const RequestCase r = valid_case(op, rng);
        const std::string bytes = render(r, base());
        const std::string line = bytes.substr(0, bytes.find("\r\n"));
        EXPECT_EQ(line.find('{'), std::string::npos) << file << " " << op.id << ": " << line;
        EXPECT_EQ(line.find("//"), std::string::npos) << file << " " << op.id << ": empty path segment in " << line;
        if (r.body && r.body_content_type.find("json") != std::string::npos) {
          for (const auto& media : op.body->content) {
            if (media.content_type != r.body_content_type) continue;
            std::string why;
            EXPECT_TRUE(validates(media.schema, *r.body, &why))
                << file << " " << op.id << ": " << json_text(*r.body).substr(0, 300) << "\n"
                << why;
          }
        }
        const RequestCase bad = invalid_case(op, rng);
        EXPECT_FALSE(bad.mutation.empty());
        EXPECT_LE(render(bad, base()).size(), kMaxHugeBytes + 16 * 1024);
        EXPECT_FALSE(mutate(r, rng, {&op, nullptr}).mutation.empty());
      }
    }
  }
}

}  // namespace
}  // namespace chaosplus::fuzz
