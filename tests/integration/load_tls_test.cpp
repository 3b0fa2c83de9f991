// The load engine over TLS against a real server: nginx with a self-signed certificate made by the
// openssl tool for this test, on a loopback port. Checks status codes, keep-alive reuse (far fewer
// handshakes than requests), session resumption across reconnects, and certificate checks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

// nginx (one process) serving https://localhost:PORT/ with a certificate for localhost and
// 127.0.0.1; it closes a connection after `keepalive_requests` requests, so a run reconnects.
struct TlsServer {
  testing::TempDir dir;
  int port = testing::free_port();
  int plain_port = testing::free_port();  // the same server without TLS
  std::unique_ptr<testing::Child> nginx;

  explicit TlsServer(int keepalive_requests = 100) {
    testing::Child openssl({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem"), "-days", "2",
                            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"});
    const auto made = openssl.wait(30s);
    if (made != 0) ADD_FAILURE() << "openssl req failed: " << openssl.output();
    const std::string d = dir.path();
    testing::write_file(
        dir.file("nginx.conf"),
        "worker_processes 1;\nmaster_process off;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " + d +
            "/error.log warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n"
            "  keepalive_requests " +
            std::to_string(keepalive_requests) + ";\n  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d +
            "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d + "/uwsgi;\n  scgi_temp_path " +
            d + "/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n    ssl_certificate " + d +
            "/cert.pem;\n    ssl_certificate_key " + d +
            "/key.pem;\n    location / { default_type text/plain; return 200 \"hello\\n\"; }\n"
            "    location /missing { return 404; }\n  }\n  server {\n    listen 127.0.0.1:" +
            std::to_string(plain_port) + ";\n    location / { return 200 \"plain\\n\"; }\n  }\n}\n");
    nginx = std::make_unique<testing::Child>(
        std::vector<std::string>{"nginx", "-p", d, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")});
    // Plain HTTP to the TLS port gets nginx's 400: the server is up.
    const bool up = testing::wait_until(
        [&] { return testing::http_request("GET", "127.0.0.1", port, "/", {}, 1s).status == 400; }, 15s);
    if (!up) ADD_FAILURE() << "nginx did not start: " << nginx->output() << testing::read_file(dir.file("error.log"));
  }

  std::string url(const std::string& host = "localhost", const std::string& path = "/") const {
    return "https://" + host + ":" + std::to_string(port) + path;
  }
  std::string ca() const { return dir.file("cert.pem"); }
};

struct LoadRun {
  int code = -1;
  std::string output;
  nlohmann::json report;
};

LoadRun run_load(const testing::TempDir& dir, std::vector<std::string> args) {
  const std::string json_path = dir.file("report.json");
  std::vector<std::string> argv{testing::bin("chaosplus"), "load", "-q", "--json", json_path};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::Child c(argv);
  LoadRun r;
  r.code = c.wait(60s).value_or(-1);
  r.output = c.output();
  r.report = nlohmann::json::parse(testing::read_file(json_path), nullptr, false);
  return r;
}

std::uint64_t status_count(const nlohmann::json& report, const std::string& code) {
  return report["counters"]["status"].value(code, std::uint64_t{0});
}

TEST(LoadTls, HttpsRequestsReuseConnectionsAndResumeSessions) {
  TlsServer server(100);
  auto r = run_load(server.dir, {server.url(), "--cacert", server.ca(), "-c", "4", "-n", "2000", "-d", "30s"});
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_FALSE(r.report.is_discarded()) << r.output;
  const auto& c = r.report["counters"];
  const auto requests = c["requests"].get<std::uint64_t>();
  EXPECT_GE(requests, 2000u) << r.output;
  EXPECT_EQ(status_count(r.report, "200"), requests) << r.output;
  for (const auto& [kind, n] : c["errors"].items()) EXPECT_EQ(n.get<std::uint64_t>(), 0u) << kind << "\n" << r.output;
  // Keep-alive: nginx closes after 100 requests, so ~2000/100 + 4 connections, not one per request.
  const auto handshakes = c["tls"]["handshakes"].get<std::uint64_t>();
  EXPECT_GE(handshakes, 4u);
  EXPECT_LE(handshakes, requests / 50) << r.output;
  // Reconnects offer the connection's last session, and nginx takes it.
  EXPECT_GE(c["tls"]["resumed"].get<std::uint64_t>(), 1u) << r.output;
  EXPECT_NE(r.output.find("TLS handshakes:"), std::string::npos) << r.output;
}

TEST(LoadTls, StatusCodesOverTlsAreCounted) {
  TlsServer server;
  auto r = run_load(server.dir, {server.url("localhost", "/missing"), "--cacert", server.ca(), "-c", "2", "-n", "50"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GE(status_count(r.report, "404"), 50u) << r.output;
  EXPECT_EQ(status_count(r.report, "200"), 0u) << r.output;
}

TEST(LoadTls, AnUntrustedCertificateIsAVerificationErrorWithItsReason) {
  TlsServer server;
  // No --cacert: the self-signed certificate is not in the system's store.
  auto r = run_load(server.dir, {server.url(), "-c", "2", "-d", "1s"});
  ASSERT_EQ(r.code, 0) << r.output;
  const auto& c = r.report["counters"];
  EXPECT_EQ(c["requests"].get<std::uint64_t>(), 0u) << r.output;
  EXPECT_GE(c["errors"]["tls_verify"].get<std::uint64_t>(), 2u) << r.output;
  EXPECT_EQ(c["errors"]["tls"].get<std::uint64_t>(), 0u) << r.output;
  EXPECT_EQ(c["tls"]["handshakes"].get<std::uint64_t>(), 0u) << r.output;
  EXPECT_NE(r.report["tls_error"].get<std::string>().find("certificate verify failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("tls_verify"), std::string::npos) << r.output;
}

TEST(LoadTls, TlsToAPlainHttpServerIsAHandshakeError) {
  TlsServer server;
  auto r = run_load(server.dir,
                    {"https://127.0.0.1:" + std::to_string(server.plain_port) + "/", "-k", "-c", "1", "-d", "1s"});
  ASSERT_EQ(r.code, 0) << r.output;
  const auto& c = r.report["counters"];
  EXPECT_EQ(c["requests"].get<std::uint64_t>(), 0u) << r.output;
  EXPECT_GE(c["errors"]["tls"].get<std::uint64_t>(), 1u) << r.output;
  EXPECT_EQ(c["errors"]["tls_verify"].get<std::uint64_t>(), 0u) << r.output;
  EXPECT_NE(r.report["tls_error"].get<std::string>().find("handshake"), std::string::npos) << r.output;
}

TEST(LoadTls, InsecureSkipsTheCertificateCheck) {
  TlsServer server;
  auto r = run_load(server.dir, {server.url("127.0.0.1"), "-k", "-c", "2", "-n", "100"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GE(status_count(r.report, "200"), 100u) << r.output;
  EXPECT_EQ(r.report["counters"]["errors"]["tls_verify"].get<std::uint64_t>(), 0u) << r.output;
}

TEST(LoadTls, AnIpAddressIsCheckedAgainstTheCertificatesAddresses) {
  TlsServer server;
  auto r = run_load(server.dir, {server.url("127.0.0.1"), "--cacert", server.ca(), "-c", "2", "-n", "100"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GE(status_count(r.report, "200"), 100u) << r.output;
}

TEST(LoadTls, WorkerProcessesSpeakTlsToo) {
  TlsServer server;
  auto r = run_load(server.dir, {server.url(), "--cacert", server.ca(), "-c", "4", "--processes", "2", "-n", "400"});
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_GE(status_count(r.report, "200"), 400u) << r.output;
  EXPECT_GE(r.report["counters"]["tls"]["handshakes"].get<std::uint64_t>(), 4u) << r.output;
}

TEST(LoadTls, AMissingCaFileIsRefusedBeforeSending) {
  TlsServer server;
  auto r = run_load(server.dir, {server.url(), "--cacert", server.dir.file("nope.pem"), "-n", "10"});
  EXPECT_EQ(r.code, 3) << r.output;
  EXPECT_NE(r.output.find("cannot load CA file"), std::string::npos) << r.output;
}

TEST(LoadTls, AnExperimentLoadBlockSpeaksHttps) {
  TlsServer server;
  const std::string experiment = server.dir.file("experiment.yaml");
  testing::write_file(
      experiment, "name: tls-load\nphases:\n  - name: blast\n    duration: 2s\n    load:\n      url: " + server.url() +
                      "\n      connections: 2\n      rate: 200/s\n      tls: { ca_file: \"" + server.ca() +
                      "\" }\n      thresholds: [\"error_rate < 1%\", \"rps > 50\"]\n");
  testing::Child c({testing::bin("chaosplus"), "run", experiment, "--plain", "--state-dir", server.dir.file("state"),
                    "--journal", server.dir.file("journal.jsonl")});
  const auto code = c.wait(60s);
  ASSERT_EQ(code, 0) << c.output();
  bool found = false;
  for (const auto& line : testing::read_lines(server.dir.file("journal.jsonl"))) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("type", "") != "load.summary") continue;
    found = true;
    EXPECT_GT(j["requests"].get<double>(), 200) << line;
    EXPECT_TRUE(j["thresholds_held"].get<bool>()) << line;
  }
  EXPECT_TRUE(found) << c.output();
}

}  // namespace
}  // namespace chaosplus
