#pragma once
// Exclusive claims, machine-wide, on what a run acts on: each attached process (by identity) and
// each address a run listens on or starts a service on. Two runs on one process would undo each
// other's faults (one resumes what the other paused), so the second refuses at start, before it
// changes anything, and names the run that holds the claim.
//
// A claim is an flock on a file in claims_dir(): the kernel drops it when the holder exits, however
// it exits (kill -9 included), so a claim never outlives its run. The file holds the holder's run
// id, experiment and pid, for the message of a run that is refused.
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "targets/process.h"

namespace chaosplus::targets {

struct ClaimHolder {
  std::string run_id;
  std::string experiment;
  int pid = 0;
};

// Made by claim(); holds the locked file open.
class Claim {
 public:
  Claim(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~Claim();  // releases it
  Claim(const Claim&) = delete;
  Claim& operator=(const Claim&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
};

// $CHAOSPLUS_CLAIMS_DIR when set and not empty; else /run/chaosplus/claims for root, and for other
// users $XDG_RUNTIME_DIR/chaosplus/claims or /tmp/chaosplus-claims-<uid> (created when missing).
std::string claims_dir();

// "process-<pid>-<start time>", "listen-<host>-<port>": file names of claims.
std::string process_claim_key(const ProcessId& id);
std::string address_claim_key(std::string_view host, int port);

// Takes claim `key` for `me`, or fails at once: "<what> is in use by run <id> (experiment <name>,
// runner pid <pid>); ...". `what` names it for people ("target 'db' (pid 42)").
Result<std::unique_ptr<Claim>> claim(std::string_view key, std::string_view what, const ClaimHolder& me);

}  // namespace chaosplus::targets
