// Kernel fault parameters and targets -> what the fault acts on; the guards that keep it on loopback
// ports of the host or inside namespaces chaosplus creates. No system call is made here.
#include <gtest/gtest.h>

#include "faults/netns.h"
#include "faults/nft_faults.h"
#include "faults/tbf_fault.h"

namespace chaosplus::faults {
namespace {

spec::Target endpoint_target(const std::string& host, int port) {
  spec::Target t;
  t.name = "tokens";
  t.endpoint = spec::Endpoint{host, port};
  return t;
}

spec::Fault fault(const std::string& type, std::map<std::string, std::string> params = {}) {
  spec::Fault f;
  f.type = type;
  f.target = "tokens";
  f.params = std::move(params);
  return f;
}

TEST(NftSetup, ActsOnTheTargetsEndpointByDefault) {
  auto s = nft_setup(fault("blackhole_port"), endpoint_target("127.0.0.1", 8080));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->netns, "");
  EXPECT_EQ(s->plan.flow.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(s->plan.flow.port, 8080);
  EXPECT_TRUE(s->plan.inbound);
  EXPECT_FALSE(s->plan.outbound);
  EXPECT_EQ(s->what, "127.0.0.1:8080");
}

TEST(NftSetup, LocalhostMeansBothLoopbackAddresses) {
  auto s = nft_setup(fault("reject"), endpoint_target("localhost", 8080));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->plan.flow.addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(s->plan.action, nft::Action::reject);
}

TEST(NftSetup, PartitionAndPacketLossActBothWays) {
  auto p = nft_setup(fault("partition"), endpoint_target("127.0.0.1", 80));
  auto l = nft_setup(fault("packet_loss", {{"share", "30%"}}), endpoint_target("127.0.0.1", 80));
  ASSERT_TRUE(p.ok() && l.ok());
  EXPECT_TRUE(p->plan.inbound && p->plan.outbound);
  EXPECT_TRUE(l->plan.inbound && l->plan.outbound);
  EXPECT_EQ(l->plan.per_10000, 3000);
}

TEST(NftSetup, PacketLossTakesAPercentageOrTheFractionTheLoaderStores) {
  auto t = endpoint_target("127.0.0.1", 80);
  EXPECT_EQ(nft_setup(fault("packet_loss", {{"share", "0.5%"}}), t)->plan.per_10000, 50);
  EXPECT_EQ(nft_setup(fault("packet_loss", {{"share", "0.25"}}), t)->plan.per_10000, 2500);
  EXPECT_EQ(nft_setup(fault("packet_loss", {{"share", "1"}}), t)->plan.per_10000, 10000);
  EXPECT_EQ(nft_setup(fault("packet_loss", {{"share", "0%"}}), t)->plan.per_10000, 0);
  EXPECT_FALSE(nft_setup(fault("packet_loss", {{"share", "101%"}}), t).ok());
  EXPECT_FALSE(nft_setup(fault("packet_loss", {{"share", "25"}}), t).ok()) << "a fraction above 1";
  EXPECT_FALSE(nft_setup(fault("packet_loss", {{"share", "lots"}}), t).ok());
  EXPECT_FALSE(nft_setup(fault("packet_loss"), t).ok());
}

TEST(NftSetup, PortAddressAndProtocolParametersOverrideTheEndpoint) {
  auto s = nft_setup(fault("blackhole_port", {{"port", "9999"}, {"address", "::1"}, {"protocol", "udp"}}),
                     endpoint_target("127.0.0.1", 80));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->plan.flow.addresses, std::vector<std::string>{"::1"});
  EXPECT_EQ(s->plan.flow.port, 9999);
  EXPECT_EQ(s->plan.flow.protocol, nft::Protocol::udp);
  EXPECT_EQ(s->what, "[::1]:9999/udp");
}

TEST(NftSetup, OnTheHostANonLoopbackAddressIsRefused) {
  auto s = nft_setup(fault("partition", {{"address", "192.0.2.2"}}), endpoint_target("127.0.0.1", 22));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("not a loopback address"), std::string::npos) << s.error();
}

TEST(NftSetup, OnTheHostANonLoopbackPeerIsRefused) {
  EXPECT_FALSE(nft_setup(fault("partition", {{"peer", "10.0.0.0/8"}}), endpoint_target("127.0.0.1", 22)).ok());
}

