// The TLS settings reach libcurl and do their job: against `openssl s_server` on loopback (a CA of
// the test's own, a server certificate for 127.0.0.1, a client certificate required), the client
// completes the handshake only with the CA and its certificate and key. s_server answers with an
// HTML status page, not JSON, so a handshake that worked ends in Failure::bad_answer with status 200.
#include <gtest/gtest.h>

#include <filesystem>

#include "kube/client.h"
#include "support/support.h"

namespace chaosplus::kube {
namespace {

using chaosplus::testing::Child;
using chaosplus::testing::TempDir;

void run(const std::vector<std::string>& argv, const std::string& cwd) {
  Child child(argv, {}, cwd);
  auto code = child.wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value() && *code == 0) << argv[0] << " " << argv[1] << ": " << child.output();
}

class KubeTls : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists("/usr/bin/openssl")) GTEST_SKIP() << "needs /usr/bin/openssl";
    const std::string& d = dir_.path();
    auto key_and_request = [&](const std::string& name, const std::string& subject) {
      run({"openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
           name + ".key", "-out", name + ".csr", "-subj", subject},
          d);
    };
    run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
         "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=chaosplus-test-ca"},
        d);
    chaosplus::testing::write_file(dir_.file("server.ext"), "subjectAltName=IP:127.0.0.1\n");
    key_and_request("server", "/CN=kube-apiserver");
    run({"openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
         "server.crt", "-days", "2", "-extfile", "server.ext"},
        d);
    key_and_request("client", "/CN=chaosplus/O=chaosplus-agents");
    run({"openssl", "x509", "-req", "-in", "client.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out",
         "client.crt", "-days", "2"},
        d);
    port_ = chaosplus::testing::free_port();
    server_ = std::make_unique<Child>(
        std::vector<std::string>{"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port_), "-cert",
                                 "server.crt", "-key", "server.key", "-CAfile", "ca.crt", "-Verify", "1", "-www"},
        std::map<std::string, std::string>{}, d);
    ASSERT_TRUE(chaosplus::testing::wait_until([&] { return server_->output().find("ACCEPT") != std::string::npos; }))
        << server_->output();
  }

  Config config() const {
    Config c;
    c.server = "https://127.0.0.1:" + std::to_string(port_);
    c.token = "tls-token";
    c.timeout = std::chrono::seconds(10);
    return c;
  }

  TempDir dir_;
  int port_ = 0;
  std::unique_ptr<Child> server_;
};

TEST_F(KubeTls, WithTheCaAndAClientCertificateTheHandshakeSucceeds) {
  Config c = config();
  c.ca_file = dir_.file("ca.crt");
  c.cert_file = dir_.file("client.crt");
  c.key_file = dir_.file("client.key");
  auto nodes = Client::create(c).value().list_nodes("");
  ASSERT_FALSE(nodes.ok());
  EXPECT_EQ(nodes.kind(), Failure::bad_answer) << nodes.error();
  EXPECT_EQ(nodes.failure().http_status, 200);
}

TEST_F(KubeTls, WithoutTheCaTheServerIsNotTrusted) {
  auto nodes = Client::create(config()).value().list_nodes("");
  ASSERT_FALSE(nodes.ok());
  EXPECT_EQ(nodes.kind(), Failure::transport) << nodes.error();
  EXPECT_NE(nodes.error().find("certificate"), std::string::npos) << nodes.error();
  EXPECT_NE(nodes.error().find("GET https://127.0.0.1:" + std::to_string(port_) + "/api/v1/nodes: "), std::string::npos)
      << nodes.error();
}

TEST_F(KubeTls, WithoutAClientCertificateTheServerRefuses) {
  Config c = config();
  c.ca_file = dir_.file("ca.crt");
  auto nodes = Client::create(c).value().list_nodes("");
  ASSERT_FALSE(nodes.ok());
  EXPECT_EQ(nodes.kind(), Failure::transport) << nodes.error();
}

TEST(KubeTlsConfig, ACertificateWithoutItsKeyIsRefused) {
  Config c;
  c.server = "https://127.0.0.1:6443";
  c.cert_file = "/etc/chaosplus/client.crt";
  auto client = Client::create(c);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.kind(), Failure::refused);
  EXPECT_NE(client.error().find("needs its key"), std::string::npos) << client.error();
}

}  // namespace
}  // namespace chaosplus::kube
