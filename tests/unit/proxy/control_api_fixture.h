#pragma once
// The fault proxy's control API on a real engine, called without a socket: the fixture of the API's
// tests (api_test.cpp) and of its /metrics tests (api_metrics_test.cpp).
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_message.h"
#include "proxy/api.h"
#include "proxy/engine.h"

namespace chaosplus::proxy {

class ControlApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = Engine::start({});
    ASSERT_TRUE(started.ok()) << started.error();
    engine_ = std::move(started).value();
    api_ = std::make_unique<ControlApi>(*engine_);
  }

  net::Response call(const std::string& method, const std::string& target, const std::string& body = {}) {
    net::Request request;
    request.method = method;
    request.target = target;
    request.body = body;
    return api_->handle(request);
  }

  // The error text of a 4xx answer, checking its shape on the way.
  std::string error_of(const net::Response& response) {
    auto body = nlohmann::json::parse(response.body, nullptr, false);
    EXPECT_TRUE(body.is_object()) << response.body;
    if (!body.is_object()) return {};
    EXPECT_EQ(body.value("status", 0), response.status);
    return body.value("error", std::string());
  }

  void create_proxy(const std::string& name) {
    auto response = call("POST", "/proxies",
                         nlohmann::json{{"name", name}, {"listen", "127.0.0.1:0"}, {"upstream", "127.0.0.1:9"}}.dump());
    ASSERT_EQ(response.status, 201) << response.body;
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<ControlApi> api_;
};

}  // namespace chaosplus::proxy
