#include <nlohmann/json.hpp>

#include "extension/session.h"
#include "probes/expectation.h"
#include "probes/probe.h"

namespace chaosplus::probes {

// One session per probe run: an extension holds no state between runs (docs/extensions.md).
ProbeResult run_extension(const spec::ExtensionProbe& probe, const spec::Expectation& expect) {
  ProbeResult outcome;
  const auto started = std::chrono::steady_clock::now();
  nlohmann::json body{
      {"probe", probe.call.operation},
      {"params", nlohmann::json::parse(probe.call.params_json.empty() ? "{}" : probe.call.params_json)}};
  auto reply = extension::call(probe.call.command, "probe", body, probe.timeout);
  outcome.latency = std::chrono::steady_clock::now() - started;
  if (!reply) {
    outcome.detail = reply.error();
    return outcome;
  }
  if (expect.latency) outcome.detail = judge_latency(*expect.latency, outcome.latency);
  outcome.ok = outcome.detail.empty();
  return outcome;
}

}  // namespace chaosplus::probes
