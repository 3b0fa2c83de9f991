#include "net/http_client.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/http_parser.h"
#include "net/socket.h"

namespace chaosplus::net {

namespace {

bool method_carries_body(std::string_view method) {
  return iequals(method, "POST") || iequals(method, "PUT") || iequals(method, "PATCH");
}

}  // namespace

Result<Response> fetch(const Url& url, Request request, Duration timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  const std::string where = url.to_string();
  if (url.scheme != "http") return Error{"cannot fetch " + where + ": only http:// is supported (no TLS yet)"};

  // A base URL ("http://host:port") plus a request that names its own target keeps that target.
  if (url.target != "/" || request.target.empty()) request.target = url.target;
  if (!request.has_header("Host")) request.set_header("Host", url.authority());
  request.set_header("Connection", "close");
  if (request.body.empty() && method_carries_body(request.method) && !request.has_header("Content-Length") &&
      !request.has_header("Transfer-Encoding")) {
    request.set_header("Content-Length", "0");
  }

  auto fd = connect_tcp(url.host, url.port, timeout);
  if (!fd) return Error{fd.error()};
  if (auto sent = send_all(fd->get(), serialize(request), deadline); !sent) {
    return Error{"sending the request to " + where + " failed: " + sent.error()};
  }

  ResponseParser parser;
  parser.set_request_method(request.method);
  std::string buffer;
  char chunk[16 * 1024];
  while (true) {
    if (!wait_readable(fd->get(), deadline)) {
      return Error{"timed out after " + format_duration(timeout) + " waiting for response " +
                   (parser.headers_complete() ? "body" : "headers") + " from " + where};
    }
    ssize_t n = ::recv(fd->get(), chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n < 0) {
      return Error{std::string(errno == ECONNRESET ? "connection reset by " : "reading from ") + where +
                   (errno == ECONNRESET ? "" : std::string(" failed: ") + std::strerror(errno))};
    }
    if (n > 0) buffer.append(chunk, static_cast<std::size_t>(n));
    while (!buffer.empty()) {
      std::size_t consumed = 0;
      auto state = parser.feed(buffer, consumed);
      buffer.erase(0, consumed);
      if (state == ResponseParser::State::error) {
        return Error{"malformed response from " + where + ": " + parser.error()};
      }
      if (state == ResponseParser::State::need_more) break;
      // Interim answers (100 Continue) precede the real one; skip them.
      const int status = parser.response().status;
      if (status >= 200 || status == 101) return parser.response();
      parser.reset();
    }
    if (n == 0) {
      if (parser.finish() == ResponseParser::State::done) return parser.response();
      if (!parser.started()) return Error{"connection closed by " + where + " before any response"};
      return Error{"malformed response from " + where + ": " + parser.error()};
    }
  }
}

Result<Response> fetch(std::string_view method, std::string_view url, std::string body, Duration timeout) {
  auto parsed = Url::parse(url);
  if (!parsed) return Error{parsed.error()};
  Request request;
  request.method = std::string(method);
  request.target = parsed->target;
  request.body = std::move(body);
  return fetch(*parsed, std::move(request), timeout);
}

}  // namespace chaosplus::net
