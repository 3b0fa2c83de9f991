// The sender over TLS against a real server: nginx with a self-signed certificate made by the
// openssl tool for this test, on a loopback port.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fuzz/exchange.h"
#include "support/support.h"

namespace chaosplus::fuzz {
namespace {

using namespace std::chrono_literals;

// nginx (one process) on https://localhost:PORT/ with a certificate for localhost and 127.0.0.1;
// it closes a connection after `keepalive_requests` requests.
struct TlsServer {
  chaosplus::testing::TempDir dir;
  int port = chaosplus::testing::free_port();
  std::unique_ptr<chaosplus::testing::Child> nginx;

  explicit TlsServer(int keepalive_requests) {
    chaosplus::testing::Child openssl({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                                       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.file("key.pem"), "-out",
                                       dir.file("cert.pem"), "-days", "2", "-subj", "/CN=localhost", "-addext",
                                       "subjectAltName=DNS:localhost,IP:127.0.0.1"});
    if (openssl.wait(30s) != 0) ADD_FAILURE() << "openssl req failed: " << openssl.output();
    const std::string d = dir.path();
    chaosplus::testing::write_file(
        dir.file("nginx.conf"),
        "worker_processes 1;\nmaster_process off;\ndaemon off;\npid " + d + "/nginx.pid;\nerror_log " + d +
            "/error.log warn;\nevents { worker_connections 256; }\nhttp {\n  access_log off;\n"
            "  keepalive_requests " +
            std::to_string(keepalive_requests) + ";\n  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d +
            "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d + "/uwsgi;\n  scgi_temp_path " +
            d + "/scgi;\n  server {\n    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n    ssl_certificate " + d +
            "/cert.pem;\n    ssl_certificate_key " + d +
            "/key.pem;\n    location / { default_type text/plain; return 200 \"hello $request_uri\"; }\n"
            "    location /missing { return 404; }\n  }\n}\n");
    nginx = std::make_unique<chaosplus::testing::Child>(
        std::vector<std::string>{"nginx", "-p", d, "-c", dir.file("nginx.conf"), "-e", dir.file("error.log")});
    // Plain HTTP to the TLS port gets nginx's 400: the server is up.
    const bool up = chaosplus::testing::wait_until(
        [&] { return chaosplus::testing::http_request("GET", "127.0.0.1", port, "/", {}, 1s).status == 400; }, 15s);
    if (!up) ADD_FAILURE() << "nginx did not start: " << nginx->output();
  }

  SenderOptions options(const std::string& host = "localhost", bool with_ca = true) const {
    SenderOptions o;
    o.base = *net::Url::parse("https://" + host + ":" + std::to_string(port) + "/");
    o.connections = 2;
    if (with_ca) o.tls.ca_file = dir.file("cert.pem");
    return o;
  }
};

std::string get(const std::string& target) { return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n\r\n"; }

TEST(SenderTls, ExchangesOverHttpsAndChecksTheCertificate) {
  TlsServer server(1000);
  const Reply ok = exchange_once(server.options(), get("/one"));
  ASSERT_EQ(ok.outcome, Outcome::response) << ok.error;
  EXPECT_EQ(ok.response.status, 200);
  EXPECT_EQ(ok.response.body, "hello /one");
  const Reply by_ip = exchange_once(server.options("127.0.0.1"), get("/missing"));
  ASSERT_EQ(by_ip.outcome, Outcome::response) << by_ip.error;
  EXPECT_EQ(by_ip.response.status, 404);

  // Without the CA the certificate is not trusted: the connect fails and says why.
  const Reply untrusted = exchange_once(server.options("localhost", false), get("/"));
  EXPECT_EQ(untrusted.outcome, Outcome::connect_failed);
  EXPECT_NE(untrusted.error.find("certificate"), std::string::npos) << untrusted.error;
  auto insecure = server.options("localhost", false);
  insecure.tls.verify = false;
  EXPECT_EQ(exchange_once(insecure, get("/")).outcome, Outcome::response);
}

TEST(SenderTls, ManyRequestsOverKeptAliveConnectionsThatTheServerRecycles) {
  TlsServer server(7);  // every 7th answer closes its connection: the sender reconnects
  auto opened = Sender::open(server.options());
  ASSERT_TRUE(opened.ok()) << opened.error();
  auto& sender = *opened;
  int answered = 0;
  for (int i = 0; i < 200; ++i) {
    sender->send(get("/" + std::to_string(i)), [&, i](Reply&& r) {
      ASSERT_EQ(r.outcome, Outcome::response) << r.error;
      EXPECT_EQ(r.response.body, "hello /" + std::to_string(i));
      ++answered;
    });
  }
  sender->pump(steady_now_ns() + 30'000'000'000, 1);
  EXPECT_EQ(answered, 200);
}

}  // namespace
}  // namespace chaosplus::fuzz
