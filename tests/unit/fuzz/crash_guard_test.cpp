#include "fuzz/crash_guard.h"

#include <gtest/gtest.h>

namespace chaosplus::fuzz {
namespace {

RequestCase get_product(Json id, std::vector<std::pair<std::string, Json>> query = {}) {
  RequestCase r;
  r.operation_id = "getProduct";
  r.method = "GET";
  r.path = "/products/{id}";
  r.path_params["id"] = std::move(id);
  r.query = std::move(query);
  return r;
}

TEST(CrashGuard, NumbersAreClassedBySignWhateverTheirType) {
  EXPECT_EQ(CrashGuard::value_class(-1), "<0");
  EXPECT_EQ(CrashGuard::value_class(-1.5), "<0");
  EXPECT_EQ(CrashGuard::value_class("-9223372036854775809"), "<0");
  EXPECT_EQ(CrashGuard::value_class("-0.0"), "<0");
  EXPECT_EQ(CrashGuard::value_class(0), "=0");
  EXPECT_EQ(CrashGuard::value_class("17"), ">0");
  EXPECT_EQ(CrashGuard::value_class(""), "str:empty");
  EXPECT_EQ(CrashGuard::value_class("a\x01"), "str:ctrl");
  EXPECT_EQ(CrashGuard::value_class("widget"), "str");
}

TEST(CrashGuard, AConfirmedCrashGuardsItsClassOnItsOperationOnly) {
  CrashGuard guard;
  EXPECT_FALSE(guard.matches(get_product(-1)));
  guard.confirm(get_product(-1));
  EXPECT_TRUE(guard.matches(get_product(-7)));
  EXPECT_TRUE(guard.matches(get_product("-3")));
  EXPECT_FALSE(guard.matches(get_product(5)));
  EXPECT_FALSE(guard.matches(get_product("abc")));
  RequestCase other = get_product(-1);
  other.operation_id = "getOrder";
  EXPECT_FALSE(guard.matches(other));
}

TEST(CrashGuard, TwoCulpritsOfAnOperationGeneralizeToWhatTheyShare) {
  CrashGuard guard;
  guard.confirm(get_product(-1, {{"verbose", "x"}}));
  // The extra query parameter was part of the first culprit: without it, not yet guarded.
  EXPECT_FALSE(guard.matches(get_product(-2)));
  guard.confirm(get_product(-4, {{"page", 2}}));
  // Both had a negative id: that is what is guarded now, with any other parameters.
  EXPECT_TRUE(guard.matches(get_product(-2)));
  EXPECT_TRUE(guard.matches(get_product(-2, {{"sort", "name"}})));
  EXPECT_FALSE(guard.matches(get_product(2, {{"verbose", "x"}})));
}

TEST(CrashGuard, ACrashInTheBodyDoesNotGuardTheWholeOperation) {
  CrashGuard guard;
  RequestCase post;
  post.operation_id = "createOrder";
  post.method = "POST";
  post.body = Json{{"quantity", -1}, {"sku", "a"}};
  guard.confirm(post);
  RequestCase fine = post;
  fine.body = Json{{"quantity", 3}, {"sku", "a"}};
  EXPECT_FALSE(guard.matches(fine));
  EXPECT_TRUE(guard.matches(post));
  RequestCase raw = post;
  raw.raw = "GET / HTTP/1.1\r\n\r\n";
  EXPECT_FALSE(guard.matches(raw));  // raw framing has no structure to class
}

}  // namespace
}  // namespace chaosplus::fuzz
