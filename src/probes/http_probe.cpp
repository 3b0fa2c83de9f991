#include <chrono>

#include "net/http_client.h"
#include "net/url.h"
#include "probes/expectation.h"
#include "probes/probe.h"

namespace chaosplus::probes {

ProbeResult run_http(const spec::HttpProbe& probe, const spec::Expectation& expect) {
  using Clock = std::chrono::steady_clock;
  ProbeResult outcome;
  const auto start = Clock::now();
  auto url = net::Url::parse(probe.url);
  if (!url) {
    outcome.detail = url.error();
    return outcome;
  }
  net::Request request;
  request.method = probe.method;
  request.target = url->target;
  for (const auto& [name, value] : probe.headers) request.headers.push_back({name, value});
  request.body = probe.body;
  auto response = net::fetch(*url, std::move(request), probe.timeout);
  outcome.latency = Clock::now() - start;
  if (!response) {
    outcome.detail = response.error();
    return outcome;
  }
  outcome.status = response->status;
  outcome.detail = judge_http(expect, response->status, response->body, outcome.latency);
  outcome.ok = outcome.detail.empty();
  return outcome;
}

}  // namespace chaosplus::probes
