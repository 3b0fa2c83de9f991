#include "core/allowed_hosts.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace chaosplus {
namespace {

TEST(AllowedHosts, AllowsLoopbackAndLocalhostWithNothingAdded) {
  AllowedHosts list;
  for (const char* host : {"127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost", "LocalHost"}) {
    EXPECT_TRUE(list.allows_host(host)) << host;
  }
  EXPECT_FALSE(list.allows_host("10.77.0.11"));
  EXPECT_FALSE(list.allows_host("example.com"));
}

TEST(AllowedHosts, AllowsAddressesInsideAnAddedNetworkOnly) {
  AllowedHosts list;
  ASSERT_TRUE(list.add("10.77.0.0/24", "test"));
  EXPECT_TRUE(list.allows_host("10.77.0.1"));
  EXPECT_TRUE(list.allows_host("10.77.0.255"));
  EXPECT_FALSE(list.allows_host("10.77.1.1"));
  EXPECT_FALSE(list.allows_host("10.78.0.1"));
  EXPECT_TRUE(list.allows_address("10.77.0.128/25"));
  EXPECT_FALSE(list.allows_address("10.77.0.0/16")) << "a wider network than the one allowed";
}

TEST(AllowedHosts, AllowsASingleAddressButNotItsNeighbours) {
  AllowedHosts list;
  ASSERT_TRUE(list.add("192.168.1.5", "test"));
  EXPECT_TRUE(list.allows_host("192.168.1.5"));
  EXPECT_TRUE(list.allows_host("::ffff:192.168.1.5")) << "the same address written as IPv6";
  EXPECT_FALSE(list.allows_host("192.168.1.4"));
  EXPECT_FALSE(list.allows_host("192.168.1.6"));
}

TEST(AllowedHosts, AllowsIpv6NetworksWithBracketsInHosts) {
  AllowedHosts list;
  ASSERT_TRUE(list.add("fd00:77::/64", "test"));
  EXPECT_TRUE(list.allows_host("[fd00:77::11]"));
  EXPECT_TRUE(list.allows_host("fd00:77::ffff"));
  EXPECT_FALSE(list.allows_host("fd00:78::1"));
}

TEST(AllowedHosts, RefusesNamesEvenWhenTheListIsWide) {
  AllowedHosts list;
  ASSERT_TRUE(list.add("0.0.0.0/0", "test"));
  EXPECT_TRUE(list.allows_host("203.0.113.9"));
  EXPECT_FALSE(list.allows_host("db.example.com"));
  EXPECT_FALSE(list.allows_host("localhost.example.com"));
}

TEST(AllowedHosts, RejectsEntriesThatAreNotAddressesAndNamesTheSource) {
  AllowedHosts list;
  for (const char* entry : {"db.example.com", "10.0.0.0/33", "10.0.0.1/", "::1/129", "", "10.0.0.0/8x"}) {
    auto added = list.add(entry, "config.yaml:3");
    ASSERT_FALSE(added) << entry;
    EXPECT_NE(added.error().find("config.yaml:3"), std::string::npos) << added.error();
  }
  EXPECT_EQ(list.describe(), "loopback (127.0.0.0/8, ::1, localhost)");
}

TEST(AllowedHosts, ReadsACommaSeparatedList) {
  AllowedHosts list;
  ASSERT_TRUE(list.add_list(" 10.1.0.0/16 , 192.168.7.7,,", "$CHAOSPLUS_ALLOW"));
  EXPECT_TRUE(list.allows_host("10.1.2.3"));
  EXPECT_TRUE(list.allows_host("192.168.7.7"));
  EXPECT_NE(list.describe().find("192.168.7.7 ($CHAOSPLUS_ALLOW)"), std::string::npos) << list.describe();
  EXPECT_FALSE(list.add_list("10.1.0.0/16,nope", "$CHAOSPLUS_ALLOW"));
}

TEST(AllowedHosts, JudgesResolvedSocketAddresses) {
  AllowedHosts list;
  ASSERT_TRUE(list.add("10.77.0.0/24", "test"));
  sockaddr_storage storage{};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  v4->sin_family = AF_INET;
  ASSERT_EQ(::inet_pton(AF_INET, "10.77.0.9", &v4->sin_addr), 1);
  EXPECT_TRUE(list.allows_address(storage));
  ASSERT_EQ(::inet_pton(AF_INET, "10.77.3.9", &v4->sin_addr), 1);
  EXPECT_FALSE(list.allows_address(storage));
  ASSERT_EQ(::inet_pton(AF_INET, "127.0.0.1", &v4->sin_addr), 1);
  EXPECT_TRUE(list.allows_address(storage));
}

TEST(AllowedHosts, ClearGoesBackToLoopbackOnly) {
  AllowedHosts list;
  ASSERT_TRUE(list.add("10.77.0.0/24", "test"));
  list.clear();
  EXPECT_FALSE(list.allows_host("10.77.0.1"));
  EXPECT_TRUE(list.allows_host("127.0.0.1"));
}

}  // namespace
}  // namespace chaosplus
