// Where the client connects and what libcurl is given: the loopback rule, the in-cluster
// configuration, the bearer token (also from a rotated file) and the TLS files.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "kube/config.h"
#include "kube/transfer.h"
#include "support/support.h"

namespace chaosplus::kube {
namespace {

using chaosplus::testing::TempDir;
using chaosplus::testing::write_file;

bool has(const std::vector<std::string>& headers, const std::string& header) {
  return std::find(headers.begin(), headers.end(), header) != headers.end();
}

TEST(KubeServer, LoopbackAddressesAreAccepted) {
  for (const char* server : {"https://127.0.0.1:6443", "http://127.0.0.1:8080", "https://[::1]:6443",
                             "https://localhost:6443", "https://127.3.4.5", "https://127.0.0.1:6443/prefix/"})
    EXPECT_TRUE(check_server(server).ok()) << server << ": " << check_server(server).error();
}

TEST(KubeServer, EverythingElseIsRefusedWithTheReason) {
  auto refused = check_server("https://10.96.0.1:443");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error(),
            "Kubernetes API server \"https://10.96.0.1:443\": host 10.96.0.1 is not loopback; this version of "
            "chaosplus talks only to an API server on loopback (127.0.0.0/8, ::1, localhost), see "
            "docs/kubernetes.md");
  EXPECT_FALSE(check_server("ftp://127.0.0.1/").ok());
  EXPECT_FALSE(check_server("127.0.0.1:6443").ok());
  EXPECT_FALSE(check_server("https://user:pw@127.0.0.1:6443").ok());
  EXPECT_FALSE(check_server("").ok());
}

TEST(KubeTransfer, TheTokenTheTlsFilesAndNoProxyOrRedirectsAreWhatCurlIsGiven) {
  Config config;
  config.server = "https://127.0.0.1:6443/";
  config.token = "abc.def";
  config.ca_file = "/etc/chaosplus/kube/ca.crt";
  config.cert_file = "/etc/chaosplus/kube/client.crt";
  config.key_file = "/etc/chaosplus/kube/client.key";
  config.timeout = std::chrono::milliseconds(2500);
  auto plan = plan_transfer(config, "PUT", "/apis/coordination.k8s.io/v1/namespaces/x/leases/y", "{}");
  ASSERT_TRUE(plan.ok()) << plan.error();
  EXPECT_EQ(plan->url, "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/x/leases/y");
  EXPECT_EQ(plan->method, "PUT");
  EXPECT_TRUE(has(plan->headers, "Authorization: Bearer abc.def"));
  EXPECT_TRUE(has(plan->headers, "Content-Type: application/json"));
  EXPECT_TRUE(has(plan->headers, "Accept: application/json"));
  EXPECT_EQ(plan->ca_file, "/etc/chaosplus/kube/ca.crt");
  EXPECT_EQ(plan->cert_file, "/etc/chaosplus/kube/client.crt");
  EXPECT_EQ(plan->key_file, "/etc/chaosplus/kube/client.key");
  EXPECT_TRUE(plan->verify_peer);
  EXPECT_FALSE(plan->follow_redirects);
  EXPECT_EQ(plan->proxy, "");
  EXPECT_EQ(plan->timeout_ms, 2500);
  EXPECT_EQ(plan->body, "{}");
}

TEST(KubeTransfer, NoTokenMeansNoAuthorizationHeader) {
  Config config;
  config.server = "https://127.0.0.1:6443";
  auto plan = plan_transfer(config, "GET", "/api/v1/nodes", "");
  ASSERT_TRUE(plan.ok()) << plan.error();
  for (const auto& header : plan->headers) EXPECT_EQ(header.find("Authorization"), std::string::npos) << header;
  EXPECT_FALSE(has(plan->headers, "Content-Type: application/json"));
}

TEST(KubeTransfer, ATokenFileIsReadAgainForEveryRequestSoARotatedTokenIsUsed) {
  TempDir dir;
  write_file(dir.file("token"), "first-token\n");
  Config config;
  config.server = "https://127.0.0.1:6443";
  config.token_file = dir.file("token");
  auto first = plan_transfer(config, "GET", "/api/v1/nodes", "");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(has(first->headers, "Authorization: Bearer first-token"));
  write_file(dir.file("token"), "second-token");
  auto second = plan_transfer(config, "GET", "/api/v1/nodes", "");
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_TRUE(has(second->headers, "Authorization: Bearer second-token"));
  config.token_file = dir.file("gone");
  auto missing = plan_transfer(config, "GET", "/api/v1/nodes", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.kind(), Failure::refused);
  EXPECT_NE(missing.error().find(dir.file("gone")), std::string::npos) << missing.error();
}

TEST(KubeTransfer, ANonLoopbackServerGetsNoPlan) {
  Config config;
  config.server = "https://192.168.49.2:8443";
  auto plan = plan_transfer(config, "GET", "/api/v1/nodes", "");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.kind(), Failure::refused);
  EXPECT_NE(plan.error().find("GET https://192.168.49.2:8443/api/v1/nodes"), std::string::npos) << plan.error();
}

