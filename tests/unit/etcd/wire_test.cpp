#include "etcd/wire.h"

#include <gtest/gtest.h>

namespace chaosplus::etcd::wire {
namespace {

TEST(EtcdWire, Base64RoundTripsEveryLengthAndByte) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("a"), "YQ==");
  EXPECT_EQ(base64_encode("ab"), "YWI=");
  EXPECT_EQ(base64_encode("abc"), "YWJj");
  EXPECT_EQ(base64_encode("/chaosplus/agents/"), "L2NoYW9zcGx1cy9hZ2VudHMv");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const auto text = all.substr(0, n);
    auto back = base64_decode(base64_encode(text));
    ASSERT_TRUE(back.has_value()) << n;
    EXPECT_EQ(*back, text) << n;
  }
}

TEST(EtcdWire, Base64DecodeRefusesWhatIsNotBase64) {
  EXPECT_EQ(base64_decode("YQ"), std::optional<std::string>("a"));  // padding left out
  EXPECT_FALSE(base64_decode("Y").has_value());                     // not a whole byte
  EXPECT_FALSE(base64_decode("YQ*=").has_value());
  EXPECT_FALSE(base64_decode("YR==").has_value());  // the leftover bits are not zero
}

TEST(EtcdWire, PrefixRangeEndIsTheNextKeyAfterEveryKeyWithThePrefix) {
  EXPECT_EQ(prefix_range_end("/a/"), "/a0");
  EXPECT_EQ(prefix_range_end("ab"), "ac");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

TEST(EtcdWire, Int64FieldsComeAsStringsNumbersOrNotAtAll) {
  auto object = nlohmann::json::parse(R"({"a":"9007199254740993","b":42,"c":"x","d":null})");
  EXPECT_EQ(int64_field(object, "a"), 9007199254740993LL);  // beyond a double's precision
  EXPECT_EQ(int64_field(object, "b"), 42);
  EXPECT_EQ(int64_field(object, "c"), 0);
  EXPECT_EQ(int64_field(object, "d"), 0);
  EXPECT_EQ(int64_field(object, "missing"), 0);
}

TEST(EtcdWire, ParsesAKeyValueAsTheGatewayWritesIt) {
  auto kv = parse_key_value(nlohmann::json::parse(
      R"({"key":"YQ==","create_revision":"2","mod_revision":"4","version":"3","value":"Yg==","lease":"7587"})"));
  ASSERT_TRUE(kv.ok()) << kv.error();
  EXPECT_EQ(kv->key, "a");
  EXPECT_EQ(kv->value, "b");
  EXPECT_EQ(kv->create_revision, 2);
  EXPECT_EQ(kv->mod_revision, 4);
  EXPECT_EQ(kv->version, 3);
  EXPECT_EQ(kv->lease, 7587);
  // A delete event's kv: key and mod_revision only; an empty value is left out.
  auto erased = parse_key_value(nlohmann::json::parse(R"({"key":"YQ==","mod_revision":"3"})"));
  ASSERT_TRUE(erased.ok());
  EXPECT_EQ(erased->value, "");
  EXPECT_EQ(erased->mod_revision, 3);
  auto bad = parse_key_value(nlohmann::json::parse(R"({"key":"**"})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("\"key\" is not base64"), std::string::npos) << bad.error();
}

TEST(EtcdWire, ClassifiesAnswersIntoResultRetryReauthenticateAndError) {
  auto ok = classify(200, R"({"header":{"revision":"5"}})");
  EXPECT_EQ(ok.kind, Answer::Kind::ok);
  EXPECT_EQ(int64_field(ok.body["header"], "revision"), 5);

  auto no_leader = classify(503, R"({"error":"etcdserver: no leader","message":"etcdserver: no leader","code":14})");
  EXPECT_EQ(no_leader.kind, Answer::Kind::retry);
  EXPECT_EQ(no_leader.failure.code, ErrorCode::unavailable);

  auto lease = classify(404, R"({"error":"etcdserver: requested lease not found","code":5,
                                 "message":"etcdserver: requested lease not found"})");
  EXPECT_EQ(lease.kind, Answer::Kind::error);
  EXPECT_EQ(lease.failure.code, ErrorCode::not_found);
  EXPECT_EQ(lease.failure.message, "etcdserver: requested lease not found");

  auto token = classify(401, R"({"error":"etcdserver: invalid auth token","code":16})");
  EXPECT_EQ(token.kind, Answer::Kind::reauthenticate);
  auto old = classify(400, R"({"message":"etcdserver: revision of auth store is old","code":3})");
  EXPECT_EQ(old.kind, Answer::Kind::reauthenticate);

  // A streamed call's error (watch, keep-alive) nests its status.
  auto stream = classify(200, R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader"}})");
  EXPECT_EQ(stream.kind, Answer::Kind::retry);
  EXPECT_EQ(stream.failure.message, "etcdserver: no leader");
  EXPECT_EQ(classify(200, R"({"result":{"created":true}})").kind, Answer::Kind::ok);

  // Not etcd at all: a proxy's 502 is worth another member, a 404 page is not.
  EXPECT_EQ(classify(502, "<html>Bad Gateway</html>").kind, Answer::Kind::retry);
  auto page = classify(404, "404 page not found");
  EXPECT_EQ(page.kind, Answer::Kind::error);
  EXPECT_EQ(page.failure.message, "HTTP 404: 404 page not found");
}

}  // namespace
}  // namespace chaosplus::etcd::wire
