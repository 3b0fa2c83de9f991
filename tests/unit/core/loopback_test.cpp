#include "core/loopback.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

namespace chaosplus {
namespace {

TEST(IsLoopbackHost, AcceptsTheWhole127NetworkFromFirstToLastAddress) {
  for (const char* host : {"127.0.0.0", "127.0.0.1", "127.0.0.2", "127.1.2.3", "127.255.255.254", "127.255.255.255"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
}

TEST(IsLoopbackHost, AcceptsIpv6LoopbackInEveryWrittenForm) {
  for (const char* host : {"::1", "[::1]", "0:0:0:0:0:0:0:1", "0000::0001"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
}

// Decided: IPv4 loopback written as an IPv4-mapped IPv6 address is loopback (a socket connecting
// to it reaches 127.x), so every module accepts it alike.
TEST(IsLoopbackHost, AcceptsIpv4LoopbackMappedIntoIpv6) {
  for (const char* host : {"::ffff:127.0.0.1", "[::ffff:127.0.0.1]", "::FFFF:127.255.255.255", "::ffff:7f00:1"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
}

TEST(IsLoopbackHost, AcceptsLocalhostInAnyLetterCase) {
  for (const char* host : {"localhost", "LocalHost", "LOCALHOST"}) EXPECT_TRUE(is_loopback_host(host)) << host;
}

TEST(IsLoopbackHost, RefusesEverythingElse) {
  for (const char* host : {"",
                           "0.0.0.0",
                           "::",
                           "[::]",
                           "128.0.0.1",
                           "126.255.255.255",
                           "10.0.0.1",
                           "10.127.0.1",
                           "192.168.1.1",
                           "::2",
                           "::ffff:10.0.0.1",
                           "::ffff:128.0.0.1",
                           "::127.0.0.1",
                           "1.127.0.0",
                           "localhost.evil.com",
                           "localhost.",
                           "evil-localhost",
                           "localhost:80",
                           "example.com",
                           "127.0.0.1.nip.io",
                           "127.1",
                           "127.0.0.1 ",
                           " 127.0.0.1",
                           "[127.0.0.1]",
                           "[::1",
                           "::1]",
                           "127.0.0.1/8"}) {
    EXPECT_FALSE(is_loopback_host(host)) << "'" << host << "'";
  }
}

TEST(IsLoopbackHost, RefusesATextWithAnEmbeddedNul) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(is_loopback_host("127.0.0.1\0.evil.com"sv));
  EXPECT_FALSE(is_loopback_host("localhost\0"sv));
  EXPECT_FALSE(is_loopback_host(std::string(100, '1')));
}

TEST(IsLocalhostName, IsTheOneNameOnly) {
  EXPECT_TRUE(is_localhost_name("localhost"));
  EXPECT_TRUE(is_localhost_name("LOCALhost"));
  EXPECT_FALSE(is_localhost_name("localhost."));
  EXPECT_FALSE(is_localhost_name("127.0.0.1"));
  EXPECT_FALSE(is_localhost_name(""));
}

TEST(IsIpLiteral, ReadsBothFamiliesAndNoNames) {
  EXPECT_TRUE(is_ip_literal("10.0.0.1"));
  EXPECT_TRUE(is_ip_literal("::"));
  EXPECT_TRUE(is_ip_literal("::ffff:10.0.0.1"));
  EXPECT_FALSE(is_ip_literal("localhost"));
  EXPECT_FALSE(is_ip_literal("[::1]"));
  EXPECT_FALSE(is_ip_literal(""));
}

TEST(IsLoopbackAddress, AcceptsLoopbackAddressesAndNetworksWhollyInsideIt) {
  for (const char* a : {"127.0.0.1", "127.255.255.255", "::1", "::ffff:127.0.0.1", "127.0.0.0/8", "127.1.0.0/16",
                        "127.0.0.1/32", "::1/128", "::ffff:127.0.0.0/104", "::ffff:127.0.0.1/128"}) {
    EXPECT_TRUE(is_loopback_address(a)) << a;
  }
}

TEST(IsLoopbackAddress, RefusesNamesOtherAddressesAndNetworksReachingOutside) {
  for (const char* a : {"", "localhost", "[::1]", "0.0.0.0", "::", "128.0.0.1", "10.1.2.3", "0.0.0.0/0", "127.0.0.0/7",
                        "126.0.0.0/7", "::1/127", "::/0", "::ffff:127.0.0.0/103", "127.0.0.1/", "127.0.0.1/x",
                        "127.0.0.1/33", "::1/129", "127.0.0.1/-1", "127.0.0.1/8/8"}) {
    EXPECT_FALSE(is_loopback_address(a)) << a;
  }
}

sockaddr_storage v4(const char* text) {
  sockaddr_storage s{};
  auto* in = reinterpret_cast<sockaddr_in*>(&s);
  in->sin_family = AF_INET;
  EXPECT_EQ(::inet_pton(AF_INET, text, &in->sin_addr), 1) << text;
  return s;
}

sockaddr_storage v6(const char* text) {
  sockaddr_storage s{};
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
  in6->sin6_family = AF_INET6;
  EXPECT_EQ(::inet_pton(AF_INET6, text, &in6->sin6_addr), 1) << text;
  return s;
}

TEST(IsLoopbackSocketAddress, FollowsTheSameRuleAsTheText) {
  EXPECT_TRUE(is_loopback_address(v4("127.0.0.1")));
  EXPECT_TRUE(is_loopback_address(v4("127.255.255.255")));
  EXPECT_TRUE(is_loopback_address(v6("::1")));
  EXPECT_TRUE(is_loopback_address(v6("::ffff:127.0.0.1")));
  EXPECT_FALSE(is_loopback_address(v4("0.0.0.0")));
  EXPECT_FALSE(is_loopback_address(v4("128.0.0.1")));
  EXPECT_FALSE(is_loopback_address(v6("::")));
  EXPECT_FALSE(is_loopback_address(v6("::ffff:10.0.0.1")));
  sockaddr_storage unix_socket{};
  unix_socket.ss_family = AF_UNIX;
  EXPECT_FALSE(is_loopback_address(unix_socket));
}

}  // namespace
}  // namespace chaosplus
