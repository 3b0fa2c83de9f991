#pragma once
// The run's resolver: a small DNS server on a loopback address, UDP and TCP, that answers from the
// run's rules file (dns/rules.h, dns/answer.h), read again whenever the file changes. It serves
// until halted; the runner that starts it records it in the ledger, so `chaosplus recover` stops
// it after a crash like the fault proxy.
#include <string>
#include <vector>

#include "core/halt_switch.h"
#include "core/result.h"

namespace chaosplus::dns {

struct ServerOptions {
  std::string rules_path;
  // Addresses to try in order; it listens on the first whose port is free for both UDP and TCP.
  std::vector<std::string> addresses;
  int port = 53;           // glibc's resolv.conf cannot name another
  std::string address_to;  // a FIFO: once listening, the address and a newline are written there
};

// 127.53.0.1 .. 127.53.0.254.
std::vector<std::string> default_addresses();

// Serves until `halt`; returns the exit code (0, or 3 when it could not listen or tell its address).
int run_server(const ServerOptions& options, HaltSwitch& halt);

}  // namespace chaosplus::dns
