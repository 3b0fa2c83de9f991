// Each proxy fault, as an experiment file writes it, becomes a toxic the proxy accepts, with the
// settings in the proxy's units.
#include <string>

#include <gtest/gtest.h>

#include "faults/proxy_faults.h"
#include "spec/fault_catalog.h"
#include "spec/loader.h"

namespace chaosplus::faults {
namespace {

// Loads one fault written as `- <yaml>` against a target with a proxy.
spec::Fault load_fault(const std::string& fault_yaml) {
  const std::string text = R"(name: toxics
targets:
  api: { endpoint: "127.0.0.1:18081", proxy: { listen: "127.0.0.1:18080", upstream: "127.0.0.1:18081" } }
phases:
  - name: a
    duration: 10s
    faults:
      - )" + fault_yaml + "\n";
  spec::LoadResult loaded = spec::load_experiment_text(text, "toxics.yaml");
  std::string errors;
  for (const auto& e : loaded.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(loaded.errors.empty()) << errors;
  if (!loaded.experiment || loaded.experiment->phases.empty() || loaded.experiment->phases[0].faults.empty()) return {};
  return loaded.experiment->phases[0].faults[0];
}

proxy::ToxicSpec toxic_of(const std::string& fault_yaml) {
  auto draft = toxic_for(load_fault(fault_yaml));
  EXPECT_TRUE(draft.ok()) << fault_yaml << ": " << draft.error();
  if (!draft) return {};
  auto toxic = proxy::make_toxic(*draft);
  EXPECT_TRUE(toxic.ok()) << fault_yaml << ": " << toxic.error();
  return toxic.ok() ? *toxic : proxy::ToxicSpec{};
}

TEST(ProxyFaultToxics, EveryProxyFaultWithOnlyItsRequiredSettingsIsAToxicTheProxyAccepts) {
  const std::map<std::string, std::string> required{{"latency", "latency: 100ms"},  {"bandwidth", "rate: 64KB/s"},
                                                    {"timeout", "after: 5s"},       {"slow_close", "delay: 1s"},
                                                    {"slicer", "average_size: 64"}, {"limit_data", "bytes: 1KiB"},
                                                    {"http_delay", "delay: 1s"}};
  int proxy_faults = 0;
  for (const auto& type : spec::fault_catalog()) {
    if (type.needs != spec::Capability::proxy) continue;
    ++proxy_faults;
    const std::string name(type.name);
    const auto it = required.find(name);
    toxic_of(name + ": { target: api" + (it == required.end() ? "" : ", " + it->second) + " }");
  }
  EXPECT_EQ(proxy_faults, 11);
}

// A fault type the proxy family does not know is an error, not an HTTP toxic (the last branch of the
// old if-chain took every unknown type for http_abort).
TEST(ProxyFaultToxics, AFaultTypeThatIsNotAProxyFaultIsRefused) {
  spec::Fault kill;
  kill.type = "kill";
  kill.target = "api";
  auto draft = toxic_for(kill);
  ASSERT_FALSE(draft.ok());
  EXPECT_NE(draft.error().find("'kill' is not a proxy fault"), std::string::npos) << draft.error();
}

TEST(ProxyFaultToxics, ByteFaultsTakeADirectionAndAShareOfConnections) {
  const proxy::ToxicSpec latency = toxic_of("latency: { target: api, latency: 250ms, jitter: 20ms, share: 30% }");
  EXPECT_EQ(latency.type, proxy::ToxicType::latency);
  EXPECT_EQ(latency.stream, proxy::Stream::downstream);
  EXPECT_DOUBLE_EQ(latency.toxicity, 0.3);
  EXPECT_EQ(latency.attribute("latency"), 250);
  EXPECT_EQ(latency.attribute("jitter"), 20);
  const proxy::ToxicSpec reset = toxic_of("reset: { target: api, after: 2s, direction: upstream }");
  EXPECT_EQ(reset.type, proxy::ToxicType::reset_peer);
  EXPECT_EQ(reset.stream, proxy::Stream::upstream);
  EXPECT_DOUBLE_EQ(reset.toxicity, 1.0);
  EXPECT_EQ(reset.attribute("timeout"), 2000);
}

TEST(ProxyFaultToxics, BlackholeHoldsRequestsAndTimeoutClosesAfterItsDelay) {
  const proxy::ToxicSpec blackhole = toxic_of("blackhole: { target: api, share: 50% }");
  EXPECT_EQ(blackhole.type, proxy::ToxicType::timeout);
  EXPECT_EQ(blackhole.stream, proxy::Stream::upstream);
  EXPECT_EQ(blackhole.attribute("timeout"), 0);
  EXPECT_DOUBLE_EQ(blackhole.toxicity, 0.5);
  const proxy::ToxicSpec timeout = toxic_of("timeout: { target: api, after: 1.5s }");
  EXPECT_EQ(timeout.type, proxy::ToxicType::timeout);
  EXPECT_EQ(timeout.stream, proxy::Stream::upstream);
  EXPECT_EQ(timeout.attribute("timeout"), 1500);
}

TEST(ProxyFaultToxics, SizesAndRatesArriveInTheProxysUnits) {
  const proxy::ToxicSpec bandwidth = toxic_of("bandwidth: { target: api, rate: 1MB/s, direction: upstream }");
  EXPECT_EQ(bandwidth.attribute("rate"), 1000);  // KB/s
  EXPECT_EQ(bandwidth.stream, proxy::Stream::upstream);
  const proxy::ToxicSpec slicer =
      toxic_of("slicer: { target: api, average_size: 1KiB, size_variation: 100, delay: 2500us }");
  EXPECT_EQ(slicer.type, proxy::ToxicType::slicer);
  EXPECT_EQ(slicer.attribute("average_size"), 1024);
  EXPECT_EQ(slicer.attribute("size_variation"), 100);
  EXPECT_EQ(slicer.attribute("delay"), 2500);  // microseconds, as in Toxiproxy
  const proxy::ToxicSpec limit = toxic_of("limit_data: { target: api, bytes: 2KiB }");
  EXPECT_EQ(limit.type, proxy::ToxicType::limit_data);
  EXPECT_EQ(limit.attribute("bytes"), 2048);
  const proxy::ToxicSpec slow_close = toxic_of("slow_close: { target: api, delay: 3s, share: 10% }");
  EXPECT_EQ(slow_close.type, proxy::ToxicType::slow_close);
  EXPECT_EQ(slow_close.attribute("delay"), 3000);
  EXPECT_DOUBLE_EQ(slow_close.toxicity, 0.1);
}

TEST(ProxyFaultToxics, HttpFaultsActOnRequestsWithAShareOfMatchingRequests) {
  const proxy::ToxicSpec error =
      toxic_of("http_error: { target: api, status: 503, share: 10%, method: POST, path: /orders }");
  EXPECT_EQ(error.type, proxy::ToxicType::http_status);
  EXPECT_EQ(error.stream, proxy::Stream::upstream);
  EXPECT_DOUBLE_EQ(error.toxicity, 0.1);
  EXPECT_EQ(error.attribute("status"), 503);
  EXPECT_EQ(error.text("method"), "POST");
  EXPECT_EQ(error.text("path"), "/orders");
}

// Issue 9: a summary said "share 1" for 100% and listed empty parameters ("method , path ,").
TEST(ProxyFaultSummary, ShowsAShareAsAPercentage) {
  EXPECT_EQ(proxy_fault_summary(load_fault("reset: { target: api, share: 100% }"), "api"),
            "reset on api (after 0ms, direction downstream, share 100%)");
  const std::string tenth =
      proxy_fault_summary(load_fault("latency: { target: api, latency: 250ms, share: 12.5% }"), "api");
  EXPECT_NE(tenth.find("share 12.5%"), std::string::npos) << tenth;
  EXPECT_NE(tenth.find("latency 250ms"), std::string::npos) << tenth;
}

TEST(ProxyFaultSummary, LeavesOutParametersThatWereNotGiven) {
  const std::string summary =
      proxy_fault_summary(load_fault("http_error: { target: api, status: 503, share: 10% }"), "api");
  EXPECT_EQ(summary.find("method"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("path"), std::string::npos) << summary;
  EXPECT_EQ(summary.find("body"), std::string::npos) << summary;
  EXPECT_EQ(summary.find(" ,"), std::string::npos) << summary;
  EXPECT_NE(summary.find("share 10%"), std::string::npos) << summary;
  EXPECT_NE(summary.find("status 503"), std::string::npos) << summary;
}

TEST(ProxyFaultSummary, ShowsSizesAndRatesInUnitsAPersonWrites) {
  const std::string sizes = proxy_fault_summary(load_fault("limit_data: { target: api, bytes: 1KiB }"), "api");
  EXPECT_NE(sizes.find("bytes 1KiB"), std::string::npos) << sizes;
  const std::string rate = proxy_fault_summary(load_fault("bandwidth: { target: api, rate: 64KB/s }"), "api");
  EXPECT_NE(rate.find("rate 64KB/s"), std::string::npos) << rate;
  const std::string odd = proxy_fault_summary(load_fault("limit_data: { target: api, bytes: 1000B }"), "api");
  EXPECT_NE(odd.find("bytes 1KB"), std::string::npos) << odd;
  const std::string plain = proxy_fault_summary(load_fault("limit_data: { target: api, bytes: 1500B }"), "api");
  EXPECT_NE(plain.find("bytes 1500B"), std::string::npos) << plain;
}

}  // namespace
}  // namespace chaosplus::faults
