#pragma once
// The nftables rules of the packet faults, as plain text, with no system call: which packets a fault
// acts on (an endpoint's addresses and port, optionally one peer, a protocol), where each is matched,
// and the script that adds them all in one table of the fault's own, so removing that table removes
// exactly what the fault added and nothing else in the rule set.
//
// Each packet is matched once: packets *to* the endpoint in an `input` hook chain (where they are
// received), packets *from* it in an `output` hook chain (where they are sent). On loopback a
// packet passes both hooks, but a packet to the endpoint never has the endpoint as its source, so a
// share-of-packets rule is not applied twice.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/loopback.h"
#include "core/result.h"
#include "spec/kernel_params.h"

namespace chaosplus::faults::nft {

enum class Protocol { tcp, udp, all };  // all: every protocol; with a port, TCP and UDP
enum class Action { drop, reject };     // reject: TCP reset for TCP, ICMP unreachable otherwise

struct Flow {
  std::vector<std::string> addresses;  // the endpoint's addresses (canonical IP literals); empty = any
  int port = 0;                        // the endpoint's port; 0 = any
  std::string peer;                    // the other side: canonical IP or network; empty = anyone
  Protocol protocol = Protocol::tcp;
};

struct Plan {
  Flow flow;
  bool inbound = true;    // packets to the endpoint
  bool outbound = false;  // packets from the endpoint
  Action action = Action::drop;
  int per_10000 = 10000;  // share of the matching packets acted on (numgen random), 0..10000
};

struct Rule {
  std::string chain;  // "input" or "output"
  std::string text;   // "ip daddr 127.0.0.1 meta l4proto tcp th dport 8080 drop"
};

inline constexpr std::string_view kFamily = "inet";
inline constexpr int kChainPriority = -10;  // just before the usual filter chains; a drop is final anyway

// The rules of `plan`, in order. An error for a plan that would match every packet, reject outbound
// packets, or mix address families so that nothing could match.
Result<std::vector<Rule>> rules_for(const Plan& plan);

// The script for `nft -f` that creates table `inet <table>` with the plan's base chains and rules,
// applied by nft as one transaction: all of it or nothing.
Result<std::string> table_script(std::string_view table, const Plan& plan);

// Table names of faults: "chaosplus_<pid>_<serial>_<nonce as 8 hex digits>".
std::string fault_table_name(int pid, unsigned serial, std::uint32_t nonce);
// Only tables named like that are ever deleted, whatever a ledger record says.
bool is_fault_table_name(std::string_view name);

// IP addresses and networks as the experiment loader reads them (spec/kernel_params.h).
using chaosplus::is_loopback_address;  // core/loopback.h: the one loopback rule
using spec::canonical_ip;
using spec::canonical_network;
using spec::is_ipv6;

// The names of the tables of `family` in the output of `nft -j list tables`.
Result<std::vector<std::string>> tables_in(std::string_view list_tables_json, std::string_view family);
// The number of rules in the output of `nft -j list table <family> <name>`.
Result<int> rule_count(std::string_view list_table_json);

}  // namespace chaosplus::faults::nft