TEST(KubeTransfer, SelectorsAreEscapedForTheQuery) {
  EXPECT_EQ(query_escape("app=checkout,tier in (web)"), "app%3Dcheckout%2Ctier%20in%20%28web%29");
  EXPECT_EQ(query_escape("chaosplus.dev/agent=true"), "chaosplus.dev%2Fagent%3Dtrue");
}

TEST(KubeTransfer, ANoAnswerIsATransportErrorWithTheUrl) {
  Config config;
  config.server = "http://127.0.0.1:" + std::to_string(chaosplus::testing::free_port());
  config.timeout = std::chrono::seconds(5);
  auto plan = plan_transfer(config, "GET", "/api/v1/nodes", "");
  ASSERT_TRUE(plan.ok());
  auto answer = perform(*plan);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.kind(), Failure::transport);
  EXPECT_NE(answer.error().find("GET " + config.server + "/api/v1/nodes: "), std::string::npos) << answer.error();
}

TEST(KubeInCluster, ReadsTheServiceAccountAndTheServiceAddress) {
  TempDir dir;
  write_file(dir.file("token"), "sa-token\n");
  write_file(dir.file("ca.crt"), "-----BEGIN CERTIFICATE-----\n");
  write_file(dir.file("namespace"), "chaosplus\n");
  std::map<std::string, std::string> env = {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                                            {"KUBERNETES_SERVICE_PORT", "443"}};
  InClusterSource source{dir.path(), [&env](const std::string& name) -> std::optional<std::string> {
                           auto found = env.find(name);
                           return found == env.end() ? std::nullopt : std::optional(found->second);
                         }};
  auto config = in_cluster_config(source);
  ASSERT_TRUE(config.ok()) << config.error();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->token_file, dir.file("token"));
  EXPECT_EQ(config->ca_file, dir.file("ca.crt"));
  EXPECT_EQ(config->namespace_, "chaosplus");
  // A real cluster's service address is not loopback: this version refuses it, and says so.
  auto refused = check_server(config->server);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("not loopback"), std::string::npos);

  env["KUBERNETES_SERVICE_HOST"] = "fd00:10:96::1";
  auto v6 = in_cluster_config(source);
  ASSERT_TRUE(v6.ok()) << v6.error();
  EXPECT_EQ(v6->server, "https://[fd00:10:96::1]:443");
}

TEST(KubeInCluster, OutsideAPodSaysWhatIsMissing) {
  TempDir dir;
  InClusterSource source{dir.path(), [](const std::string&) -> std::optional<std::string> { return std::nullopt; }};
  auto config = in_cluster_config(source);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().find("KUBERNETES_SERVICE_HOST"), std::string::npos) << config.error();

  source.env = [](const std::string& name) -> std::optional<std::string> {
    return name == "KUBERNETES_SERVICE_HOST" ? "127.0.0.1" : "6443";
  };
  auto no_token = in_cluster_config(source);
  ASSERT_FALSE(no_token.ok());
  EXPECT_NE(no_token.error().find(dir.file("token")), std::string::npos) << no_token.error();
}

}  // namespace
}  // namespace chaosplus::kube
