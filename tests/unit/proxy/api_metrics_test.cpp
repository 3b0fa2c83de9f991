// GET /metrics of the fault proxy's API, read by the same strict parser as a Prometheus scrape.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/prometheus_text.h"
#include "net/http_server.h"
#include "proxy/api.h"
#include "support/prometheus.h"
#include "support/support.h"
#include "unit/proxy/control_api_fixture.h"

namespace chaosplus::proxy {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class ProxyMetricsTest : public ControlApiTest {
 protected:
  testing::PromPage scrape() {
    auto response = call("GET", "/metrics");
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.header("Content-Type"), kPrometheusContentType);
    auto page = testing::parse_prometheus(response.body);
    EXPECT_TRUE(page.ok()) << page.error << "\n" << response.body;
    return page;
  }
};

TEST_F(ProxyMetricsTest, ShowsTheProxiesAndTheirActiveToxicsByType) {
  ASSERT_EQ(call("POST", "/proxies", R"({"name":"tokens","listen":"127.0.0.1:0","upstream":"127.0.0.1:9"})").status,
            201);
  auto page = scrape();
  EXPECT_EQ(page.value("chaosplus_proxy_proxies"), 1);
  EXPECT_EQ(page.value("chaosplus_proxy_enabled", {{"proxy", "tokens"}}), 1);
  EXPECT_FALSE(page.value("chaosplus_proxy_active_toxics", {{"proxy", "tokens"}}).has_value());

  ASSERT_EQ(
      call("POST", "/proxies/tokens/toxics", R"({"name":"slow","type":"latency","attributes":{"latency":100}})").status,
      200);
  page = scrape();
  EXPECT_EQ(page.value("chaosplus_proxy_active_toxics", {{"proxy", "tokens"}, {"type", "latency"}}), 1);
  EXPECT_EQ(page.value("chaosplus_proxy_toxic_connections_total", {{"proxy", "tokens"}, {"toxic", "slow"}}), 0);
  EXPECT_EQ(page.types.at("chaosplus_proxy_toxic_bytes_total"), "counter");

  ASSERT_EQ(call("DELETE", "/proxies/tokens/toxics/slow").status, 204);
  page = scrape();
  EXPECT_FALSE(page.value("chaosplus_proxy_active_toxics", {{"proxy", "tokens"}}).has_value());
}

TEST_F(ProxyMetricsTest, CountsConnectionsAndTheBytesAToxicSaw) {
  net::HttpServer upstream({}, [](const net::Request&) { return net::Response::text(200, "hello"); });
  ASSERT_TRUE(upstream.start().ok());
  auto made =
      call("POST", "/proxies",
           json{{"name", "up"}, {"listen", "127.0.0.1:0"}, {"upstream", "127.0.0.1:" + std::to_string(upstream.port())}}
               .dump());
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string listen = json::parse(made.body)["listen"];
  const int port = std::stoi(listen.substr(listen.rfind(':') + 1));
  ASSERT_EQ(call("POST", "/proxies/up/toxics", R"({"name":"lag","type":"latency","attributes":{"latency":1}})").status,
            200);
  auto reply = testing::http_request("GET", "127.0.0.1", port, "/");
  ASSERT_EQ(reply.status, 200);
  // The counts are bumped on the proxy's loop thread: they show once it has moved the bytes.
  EXPECT_TRUE(testing::wait_until([&] {
    auto page = scrape();
    return page.value("chaosplus_proxy_connections_accepted_total").value_or(0) >= 1 &&
           page.value("chaosplus_proxy_toxic_bytes_total", {{"toxic", "lag"}}).value_or(0) > 0;
  }));
}

TEST_F(ProxyMetricsTest, NeedsTheTokenLikeEveryOtherRouteAndOnlyGet) {
  ControlApi guarded(*engine_, "sixteen-chars-token");
  net::Request request;
  request.target = "/metrics";
  EXPECT_EQ(guarded.handle(request).status, 401);
  request.set_header("Authorization", "Bearer sixteen-chars-token");
  EXPECT_EQ(guarded.handle(request).status, 200);
  EXPECT_EQ(call("POST", "/metrics").status, 405);
}

}  // namespace
}  // namespace chaosplus::proxy
