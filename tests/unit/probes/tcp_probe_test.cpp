#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "probes/probe.h"
#include "support/support.h"

namespace chaosplus::probes {
namespace {

using chaosplus::testing::Listener;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

spec::TcpProbe tcp(int port) {
  spec::TcpProbe probe;
  probe.address = {"127.0.0.1", port};
  return probe;
}

TEST(TcpProbe, ConnectingToAListenerPasses) {
  Listener listener;
  const ProbeResult outcome = run_tcp(tcp(listener.port()), {});
  EXPECT_TRUE(outcome.ok) << outcome.detail;
  EXPECT_EQ(outcome.status, 0);
  EXPECT_GT(outcome.latency.count(), 0);
}

TEST(TcpProbe, AClosedPortFailsSayingItWasRefused) {
  const int port = chaosplus::testing::free_port();
  const ProbeResult outcome = run_tcp(tcp(port), {});
  EXPECT_FALSE(outcome.ok);
  EXPECT_TRUE(contains(outcome.detail, "127.0.0.1:" + std::to_string(port))) << outcome.detail;
  EXPECT_TRUE(contains(outcome.detail, "refused")) << outcome.detail;
}

TEST(TcpProbe, TheLatencyExpectationIsApplied) {
  Listener listener;
  spec::Expectation expect;
  expect.latency = Comparison{CompareOp::less, 0.0};  // nothing is faster than zero
  const ProbeResult outcome = run_tcp(tcp(listener.port()), expect);
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
