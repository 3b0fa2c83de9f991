#include "net/http_server.h"

// Design: one accept thread plus one thread per connection, capped at max_connections. Our servers
// are control planes and demo services that see tens of connections, where a blocking, sequential
// loop per connection makes keep-alive, pipelining (answers in order) and handler code trivially
// correct; the load engine, which needs thousands of sockets, has its own event loop. Every wait
// polls the socket together with an eventfd that stop() signals, so stop() never waits on an idle
// client.
//
// The cap must not let clients that send nothing lock everyone else out (a control API is what
// stops an experiment). So a connection waiting for a request can be evicted: at the cap, the one
// that has waited longest is shut down to make room (as nginx reuses idle keep-alive connections),
// and heads must arrive within header_timeout. A 503 is left only for when every connection is busy
// in the handler.
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
#include <condition_variable>
#include <cstring>
#include <exception>
#include <list>
#include <mutex>
#include <thread>

#include "core/loopback.h"
#include "net/socket.h"

namespace chaosplus::net {

namespace {

using Clock = std::chrono::steady_clock;

int poll_timeout_ms(Clock::time_point deadline) {
  auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1'000'000));
}

int status_for(ParseError kind) {
  switch (kind) {
    case ParseError::body_too_large: return 413;
    case ParseError::headers_too_large: return 431;
    case ParseError::start_line_too_long: return 414;
    default: return 400;
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

  // The fields but `thread` are guarded by connections_mutex. Only the connection's own thread
  // closes `fd` (in finish()), so an eviction never shuts down a descriptor number that was reused.
  struct Connection {
    std::thread thread;
    Fd fd;
    bool waiting = true;   // waiting for (the rest of) a request: may be evicted
    bool evicted = false;  // shut down to make room; its thread is on its way out
    bool finished = false;
    Clock::time_point waiting_since = Clock::now();
  };
  std::mutex connections_mutex;
  std::list<Connection> connections;  // std::list: elements never move while their thread runs
  int live = 0;                       // connections neither finished nor evicted
  int threads = 0;                    // connection threads not finished (evicted ones included)
  std::condition_variable thread_done;

  void accept_loop();
  void admit(Fd fd);
  bool evict_longest_waiting();  // with connections_mutex held
  void reap_finished(bool all);
  void serve(Connection& connection);
  // Marks the connection as busy with a request (false if it was evicted meanwhile) or waiting.
  bool set_waiting(Connection& connection, bool waiting);
  void finish(Connection& connection);
  // Polls the connection and the wake eventfd; false when the deadline passes or stop() began.
  bool wait_for_input(int fd, Clock::time_point deadline) const;
  Response refusal(int status, const std::string& reason) const;
  void stream_body(int fd, const Response& response);
  void reject_busy(Fd fd) const;
  void linger_close(int fd) const;
};

HttpServer::HttpServer(Options options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

int HttpServer::waiting_connections() const {
  std::lock_guard lock(impl_->connections_mutex);
  int n = 0;
  for (const auto& c : impl_->connections) n += !c.finished && !c.evicted && c.waiting ? 1 : 0;
  return n;
}

Status HttpServer::start() {
  std::lock_guard lock(impl_->stop_mutex);
  auto& o = impl_->options;
  const std::string where = host_port(o.host, o.port);
  if (impl_->started) return Error{"server on " + where + " already started"};
  if (o.max_connections < 1) return Error{"max_connections must be at least 1"};

  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string host = is_localhost_name(o.host) ? "127.0.0.1" : o.host;
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
  if (::listen(fd.get(), SOMAXCONN) != 0) return Error{"cannot listen on " + where + ": " + std::strerror(errno)};
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
    // Take the whole backlog at once: a queue of connections a client is stuck behind is exactly
    // what a flood of idle connections would otherwise build.
    for (int taken = 0; taken < 256 && !stopping; ++taken) {
      Fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!fd.valid()) {
        // EMFILE and friends: back off briefly instead of spinning on a listener that stays ready.
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          pollfd w{wake.get(), POLLIN, 0};
          ::poll(&w, 1, 100);
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        break;
      }
      admit(std::move(fd));
    }
  }
}

