#pragma once
// Kernel packet faults with nftables: partition, blackhole_port, reject and packet_loss. Each fault
// adds one table of its own (inet chaosplus_<pid>_<serial>_<nonce>) in chaosplus's network namespace
// or in a project namespace (faults/netns.h), and its revert deletes that table, so the rest of the
// rule set stays byte for byte as it was. Run as root; nft is invoked with an argv, never a shell.
#include <memory>
#include <string>

#include "faults/fault.h"
#include "faults/nft_rules.h"
#include "targets/gated_child.h"

namespace chaosplus::faults {

// Where an nft fault acts and on what, worked out from its parameters and its target's endpoint.
// In chaosplus's own namespace it must name a port, and its addresses (and peer) must be loopback,
// so it can only ever touch loopback traffic of one port on the host.
struct NftSetup {
  std::string netns;  // empty = chaosplus's own network namespace
  nft::Plan plan;
  std::string what;  // "127.0.0.1:8080", for summaries
};
Result<NftSetup> nft_setup(const spec::Fault& fault, const spec::Target& target);

// partition, blackhole_port, reject, packet_loss
Result<std::unique_ptr<Fault>> make_nft_fault(const spec::Fault& fault, TargetHandle& target);

// Deletes fault table `inet <table>` in `netns` ("" = our own) if it is still there, then checks it
// is gone. Ok when the namespace is gone (the table went with it). Refuses names that are not fault
// tables, whatever the caller passes. `before_exec` sees the deleting nft before it runs.
Status remove_nft_table(const std::string& netns, const std::string& table,
                        const targets::BeforeExec& before_exec = {});

// The names of the inet tables in `netns` ("" = our own).
Result<std::vector<std::string>> list_inet_tables(const std::string& netns);

}  // namespace chaosplus::faults
