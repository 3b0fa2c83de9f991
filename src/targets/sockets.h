#pragma once
// Which local process holds which TCP socket, from /proc/net/tcp{,6} and /proc/<pid>/fd: the process
// listening on an address (a member's postmaster or Patroni), and the connections a set of processes
// holds (what a database fault cuts).
#include <optional>
#include <string>
#include <vector>

#include "targets/process.h"

namespace chaosplus::targets {

struct TcpSocket {
  std::string local_ip;  // canonical text: "127.0.0.11", "::1"
  int local_port = 0;
  std::string remote_ip;
  int remote_port = 0;
  bool listening = false;
  unsigned long long inode = 0;
};

// Parses the text of /proc/net/tcp or /proc/net/tcp6; exposed for tests.
std::vector<TcpSocket> parse_proc_net_tcp(const std::string& text, bool ipv6);
// Every TCP socket of this network namespace.
std::vector<TcpSocket> tcp_sockets();
// The socket inodes `pid` holds open (empty when it is gone or cannot be read).
std::vector<unsigned long long> socket_inodes(int pid);

// The process listening on `ip`:`port` (an IP literal): the one holding the listening socket whose
// parent does not hold it too (a forked child may still hold its parent's socket). An error says
// nobody listens there, or names the holders it cannot tell apart.
Result<ProcessId> listening_process(const std::string& ip, int port);

// `pid` and every live process below it (children, their children, ...), from /proc.
std::vector<ProcessId> process_tree(int pid);

}  // namespace chaosplus::targets
