#pragma once
// The few Kubernetes objects chaosplus reads and writes (docs/kubernetes.md), as plain values: a
// coordination.k8s.io/v1 Lease (the run's dead-man switch and each agent's registration), a Pod
// (a target) and a Node. Their JSON is the API's own (field names as the API reference gives them).
//
// A Lease keeps the object exactly as the server sent it: an update writes our fields onto that
// copy, so fields chaosplus does not know (annotations, owner references, managed fields) survive a
// read-modify-write instead of being wiped by the PUT.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::kube {

using WallTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::microseconds>;

// metav1.MicroTime: RFC 3339 with microseconds, "2026-12-06T19:50:00.250000Z". Parsing accepts
// 0 to 9 fraction digits (beyond 6 are cut) and a "Z" or "+hh:mm"/"-hh:mm" offset.
Result<WallTime> parse_micro_time(std::string_view text);
// Always UTC with 6 fraction digits, as the API server writes it.
std::string format_micro_time(WallTime time);

struct Lease {
  std::string name;
  std::string namespace_;
  std::string resource_version;  // "" for a Lease not yet created
  std::map<std::string, std::string> labels;
  std::string holder_identity;
  std::int64_t lease_duration_seconds = 0;
  std::optional<WallTime> acquire_time;
  std::optional<WallTime> renew_time;
  std::int64_t lease_transitions = 0;
  std::string served_json;  // the object as last read from the server; "" for a new one
};
// The object to send: served_json (if any) with our fields written over it.
std::string to_json(const Lease& lease);
// `where` names the source in errors (a URL).
Result<Lease> lease_from_json(std::string_view json, const std::string& where);

// Wall-clock expiry, the API's own reading of a Lease: renewTime (or acquireTime when it was never
// renewed) + leaseDurationSeconds is before `now`. A Lease with neither time, or no duration, is
// expired. Trusts that the writer's clock and ours agree; LeaseWatch below does not need that.
bool expired_at(const Lease& lease, WallTime now);

// Expiry as client-go's leader election judges it, by local observation rather than by the
// writer's clock: the Lease is alive while its holder's record (holderIdentity, renewTime or
// acquireTime, leaseDurationSeconds) has changed within leaseDurationSeconds of our own steady
// clock. Other writes (labels, annotations) are no renewal. An agent whose clock is skewed against the
// controller's still reverts on time. No clock of its own: callers pass the instants (tests use
// made-up ones).
class LeaseWatch {
 public:
  using Instant = std::chrono::steady_clock::time_point;
  // Feeds the Lease as read at `at`; a new renewal restarts the countdown.
  void observe(const Lease& lease, Instant at);
  // Nothing observed yet, or no renewal seen for the last observed leaseDurationSeconds.
  bool expired(Instant now) const;

 private:
  std::string last_renewal_;  // the holder's record as last seen
  std::optional<Instant> changed_at_;
  std::chrono::seconds duration_{0};
};

struct ContainerStatus {
  std::string name;
  std::string container_id;  // "containerd://4f1c…"; "" until the container has started
  bool ready = false;
};

struct Pod {
  std::string name;
  std::string namespace_;
  std::string node_name;  // "" while unscheduled
  std::string pod_ip;
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  std::map<std::string, std::string> labels;
  std::vector<ContainerStatus> containers;
};
// A PodList's items.
Result<std::vector<Pod>> pods_from_json(std::string_view json, const std::string& where);

struct Node {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string internal_ip;
  bool ready = false;
};
// A NodeList's items.
Result<std::vector<Node>> nodes_from_json(std::string_view json, const std::string& where);

}  // namespace chaosplus::kube
