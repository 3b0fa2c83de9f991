// The Kubernetes API client against recorded exchanges (tests/data/kube), replayed in order by a
// loopback server that fails the test on any request that differs from the recording.
#include <gtest/gtest.h>

#include "kube/client.h"
#include "kube/transfer.h"
#include "unit/kube/replay_server.h"

namespace chaosplus::kube {
namespace {

using testing::ReplayServer;

constexpr const char* run_lease = "chaosplus-run-20261206-195000-7f3a";

WallTime at(const char* text) { return parse_micro_time(text).value(); }

Client client_for(const ReplayServer& replay, const std::string& token = "kube-fixture-token") {
  Config config;
  config.server = replay.url();
  config.token = token;
  config.namespace_ = "chaosplus";
  auto client = Client::create(config);
  EXPECT_TRUE(client.ok()) << (client ? "" : client.error());
  return std::move(client).value();
}

Lease new_run_lease() {
  Lease lease;
  lease.name = run_lease;
  lease.labels = {{"app.kubernetes.io/managed-by", "chaosplus"}, {"chaosplus.dev/run", "20261206-195000-7f3a"}};
  lease.holder_identity = "controller@laptop";
  lease.lease_duration_seconds = 10;
  lease.acquire_time = at("2026-12-06T19:50:00Z");
  lease.renew_time = lease.acquire_time;
  return lease;
}

TEST(KubeClient, ListsPodsByLabelSelectorWithNodeAddressPhaseAndContainerIds) {
  ReplayServer replay({"pods_list_by_selector"});
  auto pods = client_for(replay).list_pods("shop", "app=checkout,tier=web");
  ASSERT_TRUE(pods.ok()) << pods.error();
  ASSERT_EQ(pods->size(), 3u);
  const Pod& first = (*pods)[0];
  EXPECT_EQ(first.name, "checkout-7d4b9c6f5-x2k8p");
  EXPECT_EQ(first.namespace_, "shop");
  EXPECT_EQ(first.node_name, "node-a");
  EXPECT_EQ(first.pod_ip, "10.244.1.17");
  EXPECT_EQ(first.phase, "Running");
  EXPECT_EQ(first.labels.at("app"), "checkout");
  ASSERT_EQ(first.containers.size(), 2u);
  EXPECT_EQ(first.containers[0].name, "checkout");
  EXPECT_EQ(first.containers[0].container_id,
            "containerd://4f1c2b9a7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b3a29180f7e6d5c4b");
  EXPECT_TRUE(first.containers[0].ready);
  EXPECT_EQ((*pods)[1].node_name, "node-b");
  const Pod& pending = (*pods)[2];
  EXPECT_EQ(pending.phase, "Pending");
  EXPECT_EQ(pending.node_name, "");
  EXPECT_TRUE(pending.containers.empty());
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, ListsNodesWithTheirAddressAndReadiness) {
  ReplayServer replay({"nodes_list"});
  auto nodes = client_for(replay).list_nodes("chaosplus.dev/agent=true");
  ASSERT_TRUE(nodes.ok()) << nodes.error();
  ASSERT_EQ(nodes->size(), 2u);
  EXPECT_EQ((*nodes)[0].name, "node-a");
  EXPECT_EQ((*nodes)[0].internal_ip, "10.0.0.11");
  EXPECT_TRUE((*nodes)[0].ready);
  EXPECT_EQ((*nodes)[0].labels.at("topology.kubernetes.io/zone"), "zone-a");
  EXPECT_FALSE((*nodes)[1].ready);
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, CreateThenStaleUpdateIsATypedConflictThenReReadAndUpdateSucceeds) {
  ReplayServer replay({"lease_create", "lease_update_stale", "lease_get_after_conflict", "lease_update_fresh"});
  Client client = client_for(replay);

  auto created = client.create_lease(new_run_lease());
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(created->resource_version, "1001");

  Lease renewal = *created;
  renewal.renew_time = at("2026-12-06T19:50:04Z");
  auto stale = client.update_lease(renewal);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.kind(), Failure::conflict);
  EXPECT_EQ(stale.failure().http_status, 409);
  EXPECT_EQ(stale.failure().reason, "Conflict");
  EXPECT_NE(stale.error().find("the object has been modified"), std::string::npos) << stale.error();
  EXPECT_NE(stale.error().find(replay.url() + "/apis/coordination.k8s.io/v1/namespaces/chaosplus/leases/" + run_lease),
            std::string::npos)
      << stale.error();

