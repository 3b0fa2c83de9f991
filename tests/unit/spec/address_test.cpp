#include "spec/address.h"

#include <gtest/gtest.h>

#include "core/loopback.h"
#include "spec/loader.h"

namespace chaosplus::spec {
namespace {

TEST(ParseEndpoint, ReadsIpv4HostNamesAndBracketedIpv6) {
  auto v4 = parse_endpoint("127.0.0.1:8080");
  ASSERT_TRUE(v4.ok()) << v4.error();
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  auto v6 = parse_endpoint("[::1]:80");
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 80);
  auto name = parse_endpoint("localhost:65535");
  ASSERT_TRUE(name.ok()) << name.error();
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 65535);
}

TEST(ParseEndpoint, RejectsMalformedAddressesSayingWhatIsExpected) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:8o",
                          "::1:80", "[::1:80", "[nothost]:80", "http://127.0.0.1:80", "127.0.0.1:80/x", "a b:80",
                          "under_score:80", "127.0.0.1:-1", "[::1]80"}) {
    auto r = parse_endpoint(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.error().find("expected"), std::string::npos) << r.error();
    }
  }
  EXPECT_NE(parse_endpoint("::1:80").error().find("without brackets"), std::string::npos);
}

TEST(EndpointToString, BracketsIpv6Only) {
  EXPECT_EQ((Endpoint{"127.0.0.1", 80}).to_string(), "127.0.0.1:80");
  EXPECT_EQ((Endpoint{"::1", 8080}).to_string(), "[::1]:8080");
  EXPECT_EQ((Endpoint{"localhost", 1}).to_string(), "localhost:1");
}

TEST(EndpointToString, RoundTripsThroughParseEndpoint) {
  for (const char* text : {"127.0.0.1:80", "[::1]:8080", "localhost:9"}) {
    auto e = parse_endpoint(text);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->to_string(), text);
  }
}

TEST(IsLoopbackHost, AcceptsTheWhole127NetworkIpv6LoopbackAndLocalhost) {
  for (const char* host : {"127.0.0.1", "127.255.255.254", "127.0.0.2", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost",
                           "LocalHost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
}

TEST(IsLoopbackHost, RejectsEverythingElse) {
  for (const char* host : {"", "0.0.0.0", "10.0.0.1", "128.0.0.1", "126.255.255.255", "::", "::2", "example.com",
                           "localhost.example.com", "127.0.0.1.nip.io", "::ffff:10.0.0.1", "1.127.0.0"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

TEST(ParseHttpUrl, SplitsSchemeEndpointAndTarget) {
  auto u = parse_http_url("http://127.0.0.1:8080/health?full=1#frag");
  ASSERT_TRUE(u.ok()) << u.error();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->endpoint.to_string(), "127.0.0.1:8080");
  EXPECT_EQ(u->target, "/health?full=1");
}

TEST(ParseHttpUrl, DefaultsPortAndPath) {
  auto http = parse_http_url("http://localhost");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->endpoint.port, 80);
  EXPECT_EQ(http->target, "/");
  auto https = parse_http_url("https://[::1]?q");
  ASSERT_TRUE(https.ok()) << https.error();
  EXPECT_EQ(https->endpoint.host, "::1");
  EXPECT_EQ(https->endpoint.port, 443);
  EXPECT_EQ(https->target, "/?q");
}

TEST(ParseHttpUrl, RejectsOtherSchemesUserInfoAndSpaces) {
  for (const char* bad : {"ftp://127.0.0.1/", "127.0.0.1:80/x", "http://", "http:///x", "http://user@127.0.0.1/",
                          "http://127.0.0.1:99999/", "http://127.0.0.1/a b"}) {
    EXPECT_FALSE(parse_http_url(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace chaosplus::spec
