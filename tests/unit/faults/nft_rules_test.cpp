// The nft rules of the packet faults, as text: what each plan matches, where, and the script's shape.
#include "faults/nft_rules.h"

#include <gtest/gtest.h>

namespace chaosplus::faults::nft {
namespace {

Plan loopback_port(int port) {
  Plan p;
  p.flow.addresses = {"127.0.0.1"};
  p.flow.port = port;
  return p;
}

std::vector<std::string> texts(const Plan& plan) {
  auto rules = rules_for(plan);
  EXPECT_TRUE(rules.ok()) << rules.error();
  std::vector<std::string> out;
  if (rules) {
    for (const auto& r : *rules) out.push_back(r.chain + ": " + r.text);
  }
  return out;
}

TEST(NftRules, BlackholeDropsTcpToThePortWhereItIsReceived) {
  EXPECT_EQ(texts(loopback_port(8080)),
            std::vector<std::string>{"input: ip daddr 127.0.0.1 meta l4proto tcp th dport 8080 drop"});
}

TEST(NftRules, PartitionDropsBothWaysEachInTheChainThatSeesItFirst) {
  Plan p = loopback_port(8080);
  p.outbound = true;
  EXPECT_EQ(texts(p), (std::vector<std::string>{"input: ip daddr 127.0.0.1 meta l4proto tcp th dport 8080 drop",
                                                "output: ip saddr 127.0.0.1 meta l4proto tcp th sport 8080 drop"}));
}

TEST(NftRules, PeerIsTheSourceInboundAndTheDestinationOutbound) {
  Plan p;
  p.flow.addresses = {"10.251.0.2"};
  p.flow.peer = "10.251.0.1";
  p.flow.protocol = Protocol::all;
  p.outbound = true;
  EXPECT_EQ(texts(p), (std::vector<std::string>{"input: ip saddr 10.251.0.1 ip daddr 10.251.0.2 drop",
                                                "output: ip saddr 10.251.0.2 ip daddr 10.251.0.1 drop"}));
}

TEST(NftRules, RejectAnswersTcpWithAReset) {
  Plan p = loopback_port(9000);
  p.action = Action::reject;
  EXPECT_EQ(texts(p),
            std::vector<std::string>{"input: ip daddr 127.0.0.1 meta l4proto tcp th dport 9000 reject with tcp reset"});
}

TEST(NftRules, RejectOfAllProtocolsResetsTcpAndAnswersUdpWithPortUnreachable) {
  Plan p = loopback_port(9000);
  p.action = Action::reject;
  p.flow.protocol = Protocol::all;
  EXPECT_EQ(texts(p),
            (std::vector<std::string>{
                "input: ip daddr 127.0.0.1 meta l4proto tcp th dport 9000 reject with tcp reset",
                "input: ip daddr 127.0.0.1 meta l4proto udp th dport 9000 reject with icmpx type port-unreachable"}));
}

TEST(NftRules, PacketLossMatchesItsShareWithARandomNumber) {
  Plan p = loopback_port(7000);
  p.outbound = true;
  p.per_10000 = 2550;
  EXPECT_EQ(texts(p),
            (std::vector<std::string>{
                "input: ip daddr 127.0.0.1 meta l4proto tcp th dport 7000 numgen random mod 10000 < 2550 drop",
                "output: ip saddr 127.0.0.1 meta l4proto tcp th sport 7000 numgen random mod 10000 < 2550 drop"}));
}

TEST(NftRules, AllProtocolsWithAPortCoverTcpAndUdp) {
  Plan p = loopback_port(53);
  p.flow.protocol = Protocol::all;
  EXPECT_EQ(texts(p), std::vector<std::string>{"input: ip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport 53 drop"});
}

TEST(NftRules, LocalhostGetsOneRuleForEachAddressFamily) {
  Plan p = loopback_port(8080);
  p.flow.addresses = {"127.0.0.1", "::1"};
  EXPECT_EQ(texts(p), (std::vector<std::string>{"input: ip daddr 127.0.0.1 meta l4proto tcp th dport 8080 drop",
                                                "input: ip6 daddr ::1 meta l4proto tcp th dport 8080 drop"}));
}

TEST(NftRules, AddressesOfTheOtherFamilyThanThePeerAreSkipped) {
  Plan p = loopback_port(8080);
  p.flow.addresses = {"127.0.0.1", "::1"};
  p.flow.peer = "::1";
  EXPECT_EQ(texts(p),
            std::vector<std::string>{"input: ip6 saddr ::1 ip6 daddr ::1 meta l4proto tcp th dport 8080 drop"});
}

TEST(NftRules, APlanThatWouldMatchEveryPacketIsRefused) {
  Plan p;
  EXPECT_FALSE(rules_for(p).ok());
}

TEST(NftRules, RejectingOutboundPacketsIsRefused) {
  Plan p = loopback_port(80);
  p.action = Action::reject;
  p.outbound = true;
  EXPECT_FALSE(rules_for(p).ok());
}

TEST(NftRules, OnlyMismatchedFamiliesIsRefused) {
  Plan p = loopback_port(80);
  p.flow.peer = "::1";
  auto r = rules_for(p);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("IP versions"), std::string::npos) << r.error();
}

TEST(NftRules, ScriptIsOneTableWithOneBaseChainPerHookUsed) {
  Plan p = loopback_port(8080);
  p.outbound = true;
  auto script = table_script("chaosplus_42_1_0000abcd", p);
  ASSERT_TRUE(script.ok()) << script.error();
  EXPECT_EQ(*script,
            "table inet chaosplus_42_1_0000abcd {\n"
            "  chain input {\n"
            "    type filter hook input priority -10; policy accept;\n"
            "    ip daddr 127.0.0.1 meta l4proto tcp th dport 8080 drop\n"
            "  }\n"
            "  chain output {\n"
            "    type filter hook output priority -10; policy accept;\n"
            "    ip saddr 127.0.0.1 meta l4proto tcp th sport 8080 drop\n"
            "  }\n"
            "}\n");
}

TEST(NftRules, ScriptOmitsTheOutputChainWhenOnlyInboundPacketsAreMatched) {
  auto script = table_script("chaosplus_42_1_0000abcd", loopback_port(8080));
  ASSERT_TRUE(script.ok());
  EXPECT_EQ(script->find("chain output"), std::string::npos);
}

TEST(NftRules, ScriptRefusesATableNameThatIsNotAFaultTable) {
  EXPECT_FALSE(table_script("filter", loopback_port(8080)).ok());
  EXPECT_FALSE(table_script("chaosplus_1; flush ruleset", loopback_port(8080)).ok());
}

TEST(NftTableNames, AreMadeOfPidSerialAndNonce) {
  EXPECT_EQ(fault_table_name(4242, 7, 0x9f3a2c11), "chaosplus_4242_7_9f3a2c11");
  EXPECT_TRUE(is_fault_table_name(fault_table_name(4242, 7, 0x9f3a2c11)));
}

TEST(NftTableNames, OtherNamesAreNotFaultTables) {
  EXPECT_FALSE(is_fault_table_name("filter"));
  EXPECT_FALSE(is_fault_table_name("chaosplus_"));
  EXPECT_FALSE(is_fault_table_name("chaosplus_1 x"));
  EXPECT_FALSE(is_fault_table_name("chaosplus_1\n"));
  EXPECT_FALSE(is_fault_table_name("docker_chaosplus_1"));
}

TEST(NftAddresses, AreCanonicalised) {
  EXPECT_EQ(*canonical_ip("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(*canonical_ip("0:0::1"), "::1");
  EXPECT_FALSE(canonical_ip("localhost").ok());
  EXPECT_FALSE(canonical_ip("127.0.0.1; flush ruleset").ok());
  EXPECT_FALSE(canonical_ip("").ok());
}

TEST(NftAddresses, NetworksClearTheirHostBits) {
  EXPECT_EQ(*canonical_network("10.0.0.7/24"), "10.0.0.0/24");
  EXPECT_EQ(*canonical_network("10.0.0.7/32"), "10.0.0.7");
  EXPECT_EQ(*canonical_network("fd00::1234/64"), "fd00::/64");
  EXPECT_FALSE(canonical_network("10.0.0.0/33").ok());
  EXPECT_FALSE(canonical_network("10.0.0.0/").ok());
  EXPECT_FALSE(canonical_network("10.0.0.0/8x").ok());
}

TEST(NftAddresses, LoopbackIs127Slash8AndColonColon1) {
  EXPECT_TRUE(is_loopback_address("127.0.0.1"));
  EXPECT_TRUE(is_loopback_address("127.1.2.3"));
  EXPECT_TRUE(is_loopback_address("127.0.0.0/8"));
  EXPECT_FALSE(is_loopback_address("0.0.0.0/0"));
  EXPECT_TRUE(is_loopback_address("::1"));
  EXPECT_FALSE(is_loopback_address("10.251.0.1"));
  EXPECT_FALSE(is_loopback_address("::"));
}

TEST(NftListings, TablesOfAFamilyAreReadFromNftJson) {
  const std::string json = R"({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}},)"
                           R"( {"table": {"family": "inet", "name": "chaosplus_1_1_00000001", "handle": 3}},)"
                           R"( {"table": {"family": "ip", "name": "nat", "handle": 4}}]})";
  auto names = tables_in(json, "inet");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"chaosplus_1_1_00000001"});
  EXPECT_FALSE(tables_in("not json", "inet").ok());
}

TEST(NftListings, RulesOfATableAreCounted) {
  const std::string json = R"({"nftables": [{"metainfo": {}}, {"table": {"family": "inet", "name": "t"}},)"
                           R"( {"chain": {"name": "input"}}, {"rule": {"handle": 2}}, {"rule": {"handle": 3}}]})";
  EXPECT_EQ(*rule_count(json), 2);
}

}  // namespace
}  // namespace chaosplus::faults::nft
