// A target named by pod labels: each pod handed to the live agent on its node, and the container's
// main process found in the node's /proc (a made-up /proc tree here).
#include <gtest/gtest.h>

#include <filesystem>

#include "kube/targets.h"
#include "support/support.h"
#include "unit/kube/replay_server.h"

namespace chaosplus::kube {
namespace {

using chaosplus::testing::TempDir;
using chaosplus::testing::write_file;

WallTime at(const char* text) { return parse_micro_time(text).value(); }

// The pods of the recorded list (two running on node-a and node-b, one pending).
std::vector<Pod> recorded_pods() {
  auto pods = pods_from_json(testing::fixture_body("pods_list_by_selector", "response"), "fixture");
  EXPECT_TRUE(pods.ok()) << pods.error();
  return pods.value();
}

Lease agent(const std::string& node, const char* renewed) {
  Lease lease;
  lease.name = "chaosplus-agent-" + node;
  lease.namespace_ = "chaosplus";
  lease.labels = {{agent_label, "chaosplus-agent"}, {node_label, node}};
  lease.holder_identity = lease.name;
  lease.lease_duration_seconds = 10;
  lease.renew_time = at(renewed);
  return lease;
}

TEST(KubeTargets, EachRunningPodGoesToTheAgentOnItsNode) {
  std::vector<Pod> pods = recorded_pods();
  pods.pop_back();  // the pending one
  auto targets = place_targets(pods, {agent("node-b", "2026-12-06T19:50:00Z"), agent("node-a", "2026-12-06T19:50:00Z")},
                               at("2026-12-06T19:50:05Z"), "checkout", "app=checkout,tier=web");
  ASSERT_TRUE(targets.ok()) << targets.error();
  ASSERT_EQ(targets->size(), 2u);
  EXPECT_EQ((*targets)[0].pod.name, "checkout-7d4b9c6f5-x2k8p");
  EXPECT_EQ((*targets)[0].agent, "chaosplus-agent-node-a");
  EXPECT_EQ((*targets)[0].container, "checkout");
  EXPECT_EQ((*targets)[0].container_id,
            "containerd://4f1c2b9a7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b");
  EXPECT_EQ((*targets)[1].agent, "chaosplus-agent-node-b");
  auto sidecar = place_targets(pods, {agent("node-a", "2026-12-06T19:50:00Z"), agent("node-b", "2026-12-06T19:50:00Z")},
                               at("2026-12-06T19:50:05Z"), "envoy", "app=checkout");
  ASSERT_TRUE(sidecar.ok()) << sidecar.error();
  EXPECT_EQ((*sidecar)[0].container, "envoy");
}

TEST(KubeTargets, APodThatCannotBeReachedIsNamedWithTheReason) {
  // node-b's agent last renewed 20 s ago with a 10 s Lease: it is gone. The third pod is pending.
  auto targets =
      place_targets(recorded_pods(), {agent("node-a", "2026-12-06T19:50:00Z"), agent("node-b", "2026-12-06T19:49:45Z")},
                    at("2026-12-06T19:50:05Z"), "checkout", "app=checkout,tier=web");
  ASSERT_FALSE(targets.ok());
  EXPECT_EQ(targets.error(),
            "cannot reach every pod matching app=checkout,tier=web:\n"
            "  pod shop/checkout-7d4b9c6f5-q9w4m: no live chaosplus agent on node \"node-b\"\n"
            "  pod shop/checkout-7d4b9c6f5-h7t2z: phase Pending, not Running");
  auto no_container = place_targets({recorded_pods()[0]}, {agent("node-a", "2026-12-06T19:50:00Z")},
                                    at("2026-12-06T19:50:05Z"), "redis", "app=checkout");
  ASSERT_FALSE(no_container.ok());
  EXPECT_NE(no_container.error().find("no container named \"redis\""), std::string::npos) << no_container.error();
  auto none = place_targets({}, {}, at("2026-12-06T19:50:05Z"), "", "app=nothing");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), "no pod matches the labels app=nothing");
}

// A /proc entry: its cgroup line and its parent.
void process(const TempDir& proc, long pid, long parent, const std::string& cgroup) {
  std::filesystem::create_directories(proc.file(std::to_string(pid)));
  write_file(proc.file(std::to_string(pid) + "/cgroup"), "0::" + cgroup + "\n");
  write_file(proc.file(std::to_string(pid) + "/stat"),
             std::to_string(pid) + " (my (odd) name) S " + std::to_string(parent) + " 1 1 0 -1\n");
}

TEST(KubeTargets, TheContainersMainProcessIsTheOneWhoseParentIsOutsideIt) {
  const std::string id = "4f1c2b9a7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b";
  const std::string cgroup =
      "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3c0f6a52.slice/"
      "cri-containerd-" +
      id + ".scope";
  TempDir proc;
  process(proc, 1, 0, "/init.scope");
  process(proc, 880, 1, "/system.slice/containerd.service");  // the shim
  process(proc, 912, 880, cgroup);                            // the container's main process
  process(proc, 950, 912, cgroup);                            // its child
  process(proc, 990, 880, "/kubepods.slice/other/cri-containerd-9a8b7c6d5e4f.scope");
  std::filesystem::create_directories(proc.file("self"));
  auto pid = container_pid("containerd://" + id, proc.path());
  ASSERT_TRUE(pid.ok()) << pid.error();
  EXPECT_EQ(*pid, 912);
  auto missing = container_pid("containerd://b7e3d1c9a5f2e8d4c6b0a9f7e5d3c1b9", proc.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), ErrorCode::not_found);
  EXPECT_FALSE(container_pid("containerd://", proc.path()).ok());
}

}  // namespace
}  // namespace chaosplus::kube