void HttpServer::Impl::admit(Fd fd) {
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::unique_lock lock(connections_mutex);
  bool room = live < options.max_connections || evict_longest_waiting();
  // Evicted connections keep their threads until they notice, which takes moments; twice the cap
  // bounds the threads, and a burst of new connections waits for those moments here.
  const int max_threads = 2 * options.max_connections;
  room = room && thread_done.wait_for(lock, std::chrono::seconds(1), [&] { return threads < max_threads; });
  if (!room) {
    lock.unlock();
    reject_busy(std::move(fd));
    return;
  }
  auto& connection = connections.emplace_back();
  connection.fd = std::move(fd);
  ++live;
  ++threads;
  try {
    connection.thread = std::thread([this, &connection] {
      serve(connection);
      finish(connection);
    });
  } catch (const std::system_error&) {
    // Out of threads: the client is closed with its entry.
    --live;
    --threads;
    connections.pop_back();
  }
}

bool HttpServer::Impl::evict_longest_waiting() {
  Connection* oldest = nullptr;
  for (auto& c : connections) {
    if (c.finished || c.evicted || !c.waiting) continue;
    if (oldest == nullptr || c.waiting_since < oldest->waiting_since) oldest = &c;
  }
  if (oldest == nullptr) return false;
  oldest->evicted = true;
  --live;
  // Wakes its thread's poll; the thread then closes the descriptor itself.
  ::shutdown(oldest->fd.get(), SHUT_RDWR);
  return true;
}

bool HttpServer::Impl::set_waiting(Connection& connection, bool waiting) {
  std::lock_guard lock(connections_mutex);
  if (connection.evicted) return false;
  connection.waiting = waiting;
  if (waiting) connection.waiting_since = Clock::now();
  return true;
}

void HttpServer::Impl::finish(Connection& connection) {
  {
    std::lock_guard lock(connections_mutex);
    connection.fd.reset();
    if (!connection.evicted) --live;
    --threads;
    connection.finished = true;
  }
  thread_done.notify_all();
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

Response HttpServer::Impl::refusal(int status, const std::string& reason) const {
  if (options.error_response) return options.error_response(status, reason);
  return Response::text(status, reason_phrase(status) + ": " + reason + "\n");
}

void HttpServer::Impl::reject_busy(Fd fd) const {
  Response r = refusal(503, "too many connections, all busy");
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

namespace {

class SocketStream final : public ResponseStream {
 public:
  SocketStream(int fd, int wake, const std::atomic<bool>& stopping, Duration send_timeout)
      : fd_(fd), wake_(wake), stopping_(stopping), send_timeout_(send_timeout) {}

  bool write(std::string_view bytes) override {
    if (gone_ || stopping_) return false;
    gone_ = !send_all(fd_, bytes, Clock::now() + send_timeout_).ok();
    return !gone_;
  }

  bool wait(Duration d) override {
    const auto deadline = Clock::now() + d;
    while (!gone_ && !stopping_) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      int ready = ::poll(fds, 2, poll_timeout_ms(deadline));
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return true;
      if (ready < 0 || fds[1].revents != 0) return false;
      // The client sends nothing on a stream: readable means it closed (or sent bytes we drop).
      char sink[4096];
      ssize_t n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) gone_ = true;
    }
    return false;
  }

 private:
  int fd_;
  int wake_;
  const std::atomic<bool>& stopping_;
  Duration send_timeout_;
  bool gone_ = false;
};

}  // namespace

void HttpServer::Impl::stream_body(int fd, const Response& response) {
  Response head = response;
  head.stream = nullptr;
  head.body.clear();
  head.headers.erase(std::remove_if(head.headers.begin(), head.headers.end(),
                                    [](const Header& h) {
                                      return iequals(h.name, "Content-Length") || iequals(h.name, "Transfer-Encoding");
                                    }),
                     head.headers.end());
  if (!send_all(fd, serialize(head, false), Clock::now() + options.idle_timeout)) return;
  SocketStream stream(fd, wake.get(), stopping, options.idle_timeout);
  try {
    response.stream(stream);
  } catch (const std::exception&) {
    // The head is out: all that is left to say is the end of the stream.
  }
  ::shutdown(fd, SHUT_WR);
}