TEST(NftSetup, OnTheHostAFaultWithoutAPortIsRefused) {
  auto s = nft_setup(fault("partition", {{"port", "any"}}), endpoint_target("127.0.0.1", 22));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("must name a port"), std::string::npos) << s.error();
}

TEST(NftSetup, InAProjectNamespaceAWholeAddressMayBePartitioned) {
  spec::Target bare;
  bare.name = "tokens";
  auto s = nft_setup(
      fault("partition", {{"namespace", "chaosplus-lab-b"}, {"address", "10.251.0.2"}, {"peer", "10.251.0.1"}}), bare);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->netns, "chaosplus-lab-b");
  EXPECT_EQ(s->plan.flow.port, 0);
  EXPECT_EQ(s->plan.flow.peer, "10.251.0.1");
}

TEST(NftSetup, ANamespaceChaosplusDoesNotCreateIsRefused) {
  auto s = nft_setup(fault("partition", {{"namespace", "docker-abc"}}), endpoint_target("127.0.0.1", 80));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("not one chaosplus creates"), std::string::npos) << s.error();
}

TEST(NftSetup, BadParametersAreRefusedWithTheirName) {
  auto t = endpoint_target("127.0.0.1", 80);
  EXPECT_FALSE(nft_setup(fault("reject", {{"port", "70000"}}), t).ok());
  EXPECT_FALSE(nft_setup(fault("reject", {{"port", "80; flush ruleset"}}), t).ok());
  EXPECT_FALSE(nft_setup(fault("reject", {{"protocol", "icmp"}}), t).ok());
  auto s = nft_setup(fault("reject", {{"address", "example.com"}}), t);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find("address"), std::string::npos);
}

TEST(NftSetup, EmptyParametersAsTheLoaderStoresUnwrittenOnesMeanNotGiven) {
  auto s = nft_setup(
      fault("partition", {{"address", ""}, {"port", ""}, {"peer", ""}, {"namespace", ""}, {"protocol", "tcp"}}),
      endpoint_target("127.0.0.1", 8080));
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->what, "127.0.0.1:8080");
  EXPECT_EQ(s->plan.flow.peer, "");
}

TEST(NftSetup, ATargetWithoutEndpointNeedsAnAddressAndPort) {
  spec::Target bare;
  bare.name = "tokens";
  EXPECT_FALSE(nft_setup(fault("blackhole_port"), bare).ok());
  EXPECT_TRUE(nft_setup(fault("blackhole_port", {{"address", "127.0.0.1"}, {"port", "81"}}), bare).ok());
}

TEST(ProjectNamespaces, AreNamedWithThePrefix) {
  EXPECT_TRUE(is_project_namespace("chaosplus-lab-1-a"));
  EXPECT_FALSE(is_project_namespace("chaosplus-"));
  EXPECT_FALSE(is_project_namespace("lab"));
  EXPECT_FALSE(is_project_namespace("chaosplus-../../etc"));
  EXPECT_FALSE(is_project_namespace("chaosplus-a b"));
}

TEST(InterfaceNames, FollowLinuxRules) {
  EXPECT_TRUE(is_valid_interface_name("cpb0"));
  EXPECT_TRUE(is_valid_interface_name("lo"));
  EXPECT_FALSE(is_valid_interface_name(""));
  EXPECT_FALSE(is_valid_interface_name("a-name-longer-than-15"));
  EXPECT_FALSE(is_valid_interface_name("eth0 root"));
  EXPECT_FALSE(is_valid_interface_name(".."));
}

TEST(NamespaceCommands, AreWrappedInIpNetnsExecOnlyForANamedNamespace) {
  EXPECT_EQ(in_namespace("", {"nft", "list", "ruleset"}), (std::vector<std::string>{"nft", "list", "ruleset"}));
  auto wrapped = in_namespace("chaosplus-x", {"no-such-tool-here", "list"});
  EXPECT_EQ(wrapped, (std::vector<std::string>{"ip", "netns", "exec", "chaosplus-x", "no-such-tool-here", "list"}));
}

TEST(NamespaceCommands, NameTheCommandByItsFullPathSinceIpNetnsExecSearchesOnlyPath) {
  auto wrapped = in_namespace("chaosplus-x", {"sh", "-c", "true"});
  ASSERT_EQ(wrapped.size(), 7u);
  EXPECT_TRUE(wrapped[4].starts_with("/") && wrapped[4].ends_with("/sh")) << wrapped[4];
}

