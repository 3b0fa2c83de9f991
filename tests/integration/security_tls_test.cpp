// The TLS check against real servers: nginx offering TLS 1.0 to 1.2 with every cipher (security
// level 0), and nginx with its defaults. The first is a weak_tls finding per old protocol; the
// second gives none.
#include <gtest/gtest.h>

#include "fuzz/chaos_context.h"
#include "openapi/document.h"
#include "security/scanner.h"
#include "security/tls_probe.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

struct Nginx {
  testing::TempDir dir;
  int weak = testing::free_port();
  int strong = testing::free_port();
  std::unique_ptr<testing::Child> nginx;

  Nginx() {
    testing::Child openssl({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                            "-nodes", "-keyout", dir.file("key.pem"), "-out", dir.file("cert.pem"), "-days", "2",
                            "-subj", "/CN=localhost"});
    if (openssl.wait(30s) != 0) ADD_FAILURE() << "openssl req failed: " << openssl.output();
    const std::string d = dir.path();
    const std::string tls =
        " ssl;\n    ssl_certificate " + d + "/cert.pem;\n    ssl_certificate_key " + d + "/key.pem;\n";
    testing::write_file(dir.file("nginx.conf"),
                        "worker_processes 1;\nmaster_process off;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " +
                            d + "/error.log warn;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n" +
                            "  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d +
                            "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d +
                            "/uwsgi;\n  scgi_temp_path " + d +
                            "/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(weak) + tls +
                            "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n    ssl_ciphers \"ALL:@SECLEVEL=0\";\n"
                            "    location / { return 200 \"weak\\n\"; }\n  }\n  server {\n    listen 127.0.0.1:" +
                            std::to_string(strong) + tls + "    location / { return 200 \"strong\\n\"; }\n  }\n}\n");
    nginx = std::make_unique<testing::Child>(
        std::vector<std::string>{"nginx", "-p", d, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")});
    // Plain HTTP to a TLS port gets nginx's 400: the server is up.
    for (int port : {weak, strong}) {
      const bool up = testing::wait_until(
          [&] { return testing::http_request("GET", "127.0.0.1", port, "/", {}, 1s).status == 400; }, 15s);
      if (!up) ADD_FAILURE() << "nginx did not start: " << nginx->output() << testing::read_file(dir.file("error.log"));
    }
  }
};

std::vector<std::string> signatures(const security::TlsProbeResult& r) {
  std::vector<std::string> out;
  for (const auto& w : r.weaknesses) out.push_back(w.signature);
  return out;
}

TEST(SecurityTls, OldProtocolsAreFoundAndDefaultsAreClean) {
  Nginx server;
  const auto weak = security::probe_tls("127.0.0.1", server.weak, 5s);
  const auto found = signatures(weak);
  EXPECT_NE(std::find(found.begin(), found.end(), "offers TLS 1.0"), found.end())
      << ::testing::PrintToString(weak.accepted) << ::testing::PrintToString(weak.untested);
  EXPECT_NE(std::find(found.begin(), found.end(), "offers TLS 1.1"), found.end());
  const auto strong = security::probe_tls("127.0.0.1", server.strong, 5s);
  EXPECT_TRUE(strong.weaknesses.empty()) << ::testing::PrintToString(signatures(strong));
  EXPECT_FALSE(strong.accepted.empty());
}

TEST(SecurityTls, TheScannerReportsThemAsWeakTlsFindings) {
  Nginx server;
  auto document = openapi::load_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n", "t.yaml");
  ASSERT_TRUE(document) << document.error();
  security::ScanOptions options;
  options.base = *net::Url::parse("https://127.0.0.1:" + std::to_string(server.weak));
  options.checks = {"tls"};
  fuzz::ChaosContext context;
  security::Scanner scanner(*document, options, context);
  scanner.scan_tls();
  const auto findings = scanner.findings().all();
  ASSERT_GE(findings.size(), 2u);
  EXPECT_EQ(findings[0].oracle, "weak_tls");
  EXPECT_EQ(findings[0].engine, "security");
  EXPECT_EQ(findings[0].signature, "offers TLS 1.0");
  EXPECT_NE(findings[0].evidence.find("handshake completed with TLSv1"), std::string::npos) << findings[0].evidence;
}

}  // namespace
}  // namespace chaosplus
