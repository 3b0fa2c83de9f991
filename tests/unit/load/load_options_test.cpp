#include "load/load_options.h"

#include <gtest/gtest.h>

#include "core/allowed_hosts.h"
#include "support/support.h"

namespace chaosplus::load {
namespace {

TEST(CheckLoopbackHost, AcceptsWhatTheOneLoopbackRuleAccepts) {
  for (const char* host : {"127.0.0.1", "127.255.255.255", "::1", "::ffff:127.0.0.1", "localhost", "LocalHost"}) {
    EXPECT_TRUE(check_loopback_host(host).ok()) << host;
  }
}

TEST(CheckLoopbackHost, SaysWhyAHostIsRefused) {
  const auto address = check_loopback_host("10.0.0.1");
  ASSERT_FALSE(address.ok());
  EXPECT_EQ(address.error(), "refusing to send load to 10.0.0.1: not on the allow-list; " + allow_hint());
  const auto name = check_loopback_host("localhost.evil.com");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.error(),
            "refusing to send load to 'localhost.evil.com': a name, expected an IP literal or localhost; " + allow_hint());
  for (const char* host : {"", "0.0.0.0", "::", "128.0.0.1", "::ffff:10.0.0.1"}) {
    EXPECT_FALSE(check_loopback_host(host).ok()) << host;
  }
}

TEST(LoadOptions, RefusesAUrlOffLoopbackAndTakesAMappedLoopbackOne) {
  LoadOptions o;
  o.url = "http://192.0.2.1:8080/";
  const auto off = o.validate();
  ASSERT_FALSE(off.ok());
  EXPECT_NE(off.error().find("not on the allow-list"), std::string::npos) << off.error();
  o.url = "http://[::ffff:127.0.0.1]:8080/";
  EXPECT_TRUE(o.validate().ok()) << o.validate().error();
  o.source_addresses = {"10.0.0.1"};
  const auto source = o.validate();
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().rfind("source address: ", 0), 0u) << source.error();
}

TEST(SourcePortWarning, NoneWhileEachAddressUsesAtMostHalfItsPorts) {
  const PortRange range{32768, 60999};  // 28,232 ports
  EXPECT_FALSE(source_port_warning(14'116, 0, range));
  EXPECT_FALSE(source_port_warning(60'000, 8, range));  // 7,500 per address
}

TEST(SourcePortWarning, NamesTheAddressesNeededWhenAnAddressPassesHalf) {
  const PortRange range{32768, 60999};
  const auto one = source_port_warning(20'000, 0, range);
  ASSERT_TRUE(one);
  EXPECT_NE(one->find("20000 connections per source address"), std::string::npos) << *one;
  const auto three = source_port_warning(60'000, 3, range);  // 20,000 per address
  ASSERT_TRUE(three);
  // A third of the range (9,410) per address: 7 addresses.
  EXPECT_NE(three->find("at least 7 addresses"), std::string::npos) << *three;
  EXPECT_NE(three->find("127.0.0.2-127.0.0.8"), std::string::npos) << *three;
}

TEST(SourcePortWarning, ReadsTheRangeFromProcfsFormat) {
  testing::TempDir dir;
  const std::string path = dir.file("range");
  testing::write_file(path, "1024\t65535\n");
  const auto r = read_local_port_range(path);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->low, 1024);
  EXPECT_EQ(r->high, 65535);
  EXPECT_EQ(r->size(), 64512);
  testing::write_file(path, "garbage\n");
  EXPECT_FALSE(read_local_port_range(path));
  EXPECT_FALSE(read_local_port_range(dir.file("missing")));
}

}  // namespace
}  // namespace chaosplus::load
