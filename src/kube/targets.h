#pragma once
// How a target named by pod labels is reached on Kubernetes (docs/kubernetes.md): each matching pod
// is handed to the agent on its node (the agent's registration Lease names the node), and the agent
// finds the container's main process in its host's /proc (the DaemonSet runs with hostPID).
// Pure functions over objects already read, so they are tested without a cluster.
#include <string>
#include <vector>

#include "core/result.h"
#include "kube/objects.h"

namespace chaosplus::kube {

// Labels of an agent's registration Lease ("chaosplus-agent-<node>" in the agents' namespace).
inline constexpr const char* agent_label = "app.kubernetes.io/name";  // = "chaosplus-agent"
inline constexpr const char* node_label = "chaosplus.dev/node";       // = the node's name

struct PodTarget {
  Pod pod;
  std::string container;     // the container chosen in the pod
  std::string container_id;  // "containerd://4f1c…"
  std::string agent;         // the name of the agent's Lease on the pod's node
};

// Every pod of `pods` with the agent that serves its node. `container` picks a container by name
// ("" = the pod's first). Agents whose Lease has expired at `now` do not count. Errors name each
// pod that cannot be reached and why: not running, no such container or not started yet, no live
// agent on its node; and an empty `pods` names the selector.
Result<std::vector<PodTarget>> place_targets(const std::vector<Pod>& pods, const std::vector<Lease>& agents,
                                             WallTime now, const std::string& container, const std::string& selector);

// The container's main process as the node's host sees it: among the processes under `proc_root`
// whose cgroup names the container id (without its "containerd://" prefix), the one whose parent is
// not in that cgroup. not_found when there is none.
Result<long> container_pid(const std::string& container_id, const std::string& proc_root = "/proc");

}  // namespace chaosplus::kube