void HttpServer::Impl::serve(Connection& connection) {
  const int fd = connection.fd.get();
  RequestParser parser(options.limits);
  std::string buffer;
  std::size_t offset = 0;
  char chunk[16 * 1024];
  bool continue_sent = false;
  // Between requests a connection may wait until `idle_until`; a new connection only as long as
  // its first head may take. Once a request's first byte is in, its head must be complete by
  // `head_until` (no slow-drip heads) and all of it by `request_until`.
  auto now = Clock::now();
  bool first_request = true;
  bool in_request = false;
  auto idle_until = now + std::min(options.header_timeout, options.idle_timeout);
  auto head_until = idle_until;
  auto request_until = idle_until;

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
    return send_all(fd, bytes, Clock::now() + options.idle_timeout).ok();
  };

  while (true) {
    // Answer every complete request already buffered, in order (pipelining).
    while (true) {
      std::size_t consumed = 0;
      auto state = parser.feed(std::string_view(buffer).substr(offset), consumed);
      offset += consumed;
      if (state == RequestParser::State::need_more) {
        if (parser.started() && !in_request) {
          in_request = true;
          now = Clock::now();
          head_until = now + options.header_timeout;
          if (first_request) head_until = std::min(idle_until, head_until);
          request_until = std::max(head_until, now + options.idle_timeout);
        }
        if (parser.headers_complete() && !continue_sent && iequals(parser.request().header("Expect"), "100-continue")) {
          continue_sent = true;
          if (!send_all(fd, "HTTP/1.1 100 Continue\r\n\r\n", Clock::now() + options.idle_timeout)) return;
        }
        break;
      }
      if (state == RequestParser::State::error) {
        if (send(refusal(status_for(parser.error_kind()), parser.error()), false, false)) linger_close(fd);
        return;
      }
      // Busy from here until the answer is sent: an eviction must not cut a request being handled.
      if (!set_waiting(connection, false)) return;
      const Request& request = parser.request();
      Response response;
      try {
        response = handler(request);
      } catch (const std::exception& e) {
        response = refusal(500, std::string("handler failed: ") + e.what());
      } catch (...) {
        response = refusal(500, "handler failed with an unknown exception");
      }
      if (response.stream && !iequals(request.method, "HEAD")) {
        stream_body(fd, response);
        return;
      }
      response.stream = nullptr;
      bool keep_alive = parser.keep_alive() && !stopping;
      for (const auto& h : response.headers) {
        if (iequals(h.name, "Connection") && iequals(h.value, "close")) keep_alive = false;
      }
      if (keep_alive && request.version == "HTTP/1.0" && !response.has_header("Connection")) {
        response.headers.push_back({"Connection", "keep-alive"});
      }
      if (!send(response, keep_alive, iequals(request.method, "HEAD"))) return;
      if (!keep_alive) {
        linger_close(fd);
        return;
      }
      if (!set_waiting(connection, true)) return;
      parser.reset();
      continue_sent = false;
      first_request = false;
      in_request = false;
      idle_until = Clock::now() + options.idle_timeout;
    }
    buffer.erase(0, offset);
    offset = 0;

    const auto deadline = !in_request ? idle_until : parser.headers_complete() ? request_until : head_until;
    if (!wait_for_input(fd, deadline)) {
      // A half-received request gets told why the connection ends; an idle one just closes.
      if (!stopping && parser.started() && Clock::now() >= deadline) {
        const char* why =
            parser.headers_complete() ? "request not received in time" : "request head not received in time";
        if (send(refusal(408, why), false, false)) linger_close(fd);
      }
      return;
    }
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (n <= 0) return;  // closed by the client, reset, or evicted
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace chaosplus::net
