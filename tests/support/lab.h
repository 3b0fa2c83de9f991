#pragma once
// The lab of hosts (scripts/lab.sh) for the fleet's tests: network namespaces joined by a bridge,
// a 3-member etcd cluster in nodes 1..3 and an agent in each of nodes 1..N; node 0 is the
// controller's host. A Lab brings it up in its constructor and down in its destructor, so a failing
// test leaves nothing behind; the fleet tests share one prefix ("cplt") and take turns (CTest
// RESOURCE_LOCK fleet_lab), and a lab a crashed test left is removed by the next `up` or by the
// FleetLabDown cleanup test.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace chaosplus::testing {

// "" when the lab can run here, else what is missing: " root ip etcd etcdctl".
std::string missing_for_lab();

struct LabOptions {
  int nodes = 3;
  bool agents = true;
  std::string ttl;                    // the agents' --ttl; "" = the agent's default
  std::map<int, std::string> labels;  // node -> "role=db zone=a" (the script's defaults otherwise)
  std::string prefix = "cplt";        // CPLAB_PREFIX
};

struct LabOutput {
  int code = -1;  // exit code, -1 when it did not finish in time
  std::string output;
};

class Lab {
 public:
  explicit Lab(LabOptions options = {});  // throws std::runtime_error with the script's output
  ~Lab();
  Lab(const Lab&) = delete;
  Lab& operator=(const Lab&) = delete;

  int nodes() const { return options_.nodes; }
  std::string ns(int node) const;        // "<prefix>-<node>"
  static std::string address(int node);  // 10.77.0.(10+node)
  const std::string& state_dir() const { return state_; }
  // lab.env: CHAOSPLUS_ETCD, CHAOSPLUS_ALLOW, CPLAB_NODE_<i>, ...
  const std::map<std::string, std::string>& env() const { return env_; }

  // argv that runs `argv` in node's namespace (for a testing::Child).
  std::vector<std::string> in(int node, const std::vector<std::string>& argv) const;
  // Runs argv in node's namespace to completion (stdout and stderr together).
  LabOutput run(int node, const std::vector<std::string>& argv,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) const;

  // Pids of every process in node's network namespace.
  std::vector<pid_t> pids_in(int node) const;

  // The processes the script started and recorded ("etcd-1", "agent-2"): pid, 0 when not running.
  pid_t recorded_pid(const std::string& name) const;
  // Sends sig to a recorded process (kill -9, SIGSTOP, SIGCONT).
  void signal_recorded(const std::string& name, int sig) const;

  // Cuts node off from every other node (its veth's bridge end down), and back.
  void cut_off(int node) const;
  void reconnect(int node) const;

  // The etcd member (1..3) that leads now, 0 when none answers as leader.
  int etcd_leader() const;
  // kill -9 of the leading member; returns it.
  int kill_etcd_leader() const;

  // etcdctl from node 0 against the cluster.
  LabOutput etcdctl(const std::vector<std::string>& args) const;
  // Every key under prefix and its value (values are single-line JSON in the fleet's protocol).
  std::map<std::string, std::string> get_prefix(const std::string& prefix) const;

  // The script's logs (for a failing test's message).
  std::string log_tails() const;

 private:
  LabOutput script(const std::vector<std::string>& args, std::chrono::milliseconds timeout) const;

  LabOptions options_;
  std::string state_;
  std::map<std::string, std::string> env_;
};

}  // namespace chaosplus::testing
