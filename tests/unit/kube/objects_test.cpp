// Lease, Pod and Node values: MicroTime, expiry by the wall clock and by observation, and the
// Lease's JSON keeping what chaosplus does not know.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "kube/objects.h"

namespace chaosplus::kube {
namespace {

using std::chrono::seconds;

WallTime at(const char* text) { return parse_micro_time(text).value(); }

TEST(KubeMicroTime, ParsesWhatTheApiServerWrites) {
  auto time = parse_micro_time("2026-12-06T19:50:08.250000Z");
  ASSERT_TRUE(time.ok()) << time.error();
  EXPECT_EQ(format_micro_time(*time), "2026-12-06T19:50:08.250000Z");
  // 2026-12-06T19:50:08Z in Unix seconds.
  EXPECT_EQ(std::chrono::duration_cast<seconds>(time->time_since_epoch()).count(), 1796586608);
}

TEST(KubeMicroTime, AcceptsOtherRfc3339Spellings) {
  EXPECT_EQ(at("2026-12-06T19:50:08Z"), at("2026-12-06T19:50:08.000000Z"));
  EXPECT_EQ(at("2026-12-06T19:50:08.25Z"), at("2026-12-06T19:50:08.250000Z"));
  EXPECT_EQ(at("2026-12-06T19:50:08.250000999Z"), at("2026-12-06T19:50:08.250000Z"));  // nanoseconds cut
  EXPECT_EQ(at("2026-12-06T21:50:08.25+02:00"), at("2026-12-06T19:50:08.25Z"));
  EXPECT_EQ(at("2026-12-06T00:10:00-01:30"), at("2026-12-06T01:40:00Z"));
  EXPECT_EQ(format_micro_time(at("2024-02-29T23:59:59.999999Z")), "2024-02-29T23:59:59.999999Z");
  EXPECT_EQ(format_micro_time(at("1970-01-01T00:00:00Z")), "1970-01-01T00:00:00.000000Z");
}

TEST(KubeMicroTime, RefusesWhatIsNotATime) {
  for (const char* bad : {"", "2026-12-06", "2026-12-06 19:50:08Z", "2026-12-06T19:50:08", "2026-02-30T00:00:00Z",
                          "2026-12-06T24:00:00Z", "2026-12-06T19:50:08.Z", "2026-12-06T19:50:08.1234567890Z",
                          "2026-12-06T19:50:08+0200", "2026-12-06T19:50:08Zjunk", "1796586608"}) {
    auto time = parse_micro_time(bad);
    EXPECT_FALSE(time.ok()) << bad;
    if (!time.ok()) {
      EXPECT_NE(time.error().find("RFC 3339"), std::string::npos);
    }
  }
}

Lease run_lease(const char* renew) {
  Lease lease;
  lease.name = "chaosplus-run-1";
  lease.namespace_ = "chaosplus";
  lease.holder_identity = "controller@laptop";
  lease.lease_duration_seconds = 10;
  lease.acquire_time = at("2026-12-06T19:50:00Z");
  if (renew != nullptr) lease.renew_time = at(renew);
  return lease;
}

TEST(KubeLeaseExpiry, AliveUntilRenewTimePlusDuration) {
  Lease lease = run_lease("2026-12-06T19:50:04Z");
  EXPECT_FALSE(expired_at(lease, at("2026-12-06T19:50:04Z")));
  EXPECT_FALSE(expired_at(lease, at("2026-12-06T19:50:14Z")));  // exactly at the end: not yet
  EXPECT_TRUE(expired_at(lease, at("2026-12-06T19:50:14.000001Z")));
}

TEST(KubeLeaseExpiry, NeverRenewedCountsFromAcquireTime) {
  Lease lease = run_lease(nullptr);
  EXPECT_FALSE(expired_at(lease, at("2026-12-06T19:50:09Z")));
  EXPECT_TRUE(expired_at(lease, at("2026-12-06T19:50:11Z")));
}

TEST(KubeLeaseExpiry, NoTimeOrNoDurationIsExpired) {
  Lease lease = run_lease(nullptr);
  lease.acquire_time.reset();
  EXPECT_TRUE(expired_at(lease, at("2026-12-06T19:50:00Z")));
  Lease endless = run_lease("2026-12-06T19:50:04Z");
  endless.lease_duration_seconds = 0;
  EXPECT_TRUE(expired_at(endless, at("2026-12-06T19:50:04Z")));
}

TEST(KubeLeaseWatch, ExpiresWhenNoRenewalIsSeenForTheDurationWhateverTheWritersClock) {
  using Instant = LeaseWatch::Instant;
  Instant t0{};
  LeaseWatch watch;
  EXPECT_TRUE(watch.expired(t0));  // nothing seen yet
  // The writer's clock is an hour behind ours: expired_at would call it dead, the watch does not.
  Lease lease = run_lease("2026-12-06T18:50:04Z");
  lease.resource_version = "1004";
  watch.observe(lease, t0);
  EXPECT_FALSE(watch.expired(t0 + seconds(9)));
  watch.observe(lease, t0 + seconds(9));  // the same renewal read again: no news
  EXPECT_TRUE(watch.expired(t0 + seconds(11)));
  lease.renew_time = at("2026-12-06T18:50:12Z");
  lease.resource_version = "1005";
  watch.observe(lease, t0 + seconds(12));  // a renewal: the countdown restarts
  EXPECT_FALSE(watch.expired(t0 + seconds(21)));
  EXPECT_TRUE(watch.expired(t0 + seconds(23)));
}

TEST(KubeLeaseWatch, AnotherWriteThatIsNoRenewalDoesNotKeepTheRunAlive) {
  using Instant = LeaseWatch::Instant;
  Instant t0{};
  LeaseWatch watch;
  Lease lease = run_lease("2026-12-06T19:50:04Z");
  lease.resource_version = "1004";
  watch.observe(lease, t0);
  // Someone labels the Lease: a new resourceVersion, the same renewTime. Only the holder's renewal
  // counts, or a person editing the Lease would hold the faults of a dead controller on.
  lease.labels["chaosplus.dev/phase"] = "steady";
  lease.resource_version = "1006";
  watch.observe(lease, t0 + seconds(8));
  EXPECT_TRUE(watch.expired(t0 + seconds(11)));
  // A renewal by a new holder is news (a controller that took the run over).
  lease.holder_identity = "controller@ci-runner-7";
  watch.observe(lease, t0 + seconds(12));
  EXPECT_FALSE(watch.expired(t0 + seconds(21)));
}

TEST(KubeLeaseJson, ANewLeaseHasOnlyWhatWeSet) {
  Lease lease = run_lease("2026-12-06T19:50:04Z");
  auto sent = nlohmann::json::parse(to_json(lease));
  EXPECT_EQ(sent, nlohmann::json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "chaosplus-run-1", "namespace": "chaosplus"},
    "spec": {"holderIdentity": "controller@laptop", "leaseDurationSeconds": 10,
             "acquireTime": "2026-12-06T19:50:00.000000Z", "renewTime": "2026-12-06T19:50:04.000000Z"}})"));
}

