// A handler's streamed body (Response::stream): what Server-Sent Events ride on.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <string>

#include "net/http_server.h"
#include "net/socket.h"
#include "support/support.h"

namespace chaosplus::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Reads from `fd` until `text` has arrived or the peer closes; everything read.
std::string read_until(int fd, std::string_view text, Clock::duration timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  std::string got;
  char chunk[4096];
  while (got.find(text) == std::string::npos && wait_readable(fd, deadline)) {
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    got.append(chunk, static_cast<std::size_t>(n));
  }
  return got;
}

Fd open_stream(int port) {
  auto fd = connect_tcp("127.0.0.1", port, 5s);
  EXPECT_TRUE(fd.ok()) << fd.error();
  EXPECT_TRUE(send_all(fd->get(), "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n", Clock::now() + 5s).ok());
  return std::move(fd).value();
}

TEST(HttpServerStream, SendsTheHeadAtOnceThenEachPieceAsItIsWritten) {
  std::atomic<int> step{0};
  HttpServer server({}, [&](const Request&) {
    Response r;
    r.headers = {{"Content-Type", "text/event-stream"}};
    r.stream = [&](ResponseStream& out) {
      out.write("one\n");
      // The next piece only once the client has seen the first: it was not buffered to the end.
      while (step.load() == 0 && out.wait(5ms)) {
      }
      out.write("two\n");
    };
    return r;
  });
  ASSERT_TRUE(server.start().ok());
  Fd fd = open_stream(server.port());
  std::string first = read_until(fd.get(), "one\n");
  EXPECT_NE(first.find("HTTP/1.1 200"), std::string::npos) << first;
  EXPECT_NE(first.find("Content-Type: text/event-stream"), std::string::npos) << first;
  EXPECT_EQ(first.find("Content-Length"), std::string::npos) << first;
  EXPECT_NE(first.find("Connection: close"), std::string::npos) << first;
  EXPECT_EQ(first.find("two"), std::string::npos);
  step = 1;
  std::string rest = read_until(fd.get(), "\x01");  // to the close
  EXPECT_EQ(rest, "two\n");
}

TEST(HttpServerStream, WaitReturnsFalseOnceTheClientHasGone) {
  std::atomic<bool> noticed{false};
  HttpServer server({}, [&](const Request&) {
    Response r;
    r.stream = [&](ResponseStream& out) {
      out.write("hello\n");
      const auto deadline = Clock::now() + 20s;
      while (Clock::now() < deadline && out.wait(10ms)) {
      }
      noticed = Clock::now() < deadline;
    };
    return r;
  });
  ASSERT_TRUE(server.start().ok());
  {
    Fd fd = open_stream(server.port());
    read_until(fd.get(), "hello\n");
  }  // closed
  EXPECT_TRUE(testing::wait_until([&] { return noticed.load(); }, 10s));
}

TEST(HttpServerStream, StopEndsAStreamThatWouldWaitForever) {
  std::atomic<bool> streaming{false};
  HttpServer server({}, [&](const Request&) {
    Response r;
    r.stream = [&](ResponseStream& out) {
      out.write("x");
      streaming = true;
      while (out.wait(1h)) {
      }
    };
    return r;
  });
  ASSERT_TRUE(server.start().ok());
  Fd fd = open_stream(server.port());
  ASSERT_TRUE(testing::wait_until([&] { return streaming.load(); }, 10s));
  server.stop();  // returns: the stream's wait saw the stop
  EXPECT_FALSE(read_until(fd.get(), "never").empty());
}

TEST(HttpServerStream, AHeadRequestGetsTheHeadWithoutCallingTheStream) {
  std::atomic<bool> called{false};
  HttpServer server({}, [&](const Request&) {
    Response r = Response::text(200, "");
    r.stream = [&](ResponseStream&) { called = true; };
    return r;
  });
  ASSERT_TRUE(server.start().ok());
  auto fd = connect_tcp("127.0.0.1", server.port(), 5s);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(send_all(fd->get(), "HEAD /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Clock::now() + 5s));
  std::string got = read_until(fd->get(), "\x01");
  EXPECT_NE(got.find("HTTP/1.1 200"), std::string::npos) << got;
  EXPECT_FALSE(called.load());
}

}  // namespace
}  // namespace chaosplus::net
