#include "faults/nft_rules.h"

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace chaosplus::faults::nft {
namespace {

constexpr std::string_view kTablePrefix = "chaosplus_";

std::string address_family(std::string_view canonical) { return is_ipv6(canonical) ? "ip6" : "ip"; }

// One protocol clause and the verdict that goes with it.
struct Variant {
  std::string l4;  // "meta l4proto tcp", "" for any
  std::string verdict;
};

std::vector<Variant> variants(const Plan& plan) {
  const Flow& f = plan.flow;
  if (plan.action == Action::drop) {
    switch (f.protocol) {
      case Protocol::tcp: return {{"meta l4proto tcp", "drop"}};
      case Protocol::udp: return {{"meta l4proto udp", "drop"}};
      case Protocol::all: return {{f.port != 0 ? "meta l4proto { tcp, udp }" : "", "drop"}};
    }
  }
  const std::string tcp_reset = "reject with tcp reset";
  const std::string unreachable = "reject with icmpx type port-unreachable";
  switch (f.protocol) {
    case Protocol::tcp: return {{"meta l4proto tcp", tcp_reset}};
    case Protocol::udp: return {{"meta l4proto udp", unreachable}};
    case Protocol::all:
      if (f.port != 0) return {{"meta l4proto tcp", tcp_reset}, {"meta l4proto udp", unreachable}};
      return {{"meta l4proto tcp", tcp_reset}, {"meta l4proto != tcp", "reject with icmpx type admin-prohibited"}};
  }
  return {};
}

void append(std::string& text, std::string_view part) {
  if (part.empty()) return;
  if (!text.empty()) text += ' ';
  text += part;
}

}  // namespace

Result<std::vector<Rule>> rules_for(const Plan& plan) {
  const Flow& f = plan.flow;
  if (f.addresses.empty() && f.port == 0 && f.peer.empty()) {
    return Error{"the fault names no address, port or peer: it would act on every packet"};
  }
  if (f.port < 0 || f.port > 65535) return Error{"port " + std::to_string(f.port) + " is out of range"};
  if (plan.per_10000 < 0 || plan.per_10000 > 10000) return Error{"share of packets out of range"};
  if (!plan.inbound && !plan.outbound) return Error{"the fault acts on no direction"};
  if (plan.action == Action::reject && plan.outbound) {
    return Error{"reject answers packets sent to the endpoint; it cannot act on packets it sends"};
  }
  // An empty address list means "any address": one pass with no address clause.
  std::vector<std::string> addresses = f.addresses;
  if (addresses.empty()) addresses.emplace_back();

  std::vector<Rule> rules;
  for (const bool inbound : {true, false}) {
    if (inbound ? !plan.inbound : !plan.outbound) continue;
    for (const std::string& address : addresses) {
      if (!address.empty() && !f.peer.empty() && is_ipv6(address) != is_ipv6(f.peer)) continue;
      const std::string& source = inbound ? f.peer : address;
      const std::string& destination = inbound ? address : f.peer;
      for (const Variant& v : variants(plan)) {
        std::string text;
        if (!source.empty()) append(text, address_family(source) + " saddr " + source);
        if (!destination.empty()) append(text, address_family(destination) + " daddr " + destination);
        append(text, v.l4);
        if (f.port != 0) append(text, std::string(inbound ? "th dport " : "th sport ") + std::to_string(f.port));
        if (plan.per_10000 < 10000) append(text, "numgen random mod 10000 < " + std::to_string(plan.per_10000));
        append(text, v.verdict);
        rules.push_back({inbound ? "input" : "output", std::move(text)});
      }
    }
  }
  if (rules.empty()) {
    return Error{"the endpoint's addresses and the peer " + f.peer +
                 " are of different IP versions: nothing could match"};
  }
  return rules;
}

Result<std::string> table_script(std::string_view table, const Plan& plan) {
  if (!is_fault_table_name(table)) return Error{"'" + std::string(table) + "' is not a fault table name"};
  auto rules = rules_for(plan);
  if (!rules) return Error{rules.error()};
  // nft 1.0.6 wants a line break before a closing brace, so the script is one statement per line.
  std::string script = "table " + std::string(kFamily) + " " + std::string(table) + " {\n";
  for (const char* chain : {"input", "output"}) {
    bool any = false;
    for (const Rule& r : *rules) any = any || r.chain == chain;
    if (!any) continue;
    script += std::string("  chain ") + chain + " {\n";
    script += std::string("    type filter hook ") + chain + " priority " + std::to_string(kChainPriority) +
              "; policy accept;\n";
    for (const Rule& r : *rules) {
      if (r.chain == chain) script += "    " + r.text + "\n";
    }
    script += "  }\n";
  }
  script += "}\n";
  return script;
}

std::string fault_table_name(int pid, unsigned serial, std::uint32_t nonce) {
  std::array<char, 9> hex{};
  std::snprintf(hex.data(), hex.size(), "%08x", nonce);
  return std::string(kTablePrefix) + std::to_string(pid) + "_" + std::to_string(serial) + "_" + hex.data();
}

bool is_fault_table_name(std::string_view name) {
  if (!name.starts_with(kTablePrefix) || name.size() > 64) return false;
  std::string_view rest = name.substr(kTablePrefix.size());
  if (rest.empty()) return false;
  for (char c : rest) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '_')) return false;
  }
  return true;
}

Result<std::vector<std::string>> tables_in(std::string_view list_tables_json, std::string_view family) {
  auto j = nlohmann::json::parse(list_tables_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array()) {
    return Error{"unexpected output of 'nft -j list tables'"};
  }
  std::vector<std::string> names;
  for (const auto& item : j["nftables"]) {
    if (!item.is_object() || !item.contains("table")) continue;
    const auto& t = item["table"];
    if (t.value("family", std::string()) == family) names.push_back(t.value("name", std::string()));
  }
  return names;
}

Result<int> rule_count(std::string_view list_table_json) {
  auto j = nlohmann::json::parse(list_table_json, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("nftables") || !j["nftables"].is_array()) {
    return Error{"unexpected output of 'nft -j list table'"};
  }
  int count = 0;
  for (const auto& item : j["nftables"]) {
    if (item.is_object() && item.contains("rule")) ++count;
  }
  return count;
}

}  // namespace chaosplus::faults::nft
