#pragma once
// The host faults of the crash test matrix (tests/support/crash_matrix.h): what each point needs
// made fresh, what is made once per matrix, the YAML lines of those faults in the matrix's
// experiment, the checks after `chaosplus recover` that nothing of them is left, and the clean-up
// by hand of whatever was, so the next point starts clean.
//
// The faults: cpu and memory (stress-ng on the host), disk_fill on a small tmpfs of the point's,
// revoke (read, immutable) of a file with an ACL entry and an xattr, credential hide of another,
// lock_account of a throwaway account, and on the started target: clock, dns (a name of its
// `resolve:` table) and io_error on a folder of its. Their processes (stress-ng, the resolver, the
// FUSE daemon) are the matrix's descendants check's: the matrix is their subreaper.
#include <cstdint>
#include <string>
#include <vector>

#include "faults/file_state.h"
#include "support/support.h"

namespace chaosplus::testing {

// How many faults host_fault_lines() adds to the experiment.
inline constexpr int kHostFaults = 9;

// Made once per matrix: an account made with useradd (and a password, so its shadow entry holds a
// hash), deleted again in the destructor. Throws std::runtime_error when it cannot be made.
class HostOnce {
 public:
  HostOnce();
  ~HostOnce();
  HostOnce(const HostOnce&) = delete;
  HostOnce& operator=(const HostOnce&) = delete;

  const std::string& user() const { return user_; }
  // The account's /etc/shadow line as made: after every point it must be this, byte for byte.
  const std::string& shadow_before() const { return shadow_; }
  // The line as it is now ("" when the account has none).
  std::string shadow_now() const;
  // Makes the account again when its line differs (userdel + useradd), so the next point starts
  // from a known line; the line read then is the new "before".
  void remake();

 private:
  void make();
  std::string user_;
  std::string shadow_;
};

// Made fresh for each point, in the point's folder: a 32 MiB tmpfs to fill (unmounted in the
// destructor, however the point ended), a file to revoke and one to hide with their exact states,
// a folder of the started target's for io_error.
class HostPoint {
 public:
  HostPoint(const TempDir& dir, HostOnce& once);
  ~HostPoint();
  HostPoint(const HostPoint&) = delete;
  HostPoint& operator=(const HostPoint&) = delete;

  // The name the started target resolves through the run's resolver (its `resolve:` table), and
  // the address it resolves to.
  static constexpr const char* kName = "tokens.matrix.test";
  std::string resolve_yaml() const;  // "resolve: { tokens.matrix.test: 127.0.0.1 }"

  // The fault lines of the phase ("      - cpu: {...}\n" ...), on `host` (any target) and on
  // `started` (a target the run starts, with resolve_yaml()).
  std::string fault_lines(const std::string& host, const std::string& started) const;

  // After recover: what of these faults is left, one line each, added to `left`. `state_dir` is
  // the run's.
  void check(const std::string& state_dir, std::vector<std::string>& left) const;

  // Puts back by hand whatever check() found, so the next point starts clean.
  void clean_up(const std::string& state_dir);

 private:
  void make_files();
  HostOnce& once_;
  std::string mount_;  // the tmpfs
  bool mounted_ = false;
  std::uint64_t free_before_ = 0;
  std::string revoked_;  // the file revoke acts on
  faults::FileState revoked_state_;
  std::string hidden_dir_;  // the credential's folder: the file alone in it
  std::string hidden_;
  std::string hidden_bytes_;
  faults::FileState hidden_state_;
  std::string io_dir_;  // the started target's folder io_error acts on
};

}  // namespace chaosplus::testing
