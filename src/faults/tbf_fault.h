#pragma once
// bandwidth_limit: a tbf (token bucket) root qdisc on an interface inside a network namespace
// chaosplus creates (faults/netns.h) — never on the host's own interfaces, whose queueing
// everything else on the machine shares. It is added only where the root qdisc is the kernel's
// default (handle 0:), so deleting it restores exactly the prior state; revert checks that
// `tc qdisc show dev <interface>` reads as it did before.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "faults/fault.h"
#include "targets/gated_child.h"

namespace chaosplus::faults {

struct TbfPlan {
  std::string netns;
  std::string interface;
  std::uint64_t rate = 0;   // bytes per second
  std::uint64_t burst = 0;  // bytes the bucket holds
  unsigned handle = 0;      // major number of our root qdisc, 0x100..0xfeff
};

// From the fault's parameters (namespace, interface, rate, burst) and the interface's MTU; the
// default burst is 20 ms of rate but at least two full frames.
Result<TbfPlan> tbf_plan(const spec::Fault& fault, int mtu, unsigned handle);

// "1a2b:" as tc writes a handle.
std::string qdisc_handle(unsigned major);

// tc -n <netns> qdisc add dev <interface> root handle <h> tbf rate <bits>bit burst <bytes> latency 300ms
std::vector<std::string> tbf_add_command(const TbfPlan& plan);

struct RootQdisc {
  std::string kind;    // "noqueue", "tbf", ...
  std::string handle;  // "0:" for the kernel's default
  bool is_default() const { return handle == "0:"; }
};
// From `tc -j qdisc show dev <interface> root`.
Result<RootQdisc> parse_root_qdisc(std::string_view tc_json);
// From `ip -j link show dev <interface>`.
Result<int> parse_mtu(std::string_view ip_link_json);

Result<std::unique_ptr<Fault>> make_bandwidth_limit(const spec::Fault& fault, TargetHandle& target);

// Deletes our tbf (handle `handle`) from `interface` in `netns` if it is still the root qdisc, then
// checks that `tc qdisc show dev <interface>` reads `prior` again. Ok when the namespace or the
// interface is gone. Leaves any other root qdisc alone and says so. `before_exec` sees the deleting
// tc before it runs.
Status remove_tbf(const std::string& netns, const std::string& interface, const std::string& handle,
                  const std::string& prior, const targets::BeforeExec& before_exec = {});

}  // namespace chaosplus::faults