spec::Fault limit(std::map<std::string, std::string> params) { return fault("bandwidth_limit", std::move(params)); }

TEST(TbfPlan, TakesRateInBytesPerSecondAndDefaultsTheBurst) {
  auto p =
      tbf_plan(limit({{"namespace", "chaosplus-lab-b"}, {"interface", "cpb0"}, {"rate", "1000000"}}), 1500, 0x1a2b);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->rate, 1000000u);
  EXPECT_EQ(p->burst, 20000u);  // 20 ms of rate, more than two frames
  EXPECT_EQ(tbf_add_command(*p),
            (std::vector<std::string>{"tc", "-n", "chaosplus-lab-b", "qdisc", "add", "dev", "cpb0", "root", "handle",
                                      "1a2b:", "tbf", "rate", "8000000bit", "burst", "20000", "latency", "300ms"}));
}

TEST(TbfPlan, AnEmptyBurstAsTheLoaderStoresItMeansTheDefault) {
  auto p =
      tbf_plan(limit({{"namespace", "chaosplus-lab-b"}, {"interface", "cpb0"}, {"rate", "1000000"}, {"burst", ""}}),
               1500, 0x100);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->burst, 20000u);
}

TEST(TbfPlan, BurstIsAtLeastTwoFramesAtLowRates) {
  auto p = tbf_plan(limit({{"namespace", "chaosplus-lab-b"}, {"interface", "lo"}, {"rate", "8KB/s"}}), 65536, 0x100);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->rate, 8000u);
  EXPECT_EQ(p->burst, 2u * (65536 + 64));
}

TEST(TbfPlan, ABurstSmallerThanAFrameIsRefused) {
  auto p =
      tbf_plan(limit({{"namespace", "chaosplus-lab-b"}, {"interface", "cpb0"}, {"rate", "1000"}, {"burst", "1KB"}}),
               1500, 0x100);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("smaller than one frame"), std::string::npos) << p.error();
}

TEST(TbfPlan, TheHostsOwnInterfacesAreNeverShaped) {
  auto p = tbf_plan(limit({{"interface", "eth0"}, {"rate", "1000"}}), 1500, 0x100);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().find("never shaped"), std::string::npos) << p.error();
  EXPECT_FALSE(tbf_plan(limit({{"namespace", "default"}, {"interface", "eth0"}, {"rate", "1000"}}), 1500, 0x100).ok());
}

TEST(TbfPlan, RefusesBadInterfaceNamesAndRates) {
  EXPECT_FALSE(
      tbf_plan(limit({{"namespace", "chaosplus-x"}, {"interface", "eth0 root"}, {"rate", "1000"}}), 1500, 0x100).ok());
  EXPECT_FALSE(tbf_plan(limit({{"namespace", "chaosplus-x"}, {"interface", "cpb0"}, {"rate", "0"}}), 1500, 0x100).ok());
  EXPECT_FALSE(tbf_plan(limit({{"namespace", "chaosplus-x"}, {"interface", "cpb0"}}), 1500, 0x100).ok());
}

TEST(TbfQdisc, HandlesAreWrittenInHexAsTcDoes) {
  EXPECT_EQ(qdisc_handle(0x7a3c), "7a3c:");
  EXPECT_EQ(qdisc_handle(0x100), "100:");
}

TEST(TbfQdisc, TheRootQdiscIsReadFromTcJson) {
  auto ours = parse_root_qdisc(R"([{"kind":"tbf","handle":"7a3c:","root":true,"refcnt":3,"options":{}}])");
  ASSERT_TRUE(ours.ok());
  EXPECT_EQ(ours->kind, "tbf");
  EXPECT_FALSE(ours->is_default());
  auto fresh = parse_root_qdisc(R"([{"kind":"noqueue","handle":"0:","root":true,"refcnt":2,"options":{}}])");
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->is_default());
  EXPECT_FALSE(parse_root_qdisc("[]").ok());
}

TEST(TbfQdisc, TheMtuIsReadFromIpJson) {
  EXPECT_EQ(*parse_mtu(R"([{"ifindex":2,"ifname":"cpb0","mtu":1500}])"), 1500);
  EXPECT_FALSE(parse_mtu("[]").ok());
}

}  // namespace
}  // namespace chaosplus::faults