TEST(KubeLeaseJson, AReadModifyWriteKeepsFieldsWeDoNotKnow) {
  auto lease = lease_from_json(R"({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "x", "namespace": "n", "resourceVersion": "7", "uid": "u-1",
                 "annotations": {"a": "b"}, "ownerReferences": [{"kind": "Pod", "name": "p", "uid": "u-2"}]},
    "spec": {"holderIdentity": "h", "leaseDurationSeconds": 5, "renewTime": "2026-12-06T19:50:04.000000Z",
             "preferredHolder": "h2"}})",
                               "test");
  ASSERT_TRUE(lease.ok()) << lease.error();
  EXPECT_EQ(lease->resource_version, "7");
  lease->renew_time = at("2026-12-06T19:50:05Z");
  lease->holder_identity.clear();  // released: the field goes
  auto sent = nlohmann::json::parse(to_json(*lease));
  EXPECT_EQ(sent["metadata"]["uid"], "u-1");
  EXPECT_EQ(sent["metadata"]["annotations"]["a"], "b");
  EXPECT_EQ(sent["metadata"]["ownerReferences"][0]["name"], "p");
  EXPECT_EQ(sent["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(sent["spec"]["preferredHolder"], "h2");
  EXPECT_EQ(sent["spec"]["renewTime"], "2026-12-06T19:50:05.000000Z");
  EXPECT_FALSE(sent["spec"].contains("holderIdentity"));
}

TEST(KubeLeaseJson, ABadAnswerSaysWhere) {
  auto not_json = lease_from_json("<html>", "GET https://127.0.0.1:6443/x");
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.error().find("GET https://127.0.0.1:6443/x: the answer is not a JSON object"), std::string::npos)
      << not_json.error();
  auto wrong_kind = lease_from_json(R"({"kind": "ConfigMap", "metadata": {"name": "x"}})", "here");
  ASSERT_FALSE(wrong_kind.ok());
  EXPECT_NE(wrong_kind.error().find("expected a Lease, got a ConfigMap"), std::string::npos) << wrong_kind.error();
  auto bad_time =
      lease_from_json(R"({"kind": "Lease", "metadata": {"name": "x"}, "spec": {"renewTime": "soon"}})", "here");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.error().find("spec.renewTime"), std::string::npos) << bad_time.error();
}

}  // namespace
}  // namespace chaosplus::kube