  auto current = client.get_lease("chaosplus", run_lease);
  ASSERT_TRUE(current.ok()) << current.error();
  EXPECT_EQ(current->resource_version, "1003");
  current->renew_time = at("2026-12-06T19:50:04Z");
  // The recording's PUT body keeps the annotation another writer added: nothing we do not know is lost.
  auto updated = client.update_lease(*current);
  ASSERT_TRUE(updated.ok()) << updated.error();
  EXPECT_EQ(updated->resource_version, "1004");
  EXPECT_EQ(updated->renew_time, at("2026-12-06T19:50:04Z"));
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, CreatingFromALeaseReadEarlierSendsOnlyOurFieldsAndNoResourceVersion) {
  ReplayServer replay({"lease_create"});
  // A Lease as once served (uid, resourceVersion 1001, managedFields): creating it again must not
  // send those, or the API refuses ("resourceVersion should not be set on objects to be created").
  auto earlier = lease_from_json(testing::fixture_body("lease_create", "response"), "fixture");
  ASSERT_TRUE(earlier.ok()) << earlier.error();
  auto created = client_for(replay).create_lease(*earlier);
  EXPECT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, ALeaseWithoutANameIsNeverSent) {
  ReplayServer replay({});
  Lease nameless = new_run_lease();
  nameless.name.clear();
  auto created = client_for(replay).create_lease(nameless);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.kind(), Failure::refused);
  nameless.resource_version = "1";
  auto updated = client_for(replay).update_lease(nameless);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.kind(), Failure::refused);
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, CreatingATakenNameIsAlreadyExistsNotConflict) {
  ReplayServer replay({"lease_create_exists"});
  auto created = client_for(replay).create_lease(new_run_lease());
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.kind(), Failure::already_exists);
  EXPECT_NE(created.error().find("already exists"), std::string::npos) << created.error();
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, RenewReadsTheLeaseAndWritesRenewTimeOnItsResourceVersion) {
  ReplayServer replay({"lease_get_current", "lease_renew_put"});
  auto renewed =
      client_for(replay).renew_lease("chaosplus", run_lease, "controller@laptop", at("2026-12-06T19:50:08.25Z"));
  ASSERT_TRUE(renewed.ok()) << renewed.error();
  EXPECT_EQ(renewed->resource_version, "1005");
  EXPECT_EQ(format_micro_time(*renewed->renew_time), "2026-12-06T19:50:08.250000Z");
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, RenewRetriesOnAConflictFromTheFreshRead) {
  ReplayServer replay(
      {"lease_get_current", "lease_renew_put_stale", "lease_get_relabelled", "lease_renew_put_relabelled"});
  auto renewed =
      client_for(replay).renew_lease("chaosplus", run_lease, "controller@laptop", at("2026-12-06T19:50:08.25Z"));
  ASSERT_TRUE(renewed.ok()) << renewed.error();
  EXPECT_EQ(renewed->resource_version, "1007");
  EXPECT_EQ(renewed->labels.at("chaosplus.dev/phase"), "steady");
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, RenewGivesUpAfterItsAttemptsAllConflict) {
  ReplayServer replay({"lease_get_current", "lease_renew_put_stale", "lease_get_current", "lease_renew_put_stale"});
  auto renewed = client_for(replay).modify_lease(
      "chaosplus", run_lease,
      [](Lease& lease) -> ApiResult<Ok> {
        lease.renew_time = at("2026-12-06T19:50:08.25Z");
        return Ok{};
      },
      2);
  ASSERT_FALSE(renewed.ok());
  EXPECT_EQ(renewed.kind(), Failure::conflict);
  EXPECT_NE(renewed.error().find("gave up after 2 conflicting writes"), std::string::npos) << renewed.error();
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, RenewByAnotherHolderIsRefusedWithoutWriting) {
  ReplayServer replay({"lease_get_other_holder"});  // no PUT recorded: one would fail the replay
  auto renewed =
      client_for(replay).renew_lease("chaosplus", run_lease, "controller@laptop", at("2026-12-06T19:50:08.25Z"));
  ASSERT_FALSE(renewed.ok());
  EXPECT_EQ(renewed.kind(), Failure::not_holder);
  EXPECT_NE(renewed.error().find("controller@ci-runner-7"), std::string::npos) << renewed.error();
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, AnUpdateWithoutResourceVersionIsNeverSent) {
  ReplayServer replay({});
  auto updated = client_for(replay).update_lease(new_run_lease());
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.kind(), Failure::refused);
  EXPECT_NE(updated.error().find("no resourceVersion"), std::string::npos) << updated.error();
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, DeletesTheRunLease) {
  ReplayServer replay({"lease_delete"});
  auto deleted = client_for(replay).delete_lease("", run_lease);  // "" = the config's namespace
  EXPECT_TRUE(deleted.ok()) << (deleted ? "" : deleted.error());
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, A404SaysWhichLeaseAndWhere) {
  ReplayServer replay({"lease_get_missing"});
  auto lease = client_for(replay).get_lease("chaosplus", "chaosplus-run-20261206-180000-0000");
  ASSERT_FALSE(lease.ok());
  EXPECT_EQ(lease.kind(), Failure::not_found);
  EXPECT_EQ(lease.error(), "GET " + replay.url() +
                               "/apis/coordination.k8s.io/v1/namespaces/chaosplus/leases/"
                               "chaosplus-run-20261206-180000-0000: 404 NotFound: leases.coordination.k8s.io "
                               "\"chaosplus-run-20261206-180000-0000\" not found");
  EXPECT_EQ(lease.failure().to_error().code, ErrorCode::not_found);
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, A401IsUnauthorizedWithTheUrl) {
  ReplayServer replay({"pods_unauthorized"});
  auto pods = client_for(replay, "expired-token").list_pods("shop", "app=checkout");
  ASSERT_FALSE(pods.ok());
  EXPECT_EQ(pods.kind(), Failure::unauthorized);
  EXPECT_EQ(pods.error(), "GET " + replay.url() +
                              "/api/v1/namespaces/shop/pods?labelSelector=app%3Dcheckout: 401 Unauthorized: "
                              "Unauthorized");
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, A403CarriesTheApiExplanationOfWhatRbacRefused) {
  ReplayServer replay({"pods_forbidden"});
  auto pods = client_for(replay).list_pods("kube-system", "app=checkout");
  ASSERT_FALSE(pods.ok());
  EXPECT_EQ(pods.kind(), Failure::forbidden);
  EXPECT_NE(pods.error().find("cannot list resource \"pods\" in API group \"\" in the namespace \"kube-system\""),
            std::string::npos)
      << pods.error();
  EXPECT_EQ(replay.problems(), "");
}

