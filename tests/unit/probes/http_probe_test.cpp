#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "probes/probe.h"
#include "support/support.h"

namespace chaosplus::probes {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Answers /health with 200 "ok", /down with 503, /echo with what it received.
class TestServer {
 public:
  TestServer()
      : server_({}, [](const net::Request& request) {
          if (request.path() == "/health") return net::Response::text(200, "ok");
          if (request.path() == "/down") return net::Response::text(503, "maintenance");
          if (request.path() == "/echo") {
            return net::Response::text(200, request.method + " " + request.target + " x-probe=" +
                                                std::string(request.header("X-Probe")) + " body=" + request.body);
          }
          return net::Response::text(404, "not found");
        }) {
    EXPECT_TRUE(server_.start().ok());
  }
  std::string url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + target;
  }

 private:
  net::HttpServer server_;
};

spec::HttpProbe get(const std::string& url) {
  spec::HttpProbe probe;
  probe.url = url;
  return probe;
}

TEST(HttpProbe, ATwoHundredAnswerPasses) {
  TestServer server;
  const ProbeResult outcome = run_http(get(server.url("/health")), {});
  EXPECT_TRUE(outcome.ok) << outcome.detail;
  EXPECT_EQ(outcome.status, 200);
  EXPECT_GT(outcome.latency.count(), 0);
}

TEST(HttpProbe, MethodHeadersAndBodyAreSent) {
  TestServer server;
  spec::HttpProbe probe = get(server.url("/echo?q=1"));
  probe.method = "POST";
  probe.headers = {{"X-Probe", "steady"}};
  probe.body = "payload";
  spec::Expectation expect;
  expect.body_contains = "POST /echo?q=1 x-probe=steady body=payload";
  const ProbeResult outcome = run_http(probe, expect);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
}

TEST(HttpProbe, AnErrorStatusFailsWithTheStatus) {
  TestServer server;
  const ProbeResult outcome = run_http(get(server.url("/down")), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 503);
  EXPECT_EQ(outcome.detail, "status 503 not 2xx");
}

TEST(HttpProbe, BodyExpectationsAreChecked) {
  TestServer server;
  spec::Expectation expect;
  expect.body_regex = "^o.$";
  EXPECT_TRUE(run_http(get(server.url("/health")), expect).ok);
  expect.body_regex.reset();
  expect.body_contains = "healthy";
  const ProbeResult outcome = run_http(get(server.url("/health")), expect);
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.detail, "body does not contain 'healthy'");
}

TEST(HttpProbe, ARefusedConnectionFailsSayingSo) {
  const int port = chaosplus::testing::free_port();
  const ProbeResult outcome = run_http(get("http://127.0.0.1:" + std::to_string(port) + "/"), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.status, 0);
  EXPECT_TRUE(contains(outcome.detail, "refused")) << outcome.detail;
}

TEST(HttpProbe, AServerThatNeverAnswersTimesOut) {
  // Connections land in the backlog and are never accepted, so no answer ever comes.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  spec::HttpProbe probe = get("http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/");
  probe.timeout = std::chrono::milliseconds(200);
  const ProbeResult outcome = run_http(probe, {});
  ::close(fd);
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(contains(outcome.detail, "timed out after 200ms")) << outcome.detail;
}

TEST(HttpProbe, AnInvalidUrlFails) {
  const ProbeResult outcome = run_http(get("ftp://127.0.0.1/"), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_FALSE(outcome.detail.empty());
}

TEST(HttpProbe, RunDispatchesAnHttpProbe) {
  TestServer server;
  spec::Probe probe;
  probe.kind = get(server.url("/down"));
  probe.expect.status = {503};
  const ProbeResult outcome = run(probe);
  EXPECT_TRUE(outcome.ok) << outcome.detail;
  EXPECT_EQ(outcome.status, 503);
}

}  // namespace
}  // namespace chaosplus::probes
