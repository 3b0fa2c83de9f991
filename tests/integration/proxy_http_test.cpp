// The HTTP toxics against real sockets: a real HTTP server upstream (net::HttpServer), the proxy
// engine in-process, and raw keep-alive clients that read responses with net::ResponseParser.
// Timing checks are lower bounds only; shares are checked with toxicity 0 and 1, and a seeded
// middle case within a wide bound.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "net/http_parser.h"
#include "net/http_server.h"
#include "net/socket.h"
#include "proxy/api.h"
#include "proxy/api_client.h"
#include "proxy/engine.h"
#include "support/support.h"

namespace chaosplus::proxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr std::size_t kBigBody = 100'000;

std::string big_body() {
  std::string body(kBigBody, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

// The service behind the proxy: counts what reaches it, per "METHOD path".
class Upstream {
 public:
  Upstream() : server_(net::HttpServer::Options{}, [this](const net::Request& request) { return handle(request); }) {}
  Status start() { return server_.start(); }
  int port() const { return server_.port(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  int seen(const std::string& key) {
    std::lock_guard lock(mutex_);
    return seen_[key];
  }
  int total() {
    std::lock_guard lock(mutex_);
    int sum = 0;
    for (const auto& [key, n] : seen_) sum += n;
    return sum;
  }

 private:
  net::Response handle(const net::Request& request) {
    {
      std::lock_guard lock(mutex_);
      ++seen_[request.method + " " + request.path()];
    }
    if (request.method == "POST" && request.path() == "/orders") {
      return net::Response::text(201, "created " + std::to_string(request.body.size()));
    }
    if (request.path() == "/big") return net::Response::text(200, big_body());
    if (request.path() == "/chunked") {
      auto response = net::Response::text(200, big_body());
      response.set_header("Transfer-Encoding", "chunked");
      return response;
    }
    return net::Response::text(200, "upstream " + request.method + " " + request.path());
  }

  net::HttpServer server_;
  std::mutex mutex_;
  std::map<std::string, int> seen_;
};

// A keep-alive client on one connection, with socket timeouts.
class Client {
 public:
  explicit Client(int port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    timeval tv{10, 0};
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  bool connected() const { return connected_; }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // The next response on the connection; nullopt on a timeout, a close or a malformed response.
  std::optional<net::Response> response(std::string_view method = "GET") {
    net::ResponseParser parser;
    parser.set_request_method(method);
    auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
      if (!pending_.empty()) {
        std::size_t consumed = 0;
        auto state = parser.feed(pending_, consumed);
        pending_.erase(0, consumed);
        if (state == net::ResponseParser::State::done) return parser.response();
        if (state == net::ResponseParser::State::error) return std::nullopt;
      }
      char buffer[65536];
      ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n <= 0) return std::nullopt;
      pending_.append(buffer, static_cast<std::size_t>(n));
    }
    return std::nullopt;
  }

  std::optional<net::Response> request(const std::string& method, const std::string& path,
                                       const std::string& body = {}) {
    if (!send(raw(method, path, body))) return std::nullopt;
    return response(method);
  }

  // Everything until the peer closes (or resets, or 10 s pass).
  struct Drained {
    std::string data;
    bool eof = false;
    int error = 0;
  };
  Drained drain() {
    Drained out{pending_, false, 0};
    pending_.clear();
    auto deadline = Clock::now() + 10s;
    char buffer[65536];
    while (Clock::now() < deadline) {
      ssize_t n = ::recv(fd_.get(), buffer, sizeof buffer, 0);
      if (n > 0) {
        out.data.append(buffer, static_cast<std::size_t>(n));
      } else if (n == 0) {
        out.eof = true;
        break;
      } else if (errno != EINTR) {
        out.error = errno;
        break;
      }
    }
    return out;
  }

  static std::string raw(const std::string& method, const std::string& path, const std::string& body = {}) {
    std::string out = method + " " + path + " HTTP/1.1\r\nHost: shop\r\n";
    if (!body.empty() || method == "POST") out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    return out + "\r\n" + body;
  }

 private:
  net::Fd fd_;
  bool connected_ = false;
  std::string pending_;
};

class ProxyHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(upstream_.start().ok());
    Engine::Options options;
    options.seed = 20240611;  // the middle-share test counts draws: keep them reproducible
    auto started = Engine::start(options);
    ASSERT_TRUE(started.ok()) << started.error();
    engine_ = std::move(started).value();
    auto made = engine_->create_proxy({"shop", "127.0.0.1:0", upstream_.address(), true});
    ASSERT_TRUE(made.ok()) << made.failure().message;
    port_ = std::stoi(made.value().listen.substr(made.value().listen.rfind(':') + 1));
  }

  void add_toxic(const std::string& type, Attributes attributes, double toxicity = 1.0, const std::string& name = {}) {
    ToxicDraft draft;
    draft.type = type;
    draft.toxicity = toxicity;
    draft.attributes = std::move(attributes);
    if (!name.empty()) draft.name = name;
    auto spec = make_toxic(draft);
    ASSERT_TRUE(spec.ok()) << spec.error();
    auto added = engine_->add_toxic("shop", *spec);
    ASSERT_TRUE(added.ok()) << added.failure().message;
  }

  Upstream upstream_;
  std::unique_ptr<Engine> engine_;
  int port_ = 0;
};

TEST_F(ProxyHttpTest, AtToxicityOneEveryMatchingRequestIsAnsweredAndNoneReachesTheServer) {
  add_toxic("http_status", {{"method", "POST"}, {"path", "/orders"}, {"status", 503}, {"body", "busy"}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 10; ++i) {
    auto response = client.request("POST", "/orders", "{\"item\":" + std::to_string(i) + "}");
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status, 503);
    EXPECT_EQ(response->body, "busy");
    EXPECT_EQ(response->header("X-Chaosplus-Toxic"), "http_status_upstream");
  }
  EXPECT_EQ(upstream_.seen("POST /orders"), 0);
  EXPECT_EQ(engine_->stats().http.answered, 10u);
}

TEST_F(ProxyHttpTest, AtToxicityZeroEveryMatchingRequestReachesTheServer) {
  add_toxic("http_status", {{"method", "POST"}, {"path", "/orders"}}, 0.0);
  Client client(port_);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 10; ++i) {
    auto response = client.request("POST", "/orders", "x");
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status, 201);
  }
  EXPECT_EQ(upstream_.seen("POST /orders"), 10);
  EXPECT_EQ(engine_->stats().http.answered, 0u);
}