TEST(KubeClient, AnAnswerLongerThanTheBoundIsCutOffWithAnError) {
  ReplayServer replay({"pods_list_by_selector"});
  Config config;
  config.server = replay.url();
  config.token = "kube-fixture-token";
  auto plan =
      plan_transfer(config, "GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3Dcheckout%2Ctier%3Dweb", "");
  ASSERT_TRUE(plan.ok()) << plan.error();
  plan->max_answer_bytes = 1000;  // the recorded PodList is several kB
  auto answer = perform(*plan);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.kind(), Failure::transport);
  EXPECT_NE(answer.error().find("the answer is longer than 1000 bytes"), std::string::npos) << answer.error();
  EXPECT_EQ(replay.problems(), "");
}

// The replay server itself must catch a wrong request, or every test above could pass vacuously.
TEST(KubeReplay, AWrongTokenDoesNotMatchTheRecording) {
  ReplayServer replay({"pods_list_by_selector"});
  auto pods = client_for(replay, "another-token").list_pods("shop", "app=checkout,tier=web");
  EXPECT_FALSE(pods.ok());
  EXPECT_NE(replay.problems().find("header Authorization"), std::string::npos) << replay.problems();
}

TEST(KubeReplay, AWrongSelectorOrBodyDoesNotMatchTheRecording) {
  {
    ReplayServer replay({"pods_list_by_selector"});
    EXPECT_FALSE(client_for(replay).list_pods("shop", "app=checkout").ok());
    EXPECT_NE(replay.problems().find("query of"), std::string::npos) << replay.problems();
  }
  {
    ReplayServer replay({"lease_create"});
    Lease lease = new_run_lease();
    lease.lease_duration_seconds = 15;
    EXPECT_FALSE(client_for(replay).create_lease(lease).ok());
    EXPECT_NE(replay.problems().find("leaseDurationSeconds"), std::string::npos) << replay.problems();
  }
}

TEST(KubeReplay, ARecordingNeverRequestedIsReported) {
  ReplayServer replay({"lease_get_current", "lease_renew_put"});
  ASSERT_TRUE(client_for(replay).get_lease("chaosplus", run_lease).ok());
  EXPECT_NE(replay.problems().find("lease_renew_put.json"), std::string::npos) << replay.problems();
}

TEST(KubeClient, ANonLoopbackServerIsRefusedBeforeAnythingIsSent) {
  for (const char* server : {"https://10.96.0.1:443", "https://kubernetes.default.svc", "https://[2001:db8::1]:6443",
                             "https://localhost.example.com:6443", "https://127.0.0.1.nip.io:6443"}) {
    Config config;
    config.server = server;
    config.token = "t";
    auto client = Client::create(config);
    ASSERT_FALSE(client.ok()) << server;
    EXPECT_EQ(client.kind(), Failure::refused);
    EXPECT_NE(client.error().find("not loopback"), std::string::npos) << client.error();
    EXPECT_NE(client.error().find(server), std::string::npos) << client.error();
  }
}

}  // namespace
}  // namespace chaosplus::kube
