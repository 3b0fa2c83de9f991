#include <chrono>

#include "net/socket.h"
#include "probes/expectation.h"
#include "probes/probe.h"

namespace chaosplus::probes {

ProbeResult run_tcp(const spec::TcpProbe& probe, const spec::Expectation& expect) {
  using Clock = std::chrono::steady_clock;
  ProbeResult outcome;
  const auto start = Clock::now();
  auto connected = net::connect_tcp(probe.address.host, probe.address.port, probe.timeout);
  outcome.latency = Clock::now() - start;
  if (!connected) {
    outcome.detail = connected.error();
    return outcome;
  }
  outcome.detail = judge_tcp(expect, outcome.latency);
  outcome.ok = outcome.detail.empty();
  return outcome;
}

}  // namespace chaosplus::probes
