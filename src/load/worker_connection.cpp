// The worker's I/O: connecting (TCP, then TLS), sending requests, reading and parsing responses,
// and the epoll events that drive them. What a finished response or a failure means for users,
// jobs and counters is in worker.cpp.
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "load/worker_internal.h"

namespace chaosplus::load {

void Worker::connect(Conn& c, std::int64_t now) {
  const auto& target = plan_.target;
  int fd = ::socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  c.since_ns = now;
  if (fd < 0) {
    fail(c, ErrorKind::connect, now);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!plan_.sources.empty()) {
    // Choose the port at connect() time per 4-tuple, so each source address gets its own ~28k ports.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    const auto& src =
        plan_.sources[(c.index * static_cast<std::size_t>(share_.count) + share_.index) % plan_.sources.size()];
    const socklen_t len = src.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&src), len) != 0) {
      ::close(fd);
      fail(c, ErrorKind::connect, now);
      return;
    }
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), plan_.target_len) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    fail(c, ErrorKind::connect, now);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (static_cast<std::uint64_t>(c.generation) << 32) | c.index;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    ::close(fd);
    fail(c, ErrorKind::connect, now);
    return;
  }
  c.fd = fd;
  c.state = ConnState::connecting;
  ++connecting_;
  c.parser.reset();
  peak_open_ = std::max(peak_open_, ++open_conns_);
}

void Worker::close_conn(Conn& c) {
  if (c.state == ConnState::connecting || c.state == ConnState::handshaking) --connecting_;
  if (c.tls) c.tls->close();
  if (c.fd >= 0) {
    ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    ++c.generation;
    --open_conns_;
  }
  c.state = ConnState::closed;
}

void Worker::write_some(Conn& c) {
  while (c.out_off < c.out_len) {
    const ssize_t n = transport_send(c, c.out + c.out_off, c.out_len - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<std::uint32_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
    const bool tls_failure = n < 0 && errno == EPROTO && c.tls;
    if (tls_failure && tls_error_.empty()) tls_error_ = c.tls->error();
    fail(c, tls_failure ? ErrorKind::tls : ErrorKind::write, now_ns());
    return;
  }
  c.state = ConnState::reading;
}

bool Worker::read_ready(Conn& c) {
  char* const buf = read_buffer_.data();
  while (true) {
    const ssize_t n = transport_recv(c, buf, kReadBuffer);
    if (n > 0) {
      const bool busy = c.state == ConnState::reading || c.state == ConnState::writing;
      second_of(busy ? c.job.intended_ns : now_ns()).counters.bytes_read += static_cast<std::uint64_t>(n);
      std::size_t off = 0;
      const auto size = static_cast<std::size_t>(n);
      while (off < size) {
        if (c.state != ConnState::reading && c.state != ConnState::writing) {
          fail(c, ErrorKind::protocol, now_ns());  // bytes nobody asked for
          return false;
        }
        std::size_t used = 0;
        const auto s = c.parser.feed(buf + off, size - off, used);
        off += used;
        if (s == ResponseParser::Status::need_more) break;
        if (s == ResponseParser::Status::error) {
          fail(c, ErrorKind::protocol, now_ns());
          return false;
        }
        const std::uint32_t generation = c.generation;
        complete(c);
        if (c.generation != generation) return false;  // closed (not keep-alive, or failed)
      }
      // Drained: edge-triggered epoll reports new data. TLS returns a record at a time, and may
      // hold more decrypted bytes: it reads on until it would block.
      if (size < kReadBuffer && !c.tls) return true;
      continue;
    }
    if (n == 0) {
      const std::int64_t now = now_ns();
      if (c.state == ConnState::reading && c.parser.started()) {
        if (c.parser.finish() == ResponseParser::Status::done) {
          complete(c);  // a close-delimited body is never keep-alive: complete() reconnects
          return false;
        }
        fail(c, ErrorKind::read, now);
      } else if (c.state == ConnState::reading || c.state == ConnState::writing) {
        fail(c, ErrorKind::read, now);  // closed with our request unanswered
      } else {
        // An idle keep-alive connection closed by the server: reconnect quietly.
        if (c.state == ConnState::idle) std::erase(idle_, c.index);
        close_conn(c);
        connect(c, now);
      }
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    const bool tls_failure = errno == EPROTO && c.tls;
    if (tls_failure && tls_error_.empty()) tls_error_ = c.tls->error();
    fail(c, tls_failure ? ErrorKind::tls : ErrorKind::read, now_ns());
    return false;
  }
}

ssize_t Worker::transport_recv(Conn& c, char* buffer, std::size_t size) {
  if (c.tls) return c.tls->read(buffer, size);
  return ::recv(c.fd, buffer, size, 0);
}

ssize_t Worker::transport_send(Conn& c, const char* data, std::size_t size) {
  if (c.tls) return c.tls->write(data, size);
  return ::send(c.fd, data, size, MSG_NOSIGNAL);
}

// TCP is up: plain connections are ready, TLS ones start their handshake in this loop.
void Worker::connected(Conn& c, std::int64_t now) {
  if (!plan_.tls) {
    --connecting_;
    c.state = ConnState::idle;
    make_idle(c);
    return;
  }
  if (!c.tls) c.tls = std::make_unique<TlsStream>(*plan_.tls);
  if (!c.tls->start(c.fd)) {
    if (tls_error_.empty()) tls_error_ = c.tls->error();
    fail(c, ErrorKind::tls, now);
    return;
  }
  c.state = ConnState::handshaking;
  continue_handshake(c);
}

void Worker::continue_handshake(Conn& c) {
  const auto state = c.tls->handshake();
  switch (state) {
    case TlsStream::Handshake::in_progress:
      return;  // epoll reports the socket ready again (both directions are watched)
    case TlsStream::Handshake::done: {
      Counters& counts = second_of(now_ns()).counters;
      ++counts.tls_handshakes;
      if (c.tls->resumed()) ++counts.tls_resumed;
      --connecting_;
      c.state = ConnState::idle;
      make_idle(c);
      return;
    }
    case TlsStream::Handshake::verify_failed:
    case TlsStream::Handshake::failed:
      if (tls_error_.empty()) tls_error_ = c.tls->error();
      fail(c, state == TlsStream::Handshake::verify_failed ? ErrorKind::tls_verify : ErrorKind::tls, now_ns());
      return;
  }
}

void Worker::on_event(Conn& c, std::uint32_t events) {
  if (c.state == ConnState::connecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      fail(c, ErrorKind::connect, now_ns());
      return;
    }
    connected(c, now_ns());
    // A plain connection may already see the server's close (edge-triggered: now or never).
    if (c.fd < 0 || c.state == ConnState::handshaking) return;
  }
  if (c.state == ConnState::handshaking) {
    continue_handshake(c);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if (!read_ready(c)) return;
  }
  if ((events & EPOLLOUT) && c.state == ConnState::writing) write_some(c);
  // A TLS read can wait for the socket to take bytes (a key update to answer).
  else if ((events & EPOLLOUT) && c.tls && c.state == ConnState::reading) read_ready(c);
}

}  // namespace chaosplus::load
