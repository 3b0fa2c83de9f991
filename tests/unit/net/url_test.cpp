#include "net/url.h"

#include <gtest/gtest.h>

namespace chaosplus::net {
namespace {

TEST(Url, ParsesHostPortAndTarget) {
  auto url = Url::parse("http://127.0.0.1:8080/x?y=1");
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_EQ(url->scheme, "http");
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 8080);
  EXPECT_EQ(url->target, "/x?y=1");
  EXPECT_EQ(url->authority(), "127.0.0.1:8080");
}

TEST(Url, ParsesBracketedIpv6Literals) {
  auto url = Url::parse("http://[::1]:80/");
  ASSERT_TRUE(url.ok()) << url.error();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, 80);
  EXPECT_EQ(url->authority(), "[::1]:80");
  EXPECT_EQ(url->to_string(), "http://[::1]:80/");
}

TEST(Url, FillsDefaultPortsAndTarget) {
  auto http = Url::parse("HTTP://example.com");
  ASSERT_TRUE(http.ok());
  EXPECT_EQ(http->scheme, "http");
  EXPECT_EQ(http->port, 80);
  EXPECT_EQ(http->target, "/");
  auto https = Url::parse("https://example.com?q");
  ASSERT_TRUE(https.ok());
  EXPECT_EQ(https->port, 443);
  EXPECT_EQ(https->target, "/?q");
  auto v6 = Url::parse("http://[fe80::1]/a");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->port, 80);
}

TEST(Url, DropsTheFragment) {
  auto url = Url::parse("http://h:1/a/b#section");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url->target, "/a/b");
}

TEST(Url, RejectsBadInputWithAReason) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c :
       {Case{"127.0.0.1:80", "expected http://"}, Case{"ftp://h/", "scheme"}, Case{"http:///path", "missing host"},
        Case{"http://h:0/", "port"}, Case{"http://h:65536/", "port"}, Case{"http://h:8o/", "port"},
        Case{"http://h:/", "empty port"}, Case{"http://[::1/", "']'"}, Case{"http://[::1]x/", "after ']'"},
        Case{"http://[host]/", "IPv6"}, Case{"http://u:p@h/", "user info"}, Case{"http://h/a b", "space"}}) {
    auto url = Url::parse(c.text);
    ASSERT_FALSE(url.ok()) << c.text;
    EXPECT_NE(url.error().find(c.says), std::string::npos) << c.text << " -> " << url.error();
  }
}

}  // namespace
}  // namespace chaosplus::net
