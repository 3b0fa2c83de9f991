#include "kube/targets.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace chaosplus::kube {

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  return text.str();
}

// The parent pid from /proc/<pid>/stat: the field after the command, which is in parentheses and
// may itself hold spaces or parentheses, so read from the last ')'.
long parent_of(const std::filesystem::path& proc_dir) {
  std::string stat = read_text(proc_dir / "stat");
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  long parent = -1;
  rest >> state >> parent;
  return parent;
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

Result<std::vector<PodTarget>> place_targets(const std::vector<Pod>& pods, const std::vector<Lease>& agents,
                                             WallTime now, const std::string& container, const std::string& selector) {
  if (pods.empty()) return Error{"no pod matches the labels " + selector, ErrorCode::not_found};
  std::map<std::string, std::string> agent_of_node;
  for (const auto& agent : agents) {
    auto node = agent.labels.find(node_label);
    if (node == agent.labels.end() || expired_at(agent, now)) continue;
    agent_of_node.emplace(node->second, agent.name);
  }
  std::vector<PodTarget> targets;
  std::string problems;
  auto problem = [&problems](const Pod& pod, const std::string& why) {
    problems += "\n  pod " + pod.namespace_ + "/" + pod.name + ": " + why;
  };
  for (const auto& pod : pods) {
    if (pod.phase != "Running") {
      problem(pod, "phase " + (pod.phase.empty() ? std::string("unknown") : pod.phase) + ", not Running");
      continue;
    }
    const ContainerStatus* chosen = nullptr;
    for (const auto& c : pod.containers)
      if (container.empty() || c.name == container) {
        chosen = &c;
        break;
      }
    if (chosen == nullptr) {
      problem(pod, container.empty() ? "no containers" : "no container named \"" + container + "\"");
      continue;
    }
    if (chosen->container_id.empty()) {
      problem(pod, "container " + chosen->name + " has not started");
      continue;
    }
    auto agent = agent_of_node.find(pod.node_name);
    if (agent == agent_of_node.end()) {
      problem(pod, "no live chaosplus agent on node \"" + pod.node_name + "\"");
      continue;
    }
    targets.push_back(PodTarget{pod, chosen->name, chosen->container_id, agent->second});
  }
  if (!problems.empty())
    return Error{"cannot reach every pod matching " + selector + ":" + problems, ErrorCode::not_found};
  return targets;
}

Result<long> container_pid(const std::string& container_id, const std::string& proc_root) {
  std::string id = container_id;
  if (auto scheme = id.find("://"); scheme != std::string::npos) id = id.substr(scheme + 3);
  if (id.size() < 12) return Error{"\"" + container_id + "\" is not a container id", ErrorCode::invalid_argument};
  std::map<long, long> in_container;  // pid -> parent pid
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(proc_root, error)) {
    std::string name = entry.path().filename().string();
    if (!all_digits(name)) continue;
    if (read_text(entry.path() / "cgroup").find(id) == std::string::npos) continue;
    in_container[std::stol(name)] = parent_of(entry.path());
  }
  if (error) return Error{proc_root + ": " + error.message(), ErrorCode::io_error};
  for (const auto& [pid, parent] : in_container)
    if (!in_container.contains(parent)) return pid;
  return Error{"no process of container " + container_id + " under " + proc_root, ErrorCode::not_found};
}

}  // namespace chaosplus::kube