TEST_F(ProxyHttpTest, AtToxicityOneHalfAboutHalfOfTheMatchingRequestsAreAnswered) {
  add_toxic("http_status", {{"path", "/orders"}, {"status", 500}}, 0.5);
  constexpr int kRequests = 200;
  int answered = 0;
  Client client(port_);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < kRequests; ++i) {
    auto response = client.request("POST", "/orders", "x");
    ASSERT_TRUE(response) << i;
    ASSERT_TRUE(response->status == 500 || response->status == 201) << response->status;
    answered += response->status == 500 ? 1 : 0;
  }
  EXPECT_GT(answered, 60);
  EXPECT_LT(answered, 140);
  EXPECT_EQ(upstream_.seen("POST /orders"), kRequests - answered);
  EXPECT_EQ(engine_->stats().http.answered, static_cast<std::uint64_t>(answered));
}

TEST_F(ProxyHttpTest, RequestsThatDoNotMatchAreLeftAlone) {
  add_toxic("http_status", {{"method", "POST"}, {"path", "/orders"}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  auto get_orders = client.request("GET", "/orders?page=2");
  ASSERT_TRUE(get_orders);
  EXPECT_EQ(get_orders->status, 200);
  EXPECT_EQ(get_orders->body, "upstream GET /orders");
  auto post_carts = client.request("POST", "/carts", "abc");
  ASSERT_TRUE(post_carts);
  EXPECT_EQ(post_carts->body, "upstream POST /carts");
  auto post_nested = client.request("POST", "/orders/7", "abc");
  ASSERT_TRUE(post_nested);
  EXPECT_EQ(post_nested->body, "upstream POST /orders/7");
  EXPECT_FALSE(post_nested->has_header("X-Chaosplus-Toxic"));
  EXPECT_EQ(upstream_.total(), 3);
}

TEST_F(ProxyHttpTest, KeepAliveCarriesManyRequestsWithAnswersInBetweenInOrder) {
  add_toxic("http_status", {{"method", "POST"}, {"path", "/orders"}, {"status", 503}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 50; ++i) {
    auto item = client.request("GET", "/items/" + std::to_string(i));
    ASSERT_TRUE(item) << i;
    EXPECT_EQ(item->body, "upstream GET /items/" + std::to_string(i));
    auto order = client.request("POST", "/orders", "x");
    ASSERT_TRUE(order) << i;
    EXPECT_EQ(order->status, 503);
  }
  EXPECT_EQ(upstream_.seen("POST /orders"), 0);
  EXPECT_EQ(upstream_.total(), 50);
}

TEST_F(ProxyHttpTest, FivePipelinedRequestsInOneWriteGetFiveResponsesInOrder) {
  add_toxic("http_status", {{"method", "POST"}, {"path", "/orders"}, {"status", 503}, {"body", "no"}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(Client::raw("GET", "/p1") + Client::raw("POST", "/orders", "a") + Client::raw("GET", "/p3") +
                          Client::raw("POST", "/orders", "b") + Client::raw("GET", "/p5")));
  std::vector<std::string> seen;
  for (const char* method : {"GET", "POST", "GET", "POST", "GET"}) {
    auto response = client.response(method);
    ASSERT_TRUE(response);
    seen.push_back(std::to_string(response->status) + " " + response->body);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"200 upstream GET /p1", "503 no", "200 upstream GET /p3", "503 no",
                                            "200 upstream GET /p5"}));
}

TEST_F(ProxyHttpTest, AnAnsweredChunkedRequestDoesNotDesynchroniseTheConnection) {
  add_toxic("http_status", {{"path", "/orders"}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(
      client.send("POST /orders HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  auto answered = client.response("POST");
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 503);
  auto next = client.request("GET", "/after");
  ASSERT_TRUE(next);
  EXPECT_EQ(next->body, "upstream GET /after");
  EXPECT_EQ(upstream_.total(), 1);
}

TEST_F(ProxyHttpTest, ADelayAddsAtLeastTheDelayToMatchingRequests) {
  add_toxic("http_delay", {{"path", "/slow"}, {"delay", 300}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  auto start = Clock::now();
  auto slow = client.request("GET", "/slow");
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->body, "upstream GET /slow");
  EXPECT_GE(Clock::now() - start, 300ms);
  auto fast = client.request("GET", "/fast");
  ASSERT_TRUE(fast);
  EXPECT_EQ(engine_->stats().http.delayed, 1u);
}

TEST_F(ProxyHttpTest, AbortGivesTheClientATruncatedBodyAndAClosedConnection) {
  add_toxic("http_abort", {{"path", "/big"}, {"bytes", 1000}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(Client::raw("GET", "/big")));
  auto back = client.drain();
  EXPECT_TRUE(back.eof);
  auto head_end = back.data.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(back.data.find("Content-Length: " + std::to_string(kBigBody)), std::string::npos);
  std::string body = back.data.substr(head_end + 4);
  EXPECT_EQ(body, big_body().substr(0, 1000));
  EXPECT_EQ(engine_->stats().http.aborted, 1u);
}

TEST_F(ProxyHttpTest, AbortInResetModeResetsTheConnectionMidBody) {
  add_toxic("http_abort", {{"path", "/big"}, {"bytes", 1000}, {"mode", "reset"}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(Client::raw("GET", "/big")));
  auto back = client.drain();
  EXPECT_FALSE(back.eof);
  EXPECT_EQ(back.error, ECONNRESET);
  auto head_end = back.data.find("\r\n\r\n");
  if (head_end != std::string::npos) {
    EXPECT_LE(back.data.size() - head_end - 4, 1000u);  // a reset may drop what was in flight
  }
}

TEST_F(ProxyHttpTest, AbortCutsAChunkedResponseToo) {
  add_toxic("http_abort", {{"path", "/chunked"}, {"bytes", 10}});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send(Client::raw("GET", "/chunked")));
  auto back = client.drain();
  EXPECT_TRUE(back.eof);
  auto head_end = back.data.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(back.data.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_EQ(back.data.size() - head_end - 4, 10u);
}

TEST_F(ProxyHttpTest, RemovingTheToxicRestoresNormalBehaviourOnALiveKeepAliveConnection) {
  add_toxic("http_status", {{"path", "/orders"}, {"status", 503}}, 1.0, "orders-down");
  Client client(port_);
  ASSERT_TRUE(client.connected());
  auto before = client.request("POST", "/orders", "x");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 503);
  ASSERT_TRUE(engine_->remove_toxic("shop", "orders-down").ok());
  auto after = client.request("POST", "/orders", "x");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 201);
  EXPECT_EQ(upstream_.seen("POST /orders"), 1);
}

TEST_F(ProxyHttpTest, AToxicAddedToALiveKeepAliveConnectionActsOnItsNextRequest) {
  Client client(port_);
  ASSERT_TRUE(client.connected());
  auto before = client.request("POST", "/orders", "x");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->status, 201);
  add_toxic("http_status", {{"path", "/orders"}, {"status", 502}});
  auto after = client.request("POST", "/orders", "x");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 502);
}

TEST_F(ProxyHttpTest, NonHttpTrafficPassesThroughUnchanged) {
  add_toxic("http_status", {});
  Client client(port_);
  ASSERT_TRUE(client.connected());
  // Not HTTP: the proxy passes it on as it is, and the server's own reply comes back.
  ASSERT_TRUE(client.send(std::string("\x16\x03\x01\x00\x05hello\r\n\r\n", 12)));
  auto back = client.drain();
  EXPECT_EQ(back.data.rfind("HTTP/1.1 400 ", 0), 0u) << back.data;
  EXPECT_EQ(back.data.find("X-Chaosplus-Toxic"), std::string::npos);
  EXPECT_EQ(engine_->stats().http.unframed, 1u);
  EXPECT_EQ(engine_->stats().http.answered, 0u);
}

TEST_F(ProxyHttpTest, TheControlApiTakesHttpToxicsWithTextAttributes) {
  ControlApi api(*engine_);
  net::HttpServer server({}, [&](const net::Request& r) { return api.handle(r); });
  ASSERT_TRUE(server.start().ok());
  auto added = testing::http_request(
      "POST", "127.0.0.1", server.port(), "/proxies/shop/toxics",
      json{{"name", "teapot"},
           {"type", "http_status"},
           {"stream", "upstream"},
           {"toxicity", 1.0},
           {"attributes", {{"method", "GET"}, {"path", "/tea*"}, {"status", 418}, {"body", "short and stout"}}}}
          .dump());
  ASSERT_EQ(added.status, 200) << added.body;
  auto refused = testing::http_request("POST", "127.0.0.1", server.port(), "/proxies/shop/toxics",
                                       R"({"type":"http_status","attributes":{"method":"get"}})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.find("'GET'"), std::string::npos) << refused.body;

  Client client(port_);
  ASSERT_TRUE(client.connected());
  auto tea = client.request("GET", "/teapot");
  ASSERT_TRUE(tea);
  EXPECT_EQ(tea->status, 418);
  EXPECT_EQ(tea->body, "short and stout");
  EXPECT_EQ(testing::http_request("DELETE", "127.0.0.1", server.port(), "/proxies/shop/toxics/teapot").status, 204);
  auto coffee = client.request("GET", "/teapot");
  ASSERT_TRUE(coffee);
  EXPECT_EQ(coffee->status, 200);
  server.stop();
}

TEST_F(ProxyHttpTest, TheApiClientAddsAnHttpToxicWithTextAttributes) {
  ControlApi api(*engine_);
  net::HttpServer server({}, [&](const net::Request& r) { return api.handle(r); });
  ASSERT_TRUE(server.start().ok());
  ApiClient client("http://127.0.0.1:" + std::to_string(server.port()));
  ToxicDraft draft;
  draft.name = "slow-search";
  draft.type = "http_delay";
  draft.attributes = {{"method", "GET"}, {"path", "/search*"}, {"delay", 200}};
  auto spec = make_toxic(draft);
  ASSERT_TRUE(spec.ok()) << spec.error();
  ASSERT_TRUE(client.add_toxic("shop", *spec).ok());
  auto listed = json::parse(client.get_proxies_json().value())["shop"]["toxics"][0];
  EXPECT_EQ(listed["type"], "http_delay");
  EXPECT_EQ(listed["stream"], "upstream");
  EXPECT_EQ(listed["attributes"]["path"], "/search*");

  Client shop(port_);
  ASSERT_TRUE(shop.connected());
  auto start = Clock::now();
  auto response = shop.request("GET", "/search?q=tea");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "upstream GET /search");
  EXPECT_GE(Clock::now() - start, 200ms);
  EXPECT_TRUE(client.remove_toxic("shop", "slow-search").ok());
  server.stop();
}

}  // namespace
}  // namespace chaosplus::proxy
