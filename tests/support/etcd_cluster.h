#pragma once
// A real etcd cluster for tests: 1 or 3 (or any number of) `etcd` members (Debian etcd-server 3.4,
// /usr/bin/etcd), each with its own free client and peer ports and data folder, started together and
// waited for (with a deadline) until every member serves clients. Members can be killed (SIGKILL),
// paused (SIGSTOP) and resumed, and restarted on their data; the destructor kills them all and
// removes the folders. Uses only the support library (processes, ports, plain HTTP), not the etcd
// client, so a test of that client does not depend on the client to set up its cluster.
//
// etcd's own heartbeat (100ms) and election timeout (1s) are left at their defaults: the failovers
// the tests exercise are the ones users get.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/support.h"

namespace chaosplus::testing {

struct EtcdClusterOptions {
  int members = 1;
  // Per member, the address its client and peer ports listen on; empty or shorter: 127.0.0.1. (The
  // lab puts members in network namespaces; with a `wrapper` below the member runs inside one.)
  std::vector<std::string> hosts;
  // Per member, words put before `etcd` (e.g. {"ip", "netns", "exec", "lab-n1"}); empty: none.
  std::vector<std::vector<std::string>> wrappers;
  // TLS for clients (https endpoints): the member's certificate and key, and with `trusted_ca_file`
  // and `client_cert_auth` mutual TLS. Peers talk plain HTTP among themselves.
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  std::vector<std::string> extra_args;  // added to every member's command line
  std::chrono::milliseconds start_timeout = std::chrono::seconds(30);
};

class EtcdCluster {
 public:
  explicit EtcdCluster(EtcdClusterOptions options = {});
  explicit EtcdCluster(int members);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  // Whether every member came up; if not, error() says which did not and ends with its log.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::size_t size() const { return members_.size(); }
  // "http://127.0.0.1:PORT" (https with TLS), one per member, in member order.
  std::vector<std::string> endpoints() const;
  std::string endpoint(std::size_t i) const;
  int client_port(std::size_t i) const;
  pid_t pid(std::size_t i) const;
  std::string log(std::size_t i) const;  // the member's output so far
  std::string data_dir(std::size_t i) const;

  void kill(std::size_t i);    // SIGKILL, and reaped
  void pause(std::size_t i);   // SIGSTOP, and waits until the process is stopped
  void resume(std::size_t i);  // SIGCONT, and waits until it runs again
  // Kills the member if it runs, starts it again on its data and waits until it serves clients.
  bool restart(std::size_t i, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running(std::size_t i) const;

  // Whether member i serves clients: /health says true (plain HTTP), or, with TLS (which plain HTTP
  // cannot check), its log says it is ready to serve clients.
  bool healthy(std::size_t i) const;
  bool wait_healthy(std::size_t i, std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

  // The index of the member that is leader according to the running, not paused members (asked
  // through /v3/maintenance/status), waiting up to `timeout` for one to agree; -1 if none. Plain
  // HTTP clusters only.
  int leader(std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

 private:
  struct Member;
  bool start_all();  // new ports for every member, all started, waited for; false (and error_) if not
  void start(std::size_t i, bool initial);
  std::string member_status(std::size_t i, std::chrono::milliseconds timeout) const;

  EtcdClusterOptions options_;
  TempDir dir_;  // declared before members_: their processes die before their folders go
  std::vector<std::unique_ptr<Member>> members_;
  std::string initial_cluster_;
  std::string error_;
};

}  // namespace chaosplus::testing
