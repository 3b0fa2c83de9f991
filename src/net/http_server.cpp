#include "net/http_server.h"

// Design: one accept thread plus one thread per connection, capped at max_connections (beyond
// the cap a connection gets an immediate 503). Our servers are control planes and demo services
// that see tens of connections, where a blocking, sequential loop per connection makes keep-alive,
// pipelining (answers in order) and handler code trivially correct; the load engine, which needs
// thousands of sockets, has its own event loop. Every wait polls the socket together with an
// eventfd that stop() signals, so stop() never waits on an idle client.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <list>
#include <mutex>
#include <thread>

#include "net/socket.h"

namespace chaosplus::net {

namespace {

using Clock = std::chrono::steady_clock;

int poll_timeout_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

Response error_response(int status, const std::string& reason) {
  Response r = Response::text(status, reason_phrase(status) + ": " + reason + "\n");
  return r;
}

int status_for(ParseError kind) {
  switch (kind) {
    case ParseError::body_too_large:
      return 413;
    case ParseError::headers_too_large:
      return 431;
    case ParseError::start_line_too_long:
      return 414;
    default:
      return 400;
  }
}

}  // namespace

struct HttpServer::Impl {
  Options options;
  Handler handler;
  Fd listener;
  Fd wake;  // eventfd: readable once stop() begins, wakes every poll
  int port = 0;
  std::atomic<bool> stopping{false};
  std::thread acceptor;
  std::mutex stop_mutex;  // serializes start() and stop()
  bool started = false;

  struct Connection {
    std::thread thread;
    std::atomic<bool> finished{false};
  };
  std::mutex connections_mutex;
  std::list<Connection> connections;  // std::list: elements never move while their thread runs
  std::atomic<int> active{0};

  void accept_loop();
  void reap_finished(bool all);
  void serve(Fd fd);
  // Polls the connection and the wake eventfd; false when the deadline passes or stop() began.
  bool wait_for_input(int fd, Clock::time_point deadline) const;
  void reject_busy(Fd fd) const;
  void linger_close(int fd) const;
};

HttpServer::HttpServer(Options options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

Status HttpServer::start() {
  std::lock_guard lock(impl_->stop_mutex);
  auto& o = impl_->options;
  const std::string where = host_port(o.host, o.port);
  if (impl_->started) return Error{"server on " + where + " already started"};
  if (o.max_connections < 1) return Error{"max_connections must be at least 1"};

  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string host = o.host == "localhost" ? "127.0.0.1" : o.host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(o.port));
    length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(o.port));
    length = sizeof(sockaddr_in6);
  } else {
    return Error{"cannot listen on " + where + ": host must be an IPv4 or IPv6 address or localhost"};
  }
  if (o.port < 0 || o.port > 65535) return Error{"cannot listen on " + where + ": invalid port"};

  Fd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return Error{"cannot listen on " + where + ": socket: " + std::strerror(errno)};
  int one = 1;
  // SO_REUSEADDR lets a restarted server rebind past TIME_WAIT; it does not allow two listeners.
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    const int err = errno;
    if (err == EADDRINUSE) return Error{"cannot listen on " + where + ": address already in use"};
    return Error{"cannot listen on " + where + ": " + std::strerror(err)};
  }
  if (::listen(fd.get(), 128) != 0) return Error{"cannot listen on " + where + ": " + std::strerror(errno)};
  socklen_t bound_length = sizeof storage;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&storage), &bound_length);
  impl_->port = ntohs(storage.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);

  Fd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return Error{std::string("eventfd: ") + std::strerror(errno)};
  impl_->listener = std::move(fd);
  impl_->wake = std::move(wake);
  impl_->stopping = false;
  impl_->acceptor = std::thread([impl = impl_.get()] { impl->accept_loop(); });
  impl_->started = true;
  return ok_status();
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->stop_mutex);
  if (!impl_->started) return;
  impl_->stopping = true;
  std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(impl_->wake.get(), &one, sizeof one);
  if (impl_->acceptor.joinable()) impl_->acceptor.join();
  impl_->listener.reset();
  impl_->reap_finished(true);
  impl_->wake.reset();
  impl_->started = false;
}

void HttpServer::Impl::accept_loop() {
  while (!stopping) {
    pollfd fds[2] = {{listener.get(), POLLIN, 0}, {wake.get(), POLLIN, 0}};
    // The one-second tick only reaps finished connection threads; accepting is event-driven.
    int ready = ::poll(fds, 2, 1000);
    reap_finished(false);
    if (ready <= 0 || stopping) continue;
    if ((fds[0].revents & POLLIN) == 0) continue;
    Fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      // EMFILE and friends: back off briefly instead of spinning on a listener that stays ready.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        pollfd w{wake.get(), POLLIN, 0};
        ::poll(&w, 1, 100);
      }
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (active.load() >= options.max_connections) {
      reject_busy(std::move(fd));
      continue;
    }
    std::lock_guard lock(connections_mutex);
    auto& connection = connections.emplace_back();
    ++active;
    try {
      connection.thread = std::thread([this, &connection, client = std::move(fd)]() mutable {
        serve(std::move(client));
        --active;
        connection.finished = true;
      });
    } catch (const std::system_error&) {
      // Out of threads: the connection was moved into the failed lambda and is closed with it.
      --active;
      connections.pop_back();
    }
  }
}

