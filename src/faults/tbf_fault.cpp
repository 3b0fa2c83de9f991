#include "faults/tbf_fault.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "faults/netns.h"
#include "faults/registry.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/fault_catalog.h"

namespace chaosplus::faults {
namespace {

// How long a packet may wait in the bucket's queue before tbf drops it (sets tbf's queue limit).
constexpr const char* kQueueLatency = "300ms";
// Room for a frame's link header on top of the MTU.
constexpr std::uint64_t kFrameOverhead = 64;

// The loader stores an optional parameter that was not written as its default, "" for most of
// ours: empty means not given.
std::optional<std::string> param(const spec::Fault& fault, const std::string& key) {
  auto it = fault.params.find(key);
  if (it == fault.params.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string where(const spec::Fault& fault) { return "fault '" + fault.type + "' on '" + fault.target + "': "; }

// "65536" (the catalog's normalized form) or "64KB/s" as written.
Result<std::uint64_t> parse_rate_param(const std::string& text) {
  if (text.ends_with("/s")) return spec::parse_byte_rate(text);
  auto bytes = parse_bytes(text);
  if (!bytes) return Error{"'" + text + "' is not a byte rate (expected e.g. 64KB/s or 1MiB/s)"};
  if (*bytes == 0) return Error{"a bandwidth limit must be at least 1B/s"};
  return *bytes;
}

std::vector<std::string> show_qdisc_command(const std::string& netns, const std::string& interface, bool json) {
  std::vector<std::string> argv{"tc", "-n", netns};
  if (json) argv.push_back("-j");
  for (const char* a : {"qdisc", "show", "dev"}) argv.emplace_back(a);
  argv.push_back(interface);
  if (json) argv.emplace_back("root");
  return argv;
}

Result<RootQdisc> root_qdisc(const std::string& netns, const std::string& interface) {
  auto out = run_tool_checked(show_qdisc_command(netns, interface, true));
  if (!out) return Error{out.error()};
  return parse_root_qdisc(*out);
}

Result<bool> interface_exists(const std::string& netns, const std::string& interface) {
  auto out = run_tool_checked({"ip", "-n", netns, "-j", "link", "show"});
  if (!out) return Error{out.error()};
  auto j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Error{"unexpected output of 'ip -j link show'"};
  for (const auto& link : j) {
    if (link.is_object() && link.value("ifname", std::string()) == interface) return true;
  }
  return false;
}

Result<int> interface_mtu(const std::string& netns, const std::string& interface) {
  auto out = run_tool_checked({"ip", "-n", netns, "-j", "link", "show", "dev", interface});
  if (!out) return Error{out.error()};
  return parse_mtu(*out);
}

unsigned random_handle() {
  std::random_device random;
  return 0x100 + static_cast<unsigned>(random() % (0xfeff - 0x100 + 1));
}

class TbfFault final : public Fault {
 public:
  TbfFault(TargetHandle& target, TbfPlan plan, std::string prior)
      : target_(target.name()), plan_(std::move(plan)), prior_(std::move(prior)) {}

  std::string kind() const override { return std::string(kinds::tbf_qdisc); }
  std::string summary() const override {
    return "bandwidth_limit " + std::to_string(plan_.rate) + " B/s (burst " + std::to_string(plan_.burst) + " B) on " +
           plan_.interface + " in netns " + plan_.netns + " for " + target_;
  }
  std::string record() const override {
    nlohmann::json r{{"target", target_},
                     {"fault", "bandwidth_limit"},
                     {"namespace", plan_.netns},
                     {"interface", plan_.interface},
                     {"handle", qdisc_handle(plan_.handle)},
                     {"rate", plan_.rate},
                     {"burst", plan_.burst},
                     {"prior", prior_}};
    if (tool_) r["tool_pid"] = tool_->pid, r["tool_start_time"] = tool_->start_time;
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    auto root = root_qdisc(plan_.netns, plan_.interface);
    if (!root) return Error{root.error()};
    if (!root->is_default()) {
      return Error{plan_.interface + " in netns " + plan_.netns + " already has a configured root qdisc (" +
                   root->kind + " " + root->handle +
                   "); chaosplus shapes only interfaces whose qdisc it can restore exactly"};
    }
    // `add` (not `replace`) fails if someone configured a root qdisc in the meantime.
    if (auto r = run_tool_checked(tbf_add_command(plan_), {}, std::chrono::seconds(10), record_tool()); !r) {
      return Error{r.error()};
    }
    auto now = root_qdisc(plan_.netns, plan_.interface);
    if (!now) return Error{now.error()};
    if (now->kind != "tbf" || now->handle != qdisc_handle(plan_.handle)) {
      return Error{"added tbf " + qdisc_handle(plan_.handle) + " to " + plan_.interface + " but the root qdisc is " +
                   now->kind + " " + now->handle};
    }
    return ok_status();
  }

  Status revert(HaltSwitch&) override {
    return remove_tbf(plan_.netns, plan_.interface, qdisc_handle(plan_.handle), prior_, record_tool());
  }

 private:
  // The tc that changes the qdisc is in the ledger record before it runs (undo stops it first).
  targets::BeforeExec record_tool() {
    return [this](const targets::ProcessId& id) {
      tool_ = id;
      return record_changed();
    };
  }

  std::string target_;
  TbfPlan plan_;
  std::string prior_;
  std::optional<targets::ProcessId> tool_;
};

}  // namespace

std::string qdisc_handle(unsigned major) {
  char text[16];
  std::snprintf(text, sizeof text, "%x:", major);
  return text;
}

Result<TbfPlan> tbf_plan(const spec::Fault& fault, int mtu, unsigned handle) {
  TbfPlan plan;
  auto ns = param(fault, "namespace");
  if (!ns || !is_project_namespace(*ns)) {
    return Error{where(fault) + "needs 'namespace', a network namespace chaosplus creates (its name starts with '" +
                 std::string(kProjectNamespacePrefix) + "'); the host's own interfaces are never shaped"};
  }
  plan.netns = *ns;
  auto interface = param(fault, "interface");
  if (!interface || !is_valid_interface_name(*interface)) {
    return Error{where(fault) + "needs 'interface', the name of an interface in " + plan.netns};
  }
  plan.interface = *interface;
  auto rate_text = param(fault, "rate");
  if (!rate_text) return Error{where(fault) + "needs 'rate', e.g. 1MB/s"};
  auto rate = parse_rate_param(*rate_text);
  if (!rate) return Error{where(fault) + rate.error()};
  plan.rate = *rate;
  if (mtu <= 0) return Error{where(fault) + "interface MTU " + std::to_string(mtu) + " is not usable"};
  // A bucket smaller than one frame would never let a full-size frame through.
  const std::uint64_t smallest = 2 * (static_cast<std::uint64_t>(mtu) + kFrameOverhead);
  if (auto burst_text = param(fault, "burst")) {
    auto burst = parse_bytes(*burst_text);
    if (!burst) return Error{where(fault) + "burst: " + burst.error()};
    if (*burst < static_cast<std::uint64_t>(mtu) + kFrameOverhead) {
      return Error{where(fault) + "burst " + std::to_string(*burst) + " is smaller than one frame of " +
                   plan.interface + " (MTU " + std::to_string(mtu) + ")"};
    }
    plan.burst = *burst;
  } else {
    plan.burst = std::max(plan.rate / 50, smallest);
  }
  if (handle < 0x100 || handle > 0xfeff) return Error{"qdisc handle out of range"};
  plan.handle = handle;
  return plan;
}

std::vector<std::string> tbf_add_command(const TbfPlan& plan) {
  return {"tc",
          "-n",
          plan.netns,
          "qdisc",
          "add",
          "dev",
          plan.interface,
          "root",
          "handle",
          qdisc_handle(plan.handle),
          "tbf",
          "rate",
          std::to_string(plan.rate * 8) + "bit",
          "burst",
          std::to_string(plan.burst),
          "latency",
          kQueueLatency};
}

Result<RootQdisc> parse_root_qdisc(std::string_view tc_json) {
  auto j = nlohmann::json::parse(tc_json, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return Error{"unexpected output of 'tc -j qdisc show'"};
  for (const auto& q : j) {
    if (!q.is_object() || !q.value("root", false)) continue;
    return RootQdisc{q.value("kind", std::string()), q.value("handle", std::string())};
  }
  return Error{"'tc -j qdisc show' lists no root qdisc"};
}

Result<int> parse_mtu(std::string_view ip_link_json) {
  auto j = nlohmann::json::parse(ip_link_json, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].is_object() || !j[0].contains("mtu") ||
      !j[0]["mtu"].is_number_integer()) {
    return Error{"unexpected output of 'ip -j link show'"};
  }
  return j[0]["mtu"].get<int>();
}

Result<std::unique_ptr<Fault>> make_bandwidth_limit(const spec::Fault& fault, TargetHandle& target) {
  // Checked before any tc call, so a bad namespace or interface name never reaches a command line.
  auto checked = tbf_plan(fault, 1500, 0x100);
  if (!checked) return Error{checked.error()};
  const std::string netns = checked->netns;
  const std::string interface = checked->interface;
  if (!namespace_exists(netns)) return Error{where(fault) + "network namespace '" + netns + "' does not exist"};
  auto mtu = interface_mtu(netns, interface);
  if (!mtu) return Error{where(fault) + mtu.error()};
  auto plan = tbf_plan(fault, *mtu, random_handle());
  if (!plan) return Error{plan.error()};
  // The prior state is read now, before the runner writes the record, so the record holds it.
  auto prior = run_tool_checked(show_qdisc_command(netns, interface, false));
  if (!prior) return Error{where(fault) + prior.error()};
  return std::unique_ptr<Fault>(std::make_unique<TbfFault>(target, std::move(*plan), std::move(*prior)));
}

Status remove_tbf(const std::string& netns, const std::string& interface, const std::string& handle,
                  const std::string& prior, const targets::BeforeExec& before_exec) {
  if (!is_project_namespace(netns)) {
    return Error{"refusing to act in network namespace '" + netns + "': not one chaosplus creates"};
  }
  if (!is_valid_interface_name(interface)) return Error{"'" + interface + "' is not an interface name"};
  if (!namespace_exists(netns)) return ok_status();  // the qdisc went with its namespace
  auto exists = interface_exists(netns, interface);
  if (!exists) return Error{exists.error()};
  if (!*exists) return ok_status();  // and with its interface
  auto root = root_qdisc(netns, interface);
  if (!root) return Error{root.error()};
  const bool ours = root->kind == "tbf" && root->handle == handle;
  if (ours) {
    if (auto r = run_tool_checked({"tc", "-n", netns, "qdisc", "del", "dev", interface, "root"}, {},
                                  std::chrono::seconds(10), before_exec);
        !r) {
      return Error{r.error()};
    }
  }
  auto now = run_tool_checked(show_qdisc_command(netns, interface, false));
  if (!now) return Error{now.error()};
  bool restored = *now == prior;
  if (prior.empty()) {  // a record without the prior state: the kernel's default is what we can check
    auto after = root_qdisc(netns, interface);
    restored = after.ok() && after->is_default();
  }
  if (restored) return ok_status();  // as it was (a failed inject may never have changed it)
  if (!ours && !root->is_default()) {
    return Error{"the root qdisc of " + interface + " in netns " + netns + " is " + root->kind + " " + root->handle +
                 ", not the tbf " + handle + " chaosplus added, and not what was there before; left alone"};
  }
  return Error{"qdiscs of " + interface + " in netns " + netns + " read '" + *now + "' after revert, not '" + prior +
               "'"};
}

// ---- the family -------------------------------------------------------------------------------

namespace {

// clang-format off
constexpr std::array<spec::FaultParam, 4> kParams{{
    {"namespace", spec::ParamKind::namespace_name, "", true, {},
     "a network namespace chaosplus creates, such as chaosplus-lab: the host's interfaces are never shaped"},
    {"interface", spec::ParamKind::interface_name, "", true, {}, "the name of an interface in the namespace, such as veth0"},
    {"rate", spec::ParamKind::byte_rate, "", true, {}, "a rate such as 1MB/s: bytes per second allowed out"},
    {"burst", spec::ParamKind::byte_size, "", false, {},
     "a size such as 32KB: the token bucket; default 20ms of rate, at least two frames"},
}};
// clang-format on

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{
      {"bandwidth_limit", spec::Capability::any, kParams,
       "limit traffic leaving an interface of a chaosplus namespace (tbf qdisc)", true},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kinds::tbf_qdisc};

Status undo_tbf(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  // A tc still changing the qdisc (its runner died while it ran) is stopped and waited for first.
  if (r.contains("tool_pid")) {
    if (auto s = stop_recorded_tool(r.at("tool_pid").get<int>(), r.value("tool_start_time", 0ULL)); !s) return s;
  }
  return remove_tbf(r.at("namespace").get<std::string>(), r.at("interface").get<std::string>(),
                    r.at("handle").get<std::string>(), r.value("prior", std::string()));
}

}  // namespace

FaultFamily bandwidth_limit_family() { return {"tbf", types(), kKinds, make_bandwidth_limit, undo_tbf}; }

}  // namespace chaosplus::faults
