#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "probes/probe.h"
#include "support/support.h"

namespace chaosplus::probes {
namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A listening socket on 127.0.0.1, port chosen by the kernel; connections wait in the backlog.
class Listener {
 public:
  Listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

spec::TcpProbe tcp(int port) {
  spec::TcpProbe probe;
  probe.address = {"127.0.0.1", port};
  return probe;
}

TEST(TcpProbe, ConnectingToAListenerPasses) {
  Listener listener;
  const Outcome outcome = run_tcp(tcp(listener.port()), {});
  EXPECT_TRUE(outcome.ok) << outcome.detail;
  EXPECT_EQ(outcome.status, 0);
  EXPECT_GT(outcome.latency.count(), 0);
}

TEST(TcpProbe, AClosedPortFailsSayingItWasRefused) {
  const int port = chaosplus::testing::free_port();
  const Outcome outcome = run_tcp(tcp(port), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(contains(outcome.detail, "127.0.0.1:" + std::to_string(port))) << outcome.detail;
  EXPECT_TRUE(contains(outcome.detail, "refused")) << outcome.detail;
}

TEST(TcpProbe, TheLatencyExpectationIsApplied) {
  Listener listener;
  spec::Expectation expect;
  expect.latency = Comparison{CompareOp::less, 0.0};  // nothing is faster than zero
  const Outcome outcome = run_tcp(tcp(listener.port()), expect);
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(outcome.detail.starts_with("latency ")) << outcome.detail;
}

TEST(TcpProbe, RunDispatchesATcpProbe) {
  Listener listener;
  spec::Probe probe;
  probe.kind = tcp(listener.port());
  EXPECT_TRUE(run(probe).ok);
}

}  // namespace
}  // namespace chaosplus::probes
