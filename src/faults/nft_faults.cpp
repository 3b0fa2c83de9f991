#include "faults/nft_faults.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "faults/netns.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "faults/undo.h"

namespace chaosplus::faults {
namespace {

// The loader stores an optional parameter that was not written as its default, "" for most of
// ours: empty means not given.
std::optional<std::string> param(const spec::Fault& fault, const std::string& key) {
  auto it = fault.params.find(key);
  if (it == fault.params.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string where(const spec::Fault& fault) { return "fault '" + fault.type + "' on '" + fault.target + "': "; }

Result<int> parse_port(std::string_view text) {
  if (text == "any") return 0;
  int port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port < 1 || port > 65535) {
    return Error{"port '" + std::string(text) + "' is not a port number 1..65535 or 'any'"};
  }
  return port;
}

// "25%" as written, or "0.25" as the loader normalizes a share -> share in 1/10000.
Result<int> parse_share(std::string_view text) {
  double fraction = -1;
  if (text.ends_with("%")) {
    auto f = parse_percentage(text);
    if (!f) return Error{f.error()};
    fraction = *f;
  } else {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), fraction);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) fraction = -1;
  }
  if (!(fraction >= 0.0 && fraction <= 1.0)) {
    return Error{"share '" + std::string(text) + "' is not a percentage from 0% to 100%"};
  }
  return static_cast<int>(std::lround(fraction * 10000.0));
}

Result<nft::Protocol> parse_protocol(std::string_view text) {
  if (text == "tcp") return nft::Protocol::tcp;
  if (text == "udp") return nft::Protocol::udp;
  if (text == "all") return nft::Protocol::all;
  return Error{"protocol '" + std::string(text) + "' is not one of tcp, udp, all"};
}

std::string join_addresses(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ",") + (nft::is_ipv6(a) ? "[" + a + "]" : a);
  return out.empty() ? "*" : out;
}

std::string new_table_name() {
  static std::atomic<unsigned> serial{0};
  std::random_device random;
  return nft::fault_table_name(static_cast<int>(::getpid()), ++serial, static_cast<std::uint32_t>(random()));
}

// Like the ruleset, fault tables of a namespace are read from nft itself.
std::vector<std::string> nft_command(const std::string& netns, std::vector<std::string> args) {
  args.insert(args.begin(), "nft");
  return in_namespace(netns, std::move(args));
}

class NftFault final : public Fault {
 public:
  NftFault(const spec::Fault& fault, TargetHandle& target, NftSetup setup)
      : type_(fault.type), target_(target.name()), setup_(std::move(setup)), table_(new_table_name()) {
    summary_ = fault.type + " " + setup_.what;
    if (!setup_.plan.flow.peer.empty()) summary_ += " <-> " + setup_.plan.flow.peer;
    if (setup_.plan.per_10000 < 10000) {
      summary_ += " (" + std::to_string(setup_.plan.per_10000 / 100) + "." +
                  std::to_string(setup_.plan.per_10000 % 100 / 10) + std::to_string(setup_.plan.per_10000 % 10) +
                  "% of packets)";
    }
    summary_ += " on " + target_ + (setup_.netns.empty() ? "" : " in netns " + setup_.netns);
  }

  std::string kind() const override { return std::string(kinds::nft_table); }
  std::string summary() const override { return summary_; }
  std::string record() const override {
    nlohmann::json rules = nlohmann::json::array();
    if (auto r = nft::rules_for(setup_.plan)) {
      for (const auto& rule : *r) rules.push_back(rule.chain + ": " + rule.text);
    }
    nlohmann::json r{{"target", target_},      {"fault", type_},  {"namespace", setup_.netns},
                     {"family", nft::kFamily}, {"table", table_}, {"rules", rules}};
    if (tool_) r["tool_pid"] = tool_->pid, r["tool_start_time"] = tool_->start_time;
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    if (!setup_.netns.empty() && !namespace_exists(setup_.netns)) {
      return Error{"network namespace '" + setup_.netns + "' does not exist"};
    }
    auto script = nft::table_script(table_, setup_.plan);
    if (!script) return Error{script.error()};
    auto expected = nft::rules_for(setup_.plan);
    if (!expected) return Error{expected.error()};
    // One transaction: the table with all its rules, or nothing.
    if (auto r = run_tool_checked(nft_command(setup_.netns, {"-f", "/dev/stdin"}), *script, std::chrono::seconds(10),
                                  record_tool());
        !r) {
      return Error{r.error()};
    }
    auto listed =
        run_tool_checked(nft_command(setup_.netns, {"-j", "list", "table", std::string(nft::kFamily), table_}));
    if (!listed) return Error{"added table " + table_ + " but cannot read it back: " + listed.error()};
    auto count = nft::rule_count(*listed);
    if (!count) return Error{count.error()};
    if (*count != static_cast<int>(expected->size())) {
      return Error{"table " + table_ + " has " + std::to_string(*count) + " rules, expected " +
                   std::to_string(expected->size())};
    }
    return ok_status();
  }

  Status revert(HaltSwitch&) override { return remove_nft_table(setup_.netns, table_, record_tool()); }

 private:
  // The nft that changes the rule set is in the ledger record before it runs (undo stops it first).
  targets::BeforeExec record_tool() {
    return [this](const targets::ProcessId& id) {
      tool_ = id;
      return record_changed();
    };
  }

  std::string type_;
  std::string target_;
  NftSetup setup_;
  std::string table_;
  std::string summary_;
  std::optional<targets::ProcessId> tool_;
};

}  // namespace

