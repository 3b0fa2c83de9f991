#pragma once
// What chaosplus may have left on this system, found by looking at the system itself rather than
// by trusting a ledger: for inspection by hand when the ledger cannot be read or trusted
// (`chaosplus leftovers`). It changes nothing; each finding says how to check or remove it.
#include <string>
#include <vector>

namespace chaosplus::runner {

struct Leftover {
  std::string what;    // "nft table", "tbf qdisc", "network namespace", "recorded process", ...
  std::string detail;  // which one, and what is known about it
  std::string how;     // how to check or remove it by hand
};

struct LeftoverReport {
  std::vector<Leftover> found;
  std::vector<std::string> notes;  // what could not be looked at, and why
};

// Looks for: nft tables named chaosplus* (in the host and in chaosplus-* network namespaces), the
// cgroups an isolate fault makes (chaosplus* at the top of the cgroup v2 hierarchy), tbf
// root qdiscs in those namespaces, the namespaces themselves, processes recorded in the ledger at
// `ledger_path` or its witness (by pid and start time) that are still alive, runners still running,
// stopped (state T) processes, fault proxies (`chaosplus proxy`) and resolvers (`chaosplus
// resolver`), the copies the corrupt fault keeps of files it damaged (beside the ledger, in
// corrupt/), the folders of runs' resolvers (beside the ledger, in dns/), what the ledger's file
// faults left (faults/file_leftovers.h: fill folders, credentials set aside, revoked access), I/O
// faults' FUSE mounts (in any mount namespace) and daemons (`chaosplus iofs`), accounts with
// lock_account's expiry day (1) and a left /etc/shadow+, and what the host resource faults may
// leave: stress-ng processes (recorded or not), io_stress's folders, cgroup memory limits not back
// to their recorded originals. Records and command lines are shown with secrets redacted.
LeftoverReport find_leftovers(const std::string& ledger_path);

}  // namespace chaosplus::runner
