#pragma once
// The hosts an experiment may touch (send traffic to, inject faults on, run load against): loopback
// always, plus the networks and addresses of the allow-list. The list is filled from the config
// file's `allow:`, from $CHAOSPLUS_ALLOW (comma-separated IPs or CIDRs), and at run start from the
// addresses of the agents the run uses (docs/agents.md). Names are refused except "localhost": an
// address is only allowed as a literal, never through DNS. What must stay on this host whatever the
// list says (the server's default bind, internal control channels) keeps asking core/loopback.h.
#include <sys/socket.h>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace chaosplus {

class AllowedHosts {
 public:
  // An IP literal or a network "IP/prefix"; `source` says where it came from ("$CHAOSPLUS_ALLOW",
  // "config.yaml:4", "agent db-1") for messages. An error names the entry and the source.
  Status add(std::string_view entry, std::string_view source);
  // Every entry of a comma-separated list (spaces around entries are ignored).
  Status add_list(std::string_view list, std::string_view source);

  // A host as written in a URL or host:port ("localhost", an IP literal, "[::1]"): loopback, or an IP
  // literal inside an allowed network.
  bool allows_host(std::string_view host) const;
  // An IP literal or a network "IP/prefix" that lies wholly inside loopback or an allowed network.
  bool allows_address(std::string_view address) const;
  bool allows_address(const sockaddr_storage& address) const;

  // "127.0.0.0/8, ::1, 10.77.0.0/24 ($CHAOSPLUS_ALLOW)": for messages.
  std::string describe() const;
  // Forgets every added entry (tests; a server starting a new run).
  void clear();

 private:
  struct Network {
    unsigned char bytes[16];  // IPv6 form (IPv4 mapped)
    int prefix;               // in IPv6 bits
    std::string text;
    std::string source;
  };
  bool contains(const unsigned char* bytes, int prefix) const;
  mutable std::mutex mutex_;
  std::vector<Network> networks_;  // guarded by mutex_
};

// The process's one list: every check of what an experiment may touch asks it.
AllowedHosts& allowed_hosts();

// The end of every refusal: what is allowed now and how to allow more.
std::string allow_hint();

}  // namespace chaosplus
