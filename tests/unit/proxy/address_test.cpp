#include "proxy/address.h"

#include <gtest/gtest.h>

namespace chaosplus::proxy {
namespace {

TEST(ParseHostPort, ReadsHostAndPort) {
  auto parsed = parse_host_port("127.0.0.1:8080");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 8080);
}

TEST(ParseHostPort, ReadsBracketedIpv6) {
  auto parsed = parse_host_port("[::1]:0");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 0);
}

TEST(ParseHostPort, RejectsWhatIsNotHostColonPort) {
  for (const char* bad : {"", "localhost", ":80", "host:", "host:x", "host:70000", "::1:80", "[::1]80"}) {
    auto parsed = parse_host_port(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().find("host:port"), std::string::npos);
    }
  }
}

TEST(SocketAddress, KnowsLoopbackFromOtherAddresses) {
  auto loopback4 = resolve({"127.0.0.1", 1});
  auto loopback6 = resolve({"::1", 1});
  auto any = resolve({"0.0.0.0", 1});
  auto other = resolve({"192.0.2.7", 1});
  ASSERT_TRUE(loopback4.ok() && loopback6.ok() && any.ok() && other.ok());
  EXPECT_TRUE(loopback4->is_loopback());
  EXPECT_TRUE(loopback6->is_loopback());
  EXPECT_FALSE(any->is_loopback());
  EXPECT_FALSE(other->is_loopback());
  EXPECT_EQ(loopback6->to_string(), "[::1]:1");
  EXPECT_EQ(other->to_string(), "192.0.2.7:1");
}

}  // namespace
}  // namespace chaosplus::proxy
