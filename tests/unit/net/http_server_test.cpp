#include "net/http_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include "net/http_client.h"
#include "net/http_parser.h"
#include "net/socket.h"
#include "support/support.h"

namespace chaosplus::net {
namespace {

using namespace std::chrono_literals;

// Answers "<method> <target> <body>" so tests can see what arrived.
Response echo(const Request& r) {
  if (r.path() == "/throw") throw std::runtime_error("boom");
  Response response = Response::text(200, r.method + " " + r.target + " " + r.body);
  response.headers.push_back({"X-Path", r.path()});
  return response;
}

std::unique_ptr<HttpServer> start_server(HttpServer::Options options = {}, HttpServer::Handler handler = echo) {
  auto server = std::make_unique<HttpServer>(std::move(options), std::move(handler));
  auto started = server->start();
  EXPECT_TRUE(started.ok()) << started.error();
  return server;
}

std::string base_url(const HttpServer& server) { return "http://127.0.0.1:" + std::to_string(server.port()); }

// Sends raw bytes and reads until `responses` complete responses arrived or the peer closed.
std::vector<Response> raw_exchange(int port, const std::string& bytes, std::size_t responses,
                                   bool* closed_by_server = nullptr, std::string_view method = "GET") {
  auto fd = connect_tcp("127.0.0.1", port, 5s);
  EXPECT_TRUE(fd.ok()) << fd.error();
  if (!fd.ok()) return {};
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  EXPECT_TRUE(send_all(fd->get(), bytes, deadline).ok());
  std::vector<Response> out;
  ResponseParser parser;
  parser.set_request_method(method);
  std::string buffer;
  char chunk[4096];
  bool closed = false;
  while (out.size() < responses && wait_readable(fd->get(), deadline)) {
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed = true;
      break;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
    while (!buffer.empty()) {
      std::size_t consumed = 0;
      auto state = parser.feed(buffer, consumed);
      buffer.erase(0, consumed);
      if (state != ResponseParser::State::done) break;
      out.push_back(parser.response());
      parser.reset();
    }
  }
  if (closed_by_server) {
    // After the expected answers, the server either closes (recv 0) or keeps the socket open.
    if (!closed && wait_readable(fd->get(), std::chrono::steady_clock::now() + 5s)) {
      closed = ::recv(fd->get(), chunk, sizeof chunk, 0) == 0;
    }
    *closed_by_server = closed;
  }
  return out;
}

TEST(HttpServer, AnswersARequestFromTheClient) {
  auto server = start_server();
  auto response = fetch("POST", base_url(*server) + "/orders?x=1", "payload");
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /orders?x=1 payload");
  EXPECT_EQ(response->header("x-path"), "/orders");
}

TEST(HttpServer, KeepsTheConnectionAliveBetweenRequests) {
  auto server = start_server();
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  for (int i = 0; i < 3; ++i) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    ASSERT_TRUE(send_all(fd->get(), "GET /n" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n", deadline).ok());
    ResponseParser parser;
    ResponseParser::State state = ResponseParser::State::need_more;
    char chunk[4096];
    while (state == ResponseParser::State::need_more && wait_readable(fd->get(), deadline)) {
      ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
      ASSERT_GT(n, 0) << "server closed a keep-alive connection after request " << i;
      std::size_t consumed = 0;
      state = parser.feed(std::string_view(chunk, static_cast<std::size_t>(n)), consumed);
    }
    ASSERT_EQ(state, ResponseParser::State::done);
    EXPECT_EQ(parser.response().body, "GET /n" + std::to_string(i) + " ");
    EXPECT_TRUE(parser.keep_alive());
  }
}

TEST(HttpServer, AnswersPipelinedRequestsInOrder) {
  auto server = start_server();
  std::string bytes;
  for (int i = 0; i < 20; ++i) {
    bytes += "POST /p" + std::to_string(i) +
             " HTTP/1.1\r\nContent-Length: " + std::to_string(std::to_string(i).size()) + "\r\n\r\n" +
             std::to_string(i);
  }
  auto responses = raw_exchange(server->port(), bytes, 20);
  ASSERT_EQ(responses.size(), 20u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(responses[static_cast<std::size_t>(i)].body, "POST /p" + std::to_string(i) + " " + std::to_string(i));
  }
}

TEST(HttpServer, ClosesAfterAResponseWhenTheClientAsks) {
  auto server = start_server();
  bool closed = false;
  auto responses = raw_exchange(server->port(), "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1, &closed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].header("connection"), "close");
  EXPECT_TRUE(closed);
}

TEST(HttpServer, KeepsAnHttp10ConnectionOnlyWhenAsked) {
  auto server = start_server();
  bool closed = false;
  auto responses = raw_exchange(server->port(), "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].header("connection"), "keep-alive");
  responses = raw_exchange(server->port(), "GET / HTTP/1.0\r\n\r\n", 1, &closed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_TRUE(closed);
}

TEST(HttpServer, Answers400ToGarbageWithTheReason) {
  auto server = start_server();
  bool closed = false;
  auto responses = raw_exchange(server->port(), "\x16\x03\x01 this is not http\r\n\r\n", 1, &closed);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400);
  EXPECT_EQ(responses[0].body, "Bad Request: invalid method\n");
  EXPECT_TRUE(closed);
}

TEST(HttpServer, Answers413ToABodyOverTheLimit) {
  HttpServer::Options options;
  options.limits.max_body = 1024;
  auto server = start_server(options);
  auto responses =
      raw_exchange(server->port(), "POST / HTTP/1.1\r\nContent-Length: 4096\r\n\r\n" + std::string(4096, 'x'), 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
}

TEST(HttpServer, Answers431ToOversizedHeaders) {
  HttpServer::Options options;
  options.limits.max_header_bytes = 256;
  auto server = start_server(options);
  auto responses = raw_exchange(server->port(), "GET / HTTP/1.1\r\nBig: " + std::string(1000, 'b') + "\r\n\r\n", 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 431);
}

TEST(HttpServer, TurnsAHandlerExceptionIntoA500AndKeepsServing) {
  auto server = start_server();
  auto failed = fetch("GET", base_url(*server) + "/throw");
  ASSERT_TRUE(failed.ok()) << failed.error();
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(failed->body.find("boom"), std::string::npos);
  auto next = fetch("GET", base_url(*server) + "/fine");
  ASSERT_TRUE(next.ok()) << next.error();
  EXPECT_EQ(next->status, 200);
}

TEST(HttpServer, AnswersHeadWithHeadersOnly) {
  auto server = start_server();
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  ASSERT_TRUE(send_all(fd->get(), "HEAD /h HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n", deadline).ok());
  // If the HEAD answer carried body bytes, they would corrupt the parse of the GET answer after it.
  std::vector<Response> responses;
  ResponseParser parser;
  parser.set_request_method("HEAD");
  std::string buffer;
  char chunk[4096];
  while (responses.size() < 2 && wait_readable(fd->get(), deadline)) {
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    ASSERT_GT(n, 0);
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t consumed = 0;
    while (responses.size() < 2 && parser.feed(buffer, consumed) == ResponseParser::State::done) {
      buffer.erase(0, consumed);
      consumed = 0;
      responses.push_back(parser.response());
      parser.reset();
      parser.set_request_method("GET");
    }
    buffer.erase(0, consumed);
  }
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].header("content-length"), std::to_string(std::string("HEAD /h ").size()));
  EXPECT_TRUE(responses[0].body.empty());
  EXPECT_EQ(responses[1].body, "GET /after ");
}

TEST(HttpServer, SendsContinueBeforeReadingAnExpectedBody) {
  auto server = start_server();
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  ASSERT_TRUE(
      send_all(fd->get(), "POST /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n", deadline).ok());
  ASSERT_TRUE(wait_readable(fd->get(), deadline));
  char chunk[256];
  ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(chunk, static_cast<std::size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(HttpServer, ClosesAnIdleConnectionAfterTheIdleTimeout) {
  HttpServer::Options options;
  options.idle_timeout = 200ms;
  auto server = start_server(options);
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(wait_readable(fd->get(), std::chrono::steady_clock::now() + 10s));
  char c;
  EXPECT_EQ(::recv(fd->get(), &c, 1, 0), 0);
}

TEST(HttpServer, Answers408ToARequestThatNeverCompletes) {
  HttpServer::Options options;
  options.idle_timeout = 200ms;
  auto server = start_server(options);
  auto responses = raw_exchange(server->port(), "GET /slow HTTP/1.1\r\nHost: x\r\n", 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 408);
}

// True once the server closed `fd` (recv sees the end of the stream or a reset) before `deadline`.
bool closed_by_server(int fd, std::chrono::steady_clock::time_point deadline) {
  char chunk[4096];
  while (wait_readable(fd, deadline)) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return true;
  }
  return false;
}

TEST(HttpServer, DropsAConnectionThatSendsNoRequestWithinTheHeaderTimeout) {
  HttpServer::Options options;
  options.header_timeout = 200ms;  // the idle timeout stays 30 s: it is not what closes this one
  auto server = start_server(options);
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  EXPECT_TRUE(closed_by_server(fd->get(), std::chrono::steady_clock::now() + 10s));
}

TEST(HttpServer, Answers408ToAHeadThatTricklesInPastTheHeaderTimeout) {
  HttpServer::Options options;
  options.header_timeout = 300ms;
  auto server = start_server(options);
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  // One byte every 50 ms keeps the connection busy but never completes the head: the slow drip is
  // the behaviour under test.
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(200, 'p');
  std::string received;
  char chunk[4096];
  for (char c : head) {
    if (!send_all(fd->get(), std::string_view(&c, 1), std::chrono::steady_clock::now() + 5s).ok()) break;
    if (wait_readable(fd->get(), std::chrono::steady_clock::now() + 50ms)) {
      ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
      if (n <= 0) break;
      received.append(chunk, static_cast<std::size_t>(n));
    }
  }
  while (wait_readable(fd->get(), std::chrono::steady_clock::now() + 10s)) {
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    if (n <= 0) break;
    received.append(chunk, static_cast<std::size_t>(n));
  }
  EXPECT_TRUE(received.starts_with("HTTP/1.1 408")) << received;
}

TEST(HttpServer, AtTheCapANewConnectionTakesThePlaceOfTheLongestWaiting) {
  HttpServer::Options options;
  options.max_connections = 4;
  auto server = start_server(options);
  std::vector<Fd> idle;
  for (int i = 0; i < 4; ++i) {
    auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
    ASSERT_TRUE(fd.ok());
    // Served once, so each is known to the server and waits in keep-alive, oldest first.
    auto responses = 0;
    ASSERT_TRUE(send_all(fd->get(), "GET / HTTP/1.1\r\n\r\n", std::chrono::steady_clock::now() + 5s).ok());
    ASSERT_TRUE(wait_readable(fd->get(), std::chrono::steady_clock::now() + 10s));
    char chunk[4096];
    responses += ::recv(fd->get(), chunk, sizeof chunk, 0) > 0;
    ASSERT_EQ(responses, 1);
    idle.push_back(std::move(fd).value());
    // Its thread marks it waiting just after sending the answer: on a busy machine, later.
    ASSERT_TRUE(testing::wait_until([&] { return server->waiting_connections() == i + 1; }));
  }
  auto response = fetch("GET", base_url(*server) + "/fifth", {}, 10s);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_TRUE(closed_by_server(idle[0].get(), std::chrono::steady_clock::now() + 10s));
  // The others still work.
  ASSERT_TRUE(send_all(idle[3].get(), "GET /again HTTP/1.1\r\n\r\n", std::chrono::steady_clock::now() + 5s).ok());
  ASSERT_TRUE(wait_readable(idle[3].get(), std::chrono::steady_clock::now() + 10s));
  char chunk[4096];
  ssize_t n = ::recv(idle[3].get(), chunk, sizeof chunk, 0);
  ASSERT_GT(n, 0);
  EXPECT_TRUE(std::string(chunk, static_cast<std::size_t>(n)).starts_with("HTTP/1.1 200"));
}

TEST(HttpServer, ManyIdleConnectionsDoNotLockOutAClient) {
  HttpServer::Options options;
  options.max_connections = 8;
  auto server = start_server(options);
  std::vector<Fd> idle;
  for (int i = 0; i < 64; ++i) {
    auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
    ASSERT_TRUE(fd.ok()) << fd.error();
    idle.push_back(std::move(fd).value());
  }
  auto response = fetch("GET", base_url(*server) + "/", {}, 10s);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->status, 200);
}

TEST(HttpServer, TurnsAwayConnectionsOnlyWhenAllAreBusy) {
  HttpServer::Options options;
  options.max_connections = 1;
  std::atomic<bool> release{false};
  std::atomic<bool> entered{false};
  auto server = start_server(options, [&](const Request&) {
    entered = true;
    testing::wait_until([&] { return release.load(); }, 20s);
    return Response::text(200, "done");
  });
  auto first = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(send_all(first->get(), "GET / HTTP/1.1\r\n\r\n", std::chrono::steady_clock::now() + 5s).ok());
  ASSERT_TRUE(testing::wait_until([&] { return entered.load(); }));
  auto responses = raw_exchange(server->port(), "GET / HTTP/1.1\r\n\r\n", 1);
  release = true;
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 503);
}

TEST(HttpServer, RendersItsOwnRefusalsWithTheGivenRenderer) {
  HttpServer::Options options;
  options.error_response = [](int status, const std::string& reason) {
    return Response::json(status, "{\"error\":\"" + reason.substr(0, 8) + "\"}");
  };
  auto server = start_server(options);
  auto responses = raw_exchange(server->port(), "NOT HTTP AT ALL\r\n\r\n", 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400);
  EXPECT_EQ(responses[0].header("Content-Type"), "application/json");
  EXPECT_TRUE(responses[0].body.starts_with("{\"error\":")) << responses[0].body;
}

TEST(HttpServer, ReportsAnAddressInUse) {
  auto first = start_server();
  HttpServer::Options options;
  options.port = first->port();
  HttpServer second(options, echo);
  auto started = second.start();
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.error().find("address already in use"), std::string::npos) << started.error();
  EXPECT_NE(started.error().find(std::to_string(first->port())), std::string::npos);
}

TEST(HttpServer, RejectsAHostThatIsNotAnAddress) {
  HttpServer::Options options;
  options.host = "not-an-address";
  HttpServer server(options, echo);
  EXPECT_FALSE(server.start().ok());
}

TEST(HttpServer, ServesOnIpv6Loopback) {
  HttpServer::Options options;
  options.host = "::1";
  HttpServer server(options, echo);
  auto started = server.start();
  if (!started.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << started.error();
  auto response = fetch("GET", "http://[::1]:" + std::to_string(server.port()) + "/six");
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->body, "GET /six ");
}

TEST(HttpServer, StopClosesIdleConnectionsAndIsIdempotent) {
  auto server = start_server();
  auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
  ASSERT_TRUE(fd.ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  ASSERT_TRUE(send_all(fd->get(), "GET / HTTP/1.1\r\n\r\n", deadline).ok());
  ResponseParser parser;
  ResponseParser::State state = ResponseParser::State::need_more;
  char chunk[4096];
  while (state == ResponseParser::State::need_more && wait_readable(fd->get(), deadline)) {
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    ASSERT_GT(n, 0);
    std::size_t consumed = 0;
    state = parser.feed(std::string_view(chunk, static_cast<std::size_t>(n)), consumed);
  }
  ASSERT_EQ(state, ResponseParser::State::done);

  server->stop();
  server->stop();
  // The connection was idle in keep-alive; stop() closed it.
  ASSERT_TRUE(wait_readable(fd->get(), std::chrono::steady_clock::now() + 10s));
  EXPECT_EQ(::recv(fd->get(), chunk, sizeof chunk, 0), 0);
  EXPECT_FALSE(fetch("GET", base_url(*server) + "/", {}, 2s).ok());
}

TEST(HttpServer, SurvivesAClientThatDisconnectsBeforeReadingItsAnswer) {
  std::atomic<int> handled{0};
  auto server = start_server({}, [&](const Request&) {
    ++handled;
    return Response::text(200, std::string(1 << 20, 'z'));  // larger than the socket buffers
  });
  for (int i = 0; i < 3; ++i) {
    auto fd = connect_tcp("127.0.0.1", server->port(), 5s);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(send_all(fd->get(), "GET / HTTP/1.1\r\n\r\n", std::chrono::steady_clock::now() + 5s).ok());
    ASSERT_TRUE(testing::wait_until([&] { return handled.load() > i; }));
  }
  auto response = fetch("GET", base_url(*server) + "/", {}, 10s);
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(response->body.size(), 1u << 20);
}

TEST(HttpClient, ReportsARefusedConnection) {
  const int port = testing::free_port();
  auto response = fetch("GET", "http://127.0.0.1:" + std::to_string(port) + "/", {}, 2s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error(), "connect to 127.0.0.1:" + std::to_string(port) + " refused");
}

TEST(HttpClient, TimesOutAgainstAListenerThatNeverAnswers) {
  // A listening socket that nobody accepts from: connect succeeds (backlog), no answer ever comes.
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  auto response = fetch("GET", url, {}, 300ms);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error(), "timed out after 300ms waiting for response headers from " + url);
}

TEST(HttpClient, ReportsAMalformedResponse) {
  // A raw TCP peer that answers nonsense to whatever it is sent.
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  std::thread peer([&] {
    Fd client(::accept(listener.get(), nullptr, nullptr));
    if (!wait_readable(client.get(), std::chrono::steady_clock::now() + 10s)) return;
    char sink[1024];
    [[maybe_unused]] auto n = ::recv(client.get(), sink, sizeof sink, 0);
    [[maybe_unused]] auto s = send_all(client.get(), "NOT HTTP AT ALL\r\n\r\n", std::chrono::steady_clock::now() + 5s);
  });
  auto response = fetch("GET", "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/", {}, 5s);
  peer.join();
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().find("malformed response"), std::string::npos) << response.error();
}

TEST(HttpClient, RefusesHttpsWithAClearMessage) {
  auto response = fetch("GET", "https://127.0.0.1:1/", {}, 1s);
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().find("only http://"), std::string::npos);
}

TEST(HttpClient, ReportsAnInvalidUrl) {
  auto response = fetch("GET", "127.0.0.1:80/x");
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.error().find("invalid URL"), std::string::npos);
}

TEST(HttpClient, SendsHostAndContentLength) {
  std::string host;
  std::string length;
  auto server = start_server({}, [&](const Request& r) {
    host = r.header("Host");
    length = r.header("Content-Length");
    return Response::text(200, "");
  });
  auto response = fetch("POST", base_url(*server) + "/", "");
  ASSERT_TRUE(response.ok()) << response.error();
  EXPECT_EQ(host, "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(length, "0");
}

TEST(ConnectTcp, ResolvesLocalhost) {
  auto server = start_server();
  auto fd = connect_tcp("localhost", server->port(), 5s);
  EXPECT_TRUE(fd.ok()) << fd.error();
}

}  // namespace
}  // namespace chaosplus::net