void HttpServer::Impl::reap_finished(bool all) {
  std::list<Connection> done;
  {
    std::lock_guard lock(connections_mutex);
    for (auto it = connections.begin(); it != connections.end();) {
      auto next = std::next(it);
      if (all || it->finished) done.splice(done.end(), connections, it);
      it = next;
    }
  }
  for (auto& c : done)
    if (c.thread.joinable()) c.thread.join();
}

void HttpServer::Impl::reject_busy(Fd fd) const {
  Response r = error_response(503, "too many connections");
  // Best effort and non-blocking: a busy server must not wait on the client it turns away.
  std::string bytes = serialize(r, false);
  [[maybe_unused]] auto sent = ::send(fd.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool HttpServer::Impl::wait_for_input(int fd, Clock::time_point deadline) const {
  while (!stopping) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, poll_timeout_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    if (fds[1].revents != 0) return false;
    return true;
  }
  return false;
}

// Closing a socket that still holds unread request bytes makes the kernel send a reset, which can
// destroy the response we just wrote before the client reads it; so half-close and drain first.
void HttpServer::Impl::linger_close(int fd) const {
  ::shutdown(fd, SHUT_WR);
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  char sink[16 * 1024];
  for (std::size_t drained = 0; drained < (1u << 20);) {
    if (!wait_for_input(fd, deadline)) return;
    ssize_t n = ::recv(fd, sink, sizeof sink, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;
    drained += static_cast<std::size_t>(n);
  }
}

void HttpServer::Impl::serve(Fd fd) {
  RequestParser parser(options.limits);
  std::string buffer;
  std::size_t offset = 0;
  char chunk[16 * 1024];
  // A request must arrive whole within idle_timeout of its first byte (no slow-drip requests);
  // between requests the connection may idle for idle_timeout.
  auto deadline = Clock::now() + options.idle_timeout;
  bool continue_sent = false;

  auto send = [&](const Response& response, bool keep_alive, bool head) {
    std::string bytes;
    if (head) {
      Response copy = response;
      if (!copy.has_header("Content-Length") && !copy.has_header("Transfer-Encoding")) {
        copy.headers.push_back({"Content-Length", std::to_string(copy.body.size())});
      }
      copy.body.clear();
      bytes = serialize(copy, keep_alive);
      // serialize() writes the last chunk for chunked messages; a HEAD answer has no body at all.
      if (copy.has_header("Transfer-Encoding")) bytes.resize(bytes.rfind("0\r\n\r\n"));
    } else {
      bytes = serialize(response, keep_alive);
    }
    return send_all(fd.get(), bytes, Clock::now() + options.idle_timeout).ok();
  };

  while (true) {
    // Answer every complete request already buffered, in order (pipelining).
    while (true) {
      std::size_t consumed = 0;
      auto state = parser.feed(std::string_view(buffer).substr(offset), consumed);
      offset += consumed;
      if (state == RequestParser::State::need_more) {
        if (parser.headers_complete() && !continue_sent && iequals(parser.request().header("Expect"), "100-continue")) {
          continue_sent = true;
          if (!send_all(fd.get(), "HTTP/1.1 100 Continue\r\n\r\n", Clock::now() + options.idle_timeout)) return;
        }
        break;
      }
      if (state == RequestParser::State::error) {
        if (send(error_response(status_for(parser.error_kind()), parser.error()), false, false)) linger_close(fd.get());
        return;
      }
      const Request& request = parser.request();
      Response response;
      try {
        response = handler(request);
      } catch (const std::exception& e) {
        response = error_response(500, std::string("handler failed: ") + e.what());
      } catch (...) {
        response = error_response(500, "handler failed with an unknown exception");
      }
      bool keep_alive = parser.keep_alive() && !stopping;
      for (const auto& h : response.headers) {
        if (iequals(h.name, "Connection") && iequals(h.value, "close")) keep_alive = false;
      }
      if (keep_alive && request.version == "HTTP/1.0" && !response.has_header("Connection")) {
        response.headers.push_back({"Connection", "keep-alive"});
      }
      if (!send(response, keep_alive, iequals(request.method, "HEAD"))) return;
      if (!keep_alive) {
        linger_close(fd.get());
        return;
      }
      parser.reset();
      continue_sent = false;
      deadline = Clock::now() + options.idle_timeout;
    }
    buffer.erase(0, offset);
    offset = 0;

    if (!wait_for_input(fd.get(), deadline)) {
      // A half-received request gets told why the connection ends; an idle one just closes.
      if (!stopping && parser.started() && send(error_response(408, "request not received in time"), false, false)) {
        linger_close(fd.get());
      }
      return;
    }
    ssize_t n = ::recv(fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;  // closed by the client, or reset
    if (!parser.started()) deadline = Clock::now() + options.idle_timeout;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace chaosplus::net