Result<NftSetup> nft_setup(const spec::Fault& fault, const spec::Target& target) {
  NftSetup setup;
  nft::Plan& plan = setup.plan;
  if (auto ns = param(fault, "namespace")) {
    if (!is_project_namespace(*ns)) {
      return Error{where(fault) + "namespace '" + *ns + "' is not one chaosplus creates (its name must start with '" +
                   std::string(kProjectNamespacePrefix) + "')"};
    }
    setup.netns = *ns;
  }

  // The endpoint: the target's, unless address or port say otherwise.
  if (auto address = param(fault, "address")) {
    auto ip = nft::canonical_ip(*address);
    if (!ip) return Error{where(fault) + "address: " + ip.error()};
    plan.flow.addresses = {*ip};
  } else if (target.endpoint) {
    if (target.endpoint->host == "localhost") {
      plan.flow.addresses = {"127.0.0.1", "::1"};
    } else {
      auto ip = nft::canonical_ip(target.endpoint->host);
      if (!ip) return Error{where(fault) + "the target's endpoint host must be an IP address: " + ip.error()};
      plan.flow.addresses = {*ip};
    }
  }
  if (auto port = param(fault, "port")) {
    auto p = parse_port(*port);
    if (!p) return Error{where(fault) + p.error()};
    plan.flow.port = *p;
  } else if (target.endpoint) {
    plan.flow.port = target.endpoint->port;
  }
  if (auto peer = param(fault, "peer")) {
    auto network = nft::canonical_network(*peer);
    if (!network) return Error{where(fault) + "peer: " + network.error()};
    plan.flow.peer = *network;
  }
  if (auto protocol = param(fault, "protocol")) {
    auto p = parse_protocol(*protocol);
    if (!p) return Error{where(fault) + p.error()};
    plan.flow.protocol = *p;
  }

  if (setup.netns.empty()) {
    // On the host, only loopback traffic of one port: never a real interface, never a whole address.
    if (plan.flow.port == 0) {
      return Error{where(fault) +
                   "in chaosplus's own network namespace the fault must name a port; address-wide "
                   "faults are allowed only inside a namespace chaosplus creates"};
    }
    if (plan.flow.addresses.empty()) {
      return Error{where(fault) + "needs a target with an endpoint, or an address parameter"};
    }
    for (const auto& a : plan.flow.addresses) {
      if (!nft::is_loopback_address(a)) {
        return Error{where(fault) + "address " + a +
                     " is not a loopback address; outside a namespace chaosplus "
                     "creates, kernel faults act only on loopback"};
      }
    }
    if (!plan.flow.peer.empty() && !nft::is_loopback_address(plan.flow.peer)) {
      return Error{where(fault) + "peer " + plan.flow.peer + " is not a loopback address"};
    }
  }

  if (fault.type == "blackhole_port") {
    plan.inbound = true, plan.outbound = false, plan.action = nft::Action::drop;
  } else if (fault.type == "reject") {
    plan.inbound = true, plan.outbound = false, plan.action = nft::Action::reject;
  } else if (fault.type == "partition") {
    plan.inbound = true, plan.outbound = true, plan.action = nft::Action::drop;
  } else if (fault.type == "packet_loss") {
    plan.inbound = true, plan.outbound = true, plan.action = nft::Action::drop;
    auto written = param(fault, "share");
    if (!written) return Error{where(fault) + "needs 'share', the share of packets dropped, e.g. 25%"};
    auto share = parse_share(*written);
    if (!share) return Error{where(fault) + share.error()};
    plan.per_10000 = *share;
  } else {
    return Error{"'" + fault.type + "' is not an nftables fault"};
  }
  if (auto rules = nft::rules_for(plan); !rules) return Error{where(fault) + rules.error()};

  setup.what = join_addresses(plan.flow.addresses) + ":" + (plan.flow.port == 0 ? "*" : std::to_string(plan.flow.port));
  if (plan.flow.protocol != nft::Protocol::tcp) {
    setup.what += plan.flow.protocol == nft::Protocol::udp ? "/udp" : "/all";
  }
  return setup;
}

Result<std::unique_ptr<Fault>> make_nft_fault(const spec::Fault& fault, TargetHandle& target) {
  auto setup = nft_setup(fault, target.spec());
  if (!setup) return Error{setup.error()};
  return std::unique_ptr<Fault>(std::make_unique<NftFault>(fault, target, std::move(*setup)));
}

Result<std::vector<std::string>> list_inet_tables(const std::string& netns) {
  auto listed = run_tool_checked(nft_command(netns, {"-j", "list", "tables", std::string(nft::kFamily)}));
  if (!listed) return Error{listed.error()};
  return nft::tables_in(*listed, nft::kFamily);
}

Status remove_nft_table(const std::string& netns, const std::string& table, const targets::BeforeExec& before_exec) {
  if (!nft::is_fault_table_name(table)) return Error{"refusing to delete table '" + table + "': not a fault table"};
  if (!netns.empty() && !is_project_namespace(netns)) {
    return Error{"refusing to act in network namespace '" + netns + "': not one chaosplus creates"};
  }
  if (!netns.empty() && !namespace_exists(netns)) return ok_status();  // the table went with its namespace
  auto present = [&]() -> Result<bool> {
    auto tables = list_inet_tables(netns);
    if (!tables) return Error{tables.error()};
    return std::find(tables->begin(), tables->end(), table) != tables->end();
  };
  auto before = present();
  if (!before) return Error{before.error()};
  if (!*before) return ok_status();
  auto deleted = run_tool_checked(nft_command(netns, {"delete", "table", std::string(nft::kFamily), table}), {},
                                  std::chrono::seconds(10), before_exec);
  auto after = present();
  if (!after) return Error{after.error()};
  if (*after) {
    return Error{"table inet " + table + " is still there" + (deleted ? std::string() : ": " + deleted.error())};
  }
  return ok_status();
}

}  // namespace chaosplus::faults
