#pragma once
// Helpers for tests of the kernel-level faults: what they need (root, nft, tc, ip), taking turns on
// the host's nftables rule set, and reading it. Linked into the integration tests only.
#include <sys/types.h>

#include <string>
#include <vector>

namespace chaosplus::testing {

// "" when the kernel fault tests can run, else what is missing: " root nft".
std::string missing_for_kernel_faults();

// Tests that compare the host's rule set byte for byte need it to themselves: ctest runs each test
// as its own process, possibly side by side, so they take turns through one file lock.
class KernelTurn {
 public:
  KernelTurn();  // waits up to 5 minutes
  ~KernelTurn();
  KernelTurn(const KernelTurn&) = delete;
  KernelTurn& operator=(const KernelTurn&) = delete;
  bool held() const { return held_; }

 private:
  int fd_;
  bool held_ = false;
};

// `nft list ruleset` of the host (an error text in angle brackets when nft fails).
std::string nft_ruleset();
// The fault tables (inet chaosplus_<pid>_...) that process `pid` added and that are still there.
std::vector<std::string> fault_tables_of(pid_t pid);

}  // namespace chaosplus::testing
