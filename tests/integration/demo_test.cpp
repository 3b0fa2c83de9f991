// The demo system as the quickstart runs it: two real processes talking HTTP on loopback.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "net/http_client.h"
#include "net/socket.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;

bool healthy(int port) { return testing::http_request("GET", "127.0.0.1", port, "/health", {}, 1s).status == 200; }

std::unique_ptr<Child> start_token_service(int port) {
  auto child = std::make_unique<Child>(
      std::vector<std::string>{testing::bin("demo-token-service"), "--port", std::to_string(port)});
  EXPECT_TRUE(testing::wait_until([&] { return healthy(port); })) << child->output();
  return child;
}

std::unique_ptr<Child> start_shop(int port, int tokens_port, const std::string& tokens_timeout = "1s") {
  auto child = std::make_unique<Child>(
      std::vector<std::string>{testing::bin("demo-shop-api"), "--port", std::to_string(port), "--tokens",
                               "127.0.0.1:" + std::to_string(tokens_port), "--tokens-timeout", tokens_timeout});
  EXPECT_TRUE(testing::wait_until([&] { return healthy(port); })) << child->output();
  return child;
}

Result<net::Response> checkout(int shop_port, const std::string& token, const std::string& body,
                               Duration timeout = 10s) {
  auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(shop_port) + "/checkout");
  net::Request request;
  request.method = "POST";
  request.headers.push_back({"Authorization", "Bearer " + token});
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = body;
  return net::fetch(*url, request, timeout);
}

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    token_port = testing::free_port();
    shop_port = testing::free_port();
    tokens = start_token_service(token_port);
    shop = start_shop(shop_port, token_port);
  }

  int token_port = 0;
  int shop_port = 0;
  std::unique_ptr<Child> tokens;
  std::unique_ptr<Child> shop;
};

TEST_F(DemoTest, CheckoutWithAValidTokenCreatesAnOrder) {
  auto response = checkout(shop_port, "demo-alice", R"({"sku":"book-42"})");
  ASSERT_TRUE(response.ok()) << response.error();
  ASSERT_EQ(response->status, 201) << response->body;
  auto order = nlohmann::json::parse(response->body);
  EXPECT_EQ(order["sku"], "book-42");
  EXPECT_EQ(order["user"], "alice");
  ASSERT_TRUE(order["order"].is_number_unsigned());

  const std::string location = std::string(response->header("Location"));
  EXPECT_EQ(location, "/orders/" + std::to_string(order["order"].get<int>()));
  auto stored = testing::http_request("GET", "127.0.0.1", shop_port, location);
  EXPECT_EQ(stored.status, 200);
  EXPECT_EQ(nlohmann::json::parse(stored.body), order);
}

TEST_F(DemoTest, CheckoutWithAnInvalidTokenIsUnauthorized) {
  auto response = checkout(shop_port, "stolen-token", R"({"sku":"book-42"})");
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 401) << response->body;
}

TEST_F(DemoTest, CheckoutWithoutASkuIsABadRequest) {
  auto response = checkout(shop_port, "demo-alice", R"({"item":"book-42"})");
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 400) << response->body;
}

TEST_F(DemoTest, AnUnknownOrderIsNotFound) {
  EXPECT_EQ(testing::http_request("GET", "127.0.0.1", shop_port, "/orders/999").status, 404);
}

TEST_F(DemoTest, TheTokenServiceValidatesTokensItself) {
  auto url = net::Url::parse("http://127.0.0.1:" + std::to_string(token_port) + "/validate");
  net::Request request;
  request.headers.push_back({"Authorization", "Bearer demo-bob"});
  auto response = net::fetch(*url, request, 10s);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body), nlohmann::json::parse(R"({"valid":true,"user":"bob"})"));
}

TEST_F(DemoTest, CheckoutAnswers503WhenTheTokenServiceIsKilled) {
  tokens->signal(SIGKILL);
  ASSERT_TRUE(tokens->wait(10s).has_value());
  // The shop's own timeout is 1s; the client allows far more, so a 503 proves the shop gave up itself.
  auto response = checkout(shop_port, "demo-alice", R"({"sku":"book-42"})", 10s);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 503) << response->body;
  EXPECT_NE(response->body.find("token service unavailable"), std::string::npos) << response->body;
  EXPECT_TRUE(healthy(shop_port));  // its own liveness does not depend on the token service
}

TEST(Demo, CheckoutAnswers503WithinTheTokensTimeoutWhenTheTokenServiceHangs) {
  // A token service that accepts connections (kernel backlog) but never answers.
  net::Fd hung(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(hung.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(hung.get(), 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(hung.get(), reinterpret_cast<sockaddr*>(&addr), &len);

  const int shop_port = testing::free_port();
  auto shop = start_shop(shop_port, ntohs(addr.sin_port), "300ms");
  auto response = checkout(shop_port, "demo-alice", R"({"sku":"book-42"})", 10s);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 503) << response->body;
  EXPECT_NE(response->body.find("timed out after 300ms"), std::string::npos) << response->body;
}

TEST(Demo, ServicesPrintWhereTheyListenAndExitZeroOnSigterm) {
  const int port = testing::free_port();
  auto tokens = start_token_service(port);
  const std::string line = "listening on 127.0.0.1:" + std::to_string(port) + "\n";
  ASSERT_TRUE(testing::wait_until([&] { return tokens->output().find(line) != std::string::npos; }))
      << tokens->output();
  tokens->signal(SIGTERM);
  EXPECT_EQ(tokens->wait(10s), 0);

  const int shop_port = testing::free_port();
  auto shop = start_shop(shop_port, port);
  shop->signal(SIGINT);
  EXPECT_EQ(shop->wait(10s), 0);
}

TEST(Demo, UsageErrorsExitWithTwo) {
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {testing::bin("demo-token-service")},
           {testing::bin("demo-token-service"), "--port", "http"},
           {testing::bin("demo-token-service"), "--port", "1", "--bogus", "x"},
           {testing::bin("demo-shop-api"), "--port", "1"},
           {testing::bin("demo-shop-api"), "--port", "1", "--tokens", "no-port"},
           {testing::bin("demo-shop-api"), "--port", "1", "--tokens", "127.0.0.1:2", "--tokens-timeout", "5"}}) {
    Child child(argv);
    EXPECT_EQ(child.wait(10s), 2) << argv.back() << ": " << child.output();
    EXPECT_NE(child.output().find("usage:"), std::string::npos);
  }
}

TEST(Demo, ABusyPortIsReportedAndExitsNonZero) {
  const int port = testing::free_port();
  auto first = start_token_service(port);
  Child second({testing::bin("demo-token-service"), "--port", std::to_string(port)});
  EXPECT_EQ(second.wait(10s), 1);
  EXPECT_NE(second.output().find("address already in use"), std::string::npos) << second.output();
}

}  // namespace
}  // namespace chaosplus
