#include "fuzz/sender_loop.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/http_fields.h"

namespace chaosplus::fuzz::detail {

namespace {

constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr int kMaxEvents = 256;

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace

bool parse_head(std::string_view head, net::Response& out) {
  bool status_next = true;
  bool have_status = false;
  std::size_t pos = 0;
  while (pos < head.size()) {
    std::size_t eol = head.find('\n', pos);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      status_next = true;  // the end of a head; another one follows only after an interim 1xx
      continue;
    }
    if (status_next) {
      // "HTTP/1.1 200 OK": the response parser already checked version and code.
      if (line.size() < 12 || line.substr(0, 5) != "HTTP/") return false;
      out.version = std::string(line.substr(0, 8));
      out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
      out.reason = line.size() > 13 ? std::string(line.substr(13)) : std::string();
      out.headers.clear();
      status_next = false;
      have_status = true;
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
      if (!out.headers.empty()) {
        auto& value = out.headers.back().value;
        value += ' ';
        value += net::trim_ows(line);
      }
      continue;
    }
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // the parser refuses these; be safe anyway
    out.headers.push_back({std::string(line.substr(0, colon)), std::string(net::trim_ows(line.substr(colon + 1)))});
  }
  return have_status;
}

void EventLoopSender::Queue::grow() {
  std::vector<Request> bigger(std::max<std::size_t>(16, ring_.size() * 2));
  for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(ring_[(head_ + i) % ring_.size()]);
  ring_ = std::move(bigger);
  head_ = 0;
}

void EventLoopSender::Queue::push_back(Request&& r) {
  if (size_ == ring_.size()) grow();
  ring_[(head_ + size_) % ring_.size()] = std::move(r);
  ++size_;
}

void EventLoopSender::Queue::push_front(Request&& r) {
  if (size_ == ring_.size()) grow();
  head_ = (head_ + ring_.size() - 1) % ring_.size();
  ring_[head_] = std::move(r);
  ++size_;
}

EventLoopSender::Request EventLoopSender::Queue::pop_front() {
  Request r = std::move(ring_[head_]);
  head_ = (head_ + 1) % ring_.size();
  --size_;
  return r;
}

EventLoopSender::EventLoopSender(SenderOptions options, const sockaddr_storage& target, socklen_t target_len,
                                 std::shared_ptr<const load::TlsContext> tls)
    : options_(std::move(options)),
      target_(target),
      target_len_(target_len),
      tls_(std::move(tls)),
      timeout_ns_(options_.timeout.count()),
      conns_(static_cast<std::size_t>(std::max(1, options_.connections))),
      read_buffer_(kReadBuffer) {
  idle_.reserve(conns_.size());
  closed_.reserve(conns_.size());
  // Slot 0 is opened first.
  for (std::size_t i = conns_.size(); i-- > 0;) {
    conns_[i].index = static_cast<std::uint32_t>(i);
    conns_[i].parser.capture_into(&conns_[i].capture);
    closed_.push_back(static_cast<std::uint32_t>(i));
  }
}

EventLoopSender::~EventLoopSender() {
  for (auto& c : conns_) {
    if (c.tls) c.tls->close();
    if (c.fd >= 0) ::close(c.fd);
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status EventLoopSender::init() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Error{"epoll_create1: " + errno_text(errno), ErrorCode::io_error};
  return ok_status();
}

void EventLoopSender::send(std::string bytes, Done done, bool own_connection, bool head) {
  // Only queued: the loop moves it in pump(). A callback that sends (the usual case) is never
  // inside the I/O code that would otherwise run again under it.
  Request r;
  r.bytes = std::move(bytes);
  r.done = std::move(done);
  r.own = own_connection;
  r.head = head;
  queue_.push_back(std::move(r));
  ++outstanding_;
}

void EventLoopSender::dispatch() {
  while (!queue_.empty()) {
    const Request& r = queue_.front();
    Conn* c = nullptr;
    const bool needs_new = r.own || r.retried;
    if (!needs_new && !idle_.empty()) {
      c = &conns_[idle_.back()];  // the most recently used: the least likely closed by the server
      idle_.pop_back();
    } else if (!closed_.empty()) {
      c = &conns_[closed_.back()];
      closed_.pop_back();
    } else if (needs_new && !idle_.empty()) {
      // Every slot has a connection: the one idle longest makes room for a new one.
      c = &conns_[idle_.front()];
      close_conn(*c);
      closed_.pop_back();
    } else {
      return;  // every slot is busy: the queue waits, in order
    }
    start(*c, queue_.pop_front());
  }
}

void EventLoopSender::start(Conn& c, Request&& r) {
  const std::int64_t now = steady_now_ns();
  c.request = std::move(r);
  ++c.serial;
  c.busy = true;
  c.got_bytes = false;
  c.truncated = false;
  c.out_off = 0;
  c.start_ns = now;
  c.sent_ns = 0;
  c.deadline_ns = now + timeout_ns_;
  next_timeout_ns_ = std::min(next_timeout_ns_, c.deadline_ns);
  c.capture.clear();
  c.parser.reset();
  c.parser.expect_no_body(c.request.head);
  if (c.state == State::idle) {
    begin_write(c);
  } else {
    c.state = State::connecting;  // out of the closed list (dispatch took it)
    connect(c);
  }
}

void EventLoopSender::connect(Conn& c) {
  c.reused = false;
  const int fd = ::socket(target_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    finish(c, Outcome::connect_failed, "socket: " + errno_text(errno));
    return;
  }
  c.fd = fd;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target_), target_len_) != 0 && errno != EINPROGRESS) {
    const int err = errno;
    finish(c, err == ECONNREFUSED ? Outcome::refused : Outcome::connect_failed,
           "connect to " + options_.base.authority() + ": " + errno_text(err));
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (static_cast<std::uint64_t>(c.generation) << 32) | c.index;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    finish(c, Outcome::connect_failed, "epoll_ctl: " + errno_text(errno));
    return;
  }
  c.state = State::connecting;
}

// TCP is up: plain connections write at once, TLS ones start their handshake.
void EventLoopSender::connected(Conn& c) {
  if (!tls_) {
    begin_write(c);
    return;
  }
  if (!c.tls) c.tls = std::make_unique<load::TlsStream>(*tls_);
  if (!c.tls->start(c.fd)) {
    finish(c, Outcome::connect_failed, "TLS: " + c.tls->error());
    return;
  }
  c.state = State::handshaking;
  continue_handshake(c);
}

void EventLoopSender::continue_handshake(Conn& c) {
  switch (c.tls->handshake()) {
    case load::TlsStream::Handshake::in_progress: return;  // epoll reports the socket ready again
    case load::TlsStream::Handshake::done: begin_write(c); return;
    case load::TlsStream::Handshake::verify_failed:
    case load::TlsStream::Handshake::failed:
      finish(c, Outcome::connect_failed, "TLS with " + options_.base.authority() + ": " + c.tls->error());
      return;
  }
}

void EventLoopSender::begin_write(Conn& c) {
  c.state = State::writing;
  c.sent_ns = steady_now_ns();
  write_some(c);
}

void EventLoopSender::write_some(Conn& c) {
  const std::string& out = c.request.bytes;
  while (c.out_off < out.size()) {
    const ssize_t n = transport_send(c, out.data() + c.out_off, out.size() - c.out_off);
    if (n > 0) {
      c.out_off += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
    const int err = n < 0 ? errno : EPIPE;
    // The server may have answered (and closed) before taking the whole request: a 400 or 413
    // that arrived is the answer, not the broken pipe behind it.
    const std::uint64_t serial = c.serial;
    read_ready(c, true);
    if (c.serial != serial || !c.busy) return;
    if (err == EPROTO && c.tls) {
      finish(c, Outcome::reset, "TLS write: " + c.tls->error());
      return;
    }
    broken(c, err);
    return;
  }
  if (c.state == State::writing) c.state = State::reading;
}

void EventLoopSender::read_ready(Conn& c, bool to_the_end) {
  char* const buf = read_buffer_.data();
  while (true) {
    const ssize_t n = transport_recv(c, buf, read_buffer_.size());
    if (n > 0) {
      if (!c.busy) {
        // Bytes nobody asked for on an idle connection: what follows cannot be attributed to
        // the next request, so the connection goes.
        close_conn(c);
        return;
      }
      c.got_bytes = true;
      const auto size = static_cast<std::size_t>(n);
      std::size_t used = 0;
      const auto status = c.parser.feed(buf, size, used);
      // The capture takes at most one read's worth beyond the limit before it is cut back.
      if (c.capture.body.size() > options_.max_body) {
        c.capture.body.resize(options_.max_body);
        c.truncated = true;
      }
      if (status == load::ResponseParser::Status::error) {
        finish(c, Outcome::bad_response, c.parser.error());
        return;
      }
      if (status == load::ResponseParser::Status::done) {
        complete(c, used < size);
        return;
      }
      // Drained: edge-triggered epoll reports new data, and a close that comes later. A close
      // that came with this data was reported with it (EPOLLRDHUP) and is read now, or never.
      // TLS returns a record at a time and may hold more decrypted bytes: it reads on until it
      // would block.
      if (size < read_buffer_.size() && !c.tls && !to_the_end) return;
      continue;
    }
    if (n == 0) {
      if (!c.busy) {
        close_conn(c);  // an idle keep-alive connection the server closed: the slot is free again
        return;
      }
      if (c.got_bytes) {
        if (c.parser.finish() == load::ResponseParser::Status::done) {
          complete(c, false);  // a body delimited by the close
        } else {
          finish(c, Outcome::closed, std::string("connection closed by the server: ") + c.parser.error());
        }
        return;
      }
      const char* why = "connection closed by the server without a response";
      if (c.reused && !c.request.retried) {
        retry(c, Outcome::closed, why);
        return;
      }
      finish(c, Outcome::closed, why);
      return;
    }
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return;
    if (!c.busy) {
      close_conn(c);
      return;
    }
    if (err == EPROTO && c.tls) {
      finish(c, Outcome::bad_response, "TLS read: " + c.tls->error());
      return;
    }
    broken(c, err);
    return;
  }
}

// A reset or broken pipe before a complete answer.
void EventLoopSender::broken(Conn& c, int err) {
  // On a kept-alive connection, before any byte of an answer: the server had closed it while it
  // was idle and our request crossed its close. That is no finding; the request goes again, once,
  // on a new connection.
  std::string why = "connection to " + options_.base.authority() + ": " + errno_text(err);
  if (!c.got_bytes && c.reused && !c.request.retried && (err == ECONNRESET || err == EPIPE)) {
    retry(c, Outcome::reset, std::move(why));
    return;
  }
  finish(c, Outcome::reset, std::move(why));
}

void EventLoopSender::retry(Conn& c, Outcome outcome, std::string error) {
  Request r = std::move(c.request);
  r.retried = true;
  r.first_outcome = outcome;
  r.first_error = std::move(error);
  c.busy = false;
  close_conn(c);
  queue_.push_front(std::move(r));
}

void EventLoopSender::complete(Conn& c, bool leftover) {
  const std::int64_t now = steady_now_ns();
  Finished f;
  f.done = std::move(c.request.done);
  Reply& reply = f.reply;
  reply.latency_ns = now - (c.sent_ns != 0 ? c.sent_ns : c.start_ns);
  if (!parse_head(c.capture.head, reply.response)) {
    reply.outcome = Outcome::bad_response;
    reply.error = "response without a status line";
  } else {
    reply.outcome = Outcome::response;
    reply.response.body = std::move(c.capture.body);
    reply.body_truncated = c.truncated;
  }
  // Kept for the next request only if nothing about it is in doubt: the server keeps it, the
  // whole request went out, and no bytes came after the answer (those would be charged to the
  // next request: a desync the fuzzer may well have caused).
  const bool keep = c.parser.keep_alive() && !c.request.own && c.out_off == c.request.bytes.size() && !leftover;
  c.request = Request{};
  c.busy = false;
  c.reused = true;
  finished_.push_back(std::move(f));
  if (!keep) {
    close_conn(c);
    return;
  }
  c.state = State::idle;
  // The next queued request goes out on this connection now, not after every event of this round:
  // the server works on it while the loop reads the other answers (a round's worth of lockstep
  // between client and server halves the rate on a small machine).
  if (!queue_.empty() && !queue_.front().own && !queue_.front().retried) {
    start(c, queue_.pop_front());
  } else {
    idle_.push_back(c.index);
  }
}

void EventLoopSender::finish(Conn& c, Outcome outcome, std::string error) {
  const std::int64_t now = steady_now_ns();
  if (c.request.retried && (outcome == Outcome::refused || outcome == Outcome::connect_failed)) {
    // The server is gone since the first try: its connection did not go stale, the server died
    // with our request on it (a crash the request may have caused). The first failure is the
    // finding; the refusal only says the target is down now.
    error = c.request.first_error + " (on a kept-alive connection; sent again on a new one: " + error + ")";
    outcome = c.request.first_outcome;
  }
  Finished f;
  f.done = std::move(c.request.done);
  f.reply.outcome = outcome;
  f.reply.error = std::move(error);
  f.reply.latency_ns = now - (c.sent_ns != 0 ? c.sent_ns : c.start_ns);
  c.request = Request{};
  c.busy = false;
  finished_.push_back(std::move(f));
  close_conn(c);
}

void EventLoopSender::close_conn(Conn& c) {
  if (c.state == State::closed) return;
  if (c.tls) c.tls->close();
  if (c.fd >= 0) {
    ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
  }
  ++c.generation;
  if (c.state == State::idle) std::erase(idle_, c.index);
  c.state = State::closed;
  c.reused = false;
  closed_.push_back(c.index);
}

ssize_t EventLoopSender::transport_recv(Conn& c, char* buffer, std::size_t size) {
  if (c.tls) return c.tls->read(buffer, size);
  return ::recv(c.fd, buffer, size, 0);
}

ssize_t EventLoopSender::transport_send(Conn& c, const char* data, std::size_t size) {
  if (c.tls) return c.tls->write(data, size);
  return ::send(c.fd, data, size, MSG_NOSIGNAL);
}

void EventLoopSender::on_event(Conn& c, std::uint32_t events) {
  if (c.state == State::connecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
      if (err == 0) err = ECONNREFUSED;  // a hang-up before the connect completed
      finish(c, err == ECONNREFUSED ? Outcome::refused : Outcome::connect_failed,
             "connect to " + options_.base.authority() + ": " + errno_text(err));
      return;
    }
    const std::uint32_t generation = c.generation;
    connected(c);
    // The write may already have met the server's answer or close (edge-triggered: now or never).
    if (c.generation != generation || c.state == State::handshaking) return;
  }
  if (c.state == State::handshaking) {
    continue_handshake(c);
    return;
  }
  const std::uint32_t generation = c.generation;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    read_ready(c, (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    if (c.generation != generation) return;
  }
  if ((events & EPOLLOUT) && c.state == State::writing) write_some(c);
  // A TLS read can wait for the socket to take bytes (a key update to answer).
  else if ((events & EPOLLOUT) && c.tls && c.state == State::reading) read_ready(c, false);
}

void EventLoopSender::scan_timeouts(std::int64_t now) {
  next_timeout_ns_ = INT64_MAX;
  for (auto& c : conns_) {
    if (!c.busy) continue;
    if (now < c.deadline_ns) {
      next_timeout_ns_ = std::min(next_timeout_ns_, c.deadline_ns);
      continue;
    }
    // An answer may be waiting unread when the loop itself was late: it is an answer, not a hang.
    // (Answered, it may already carry the next request, whose deadline start() has noted.)
    const std::uint64_t serial = c.serial;
    if (c.state == State::reading || c.state == State::writing) read_ready(c, true);
    if (c.serial != serial || !c.busy) continue;
    const char* what = c.state == State::connecting    ? "connect did not complete"
                       : c.state == State::handshaking ? "TLS handshake did not complete"
                       : c.got_bytes                   ? "response incomplete"
                                                       : "no response";
    finish(c, Outcome::timeout, std::string(what) + " within " + format_duration(options_.timeout));
  }
}

void EventLoopSender::run_finished() {
  // By index into the member list: a callback may pump (which runs this again) or cancel_all
  // (which adds answers), and either sees the same list and position.
  while (next_finished_ < finished_.size()) {
    Finished f = std::move(finished_[next_finished_++]);
    --outstanding_;
    if (f.done) f.done(std::move(f.reply));
  }
  finished_.clear();
  next_finished_ = 0;
}

std::size_t EventLoopSender::pump(std::int64_t deadline_ns, std::size_t in_flight_below) {
  epoll_event events[kMaxEvents];
  bool polled = false;  // a deadline that has already passed still gets one look at the sockets
  while (true) {
    dispatch();
    run_finished();
    if (in_flight_below != 0 && outstanding_ < in_flight_below) break;
    const std::int64_t now = steady_now_ns();
    if (now >= next_timeout_ns_) scan_timeouts(now);
    const bool late = now >= deadline_ns;
    if (late && polled) {
      run_finished();  // what the scan answered; a callback's new requests wait for the next pump
      break;
    }
    // Requests the callbacks sent go out before the wait; connects that failed at once (refused)
    // are answered without one. A caller that re-sends on every refusal spins only until its
    // deadline: when to wait for a restarting target is its decision.
    dispatch();
    if (!finished_.empty()) continue;
    const std::int64_t wake = std::min(deadline_ns, next_timeout_ns_);
    const std::int64_t wait_ms = late ? 0 : std::clamp<std::int64_t>((wake - now + 999'999) / 1'000'000, 0, 60'000);
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, static_cast<int>(wait_ms));
    polled = true;
    for (int i = 0; i < n; ++i) {
      const epoll_event& e = events[i];
      Conn& c = conns_[static_cast<std::uint32_t>(e.data.u64)];
      if (c.fd >= 0 && c.generation == static_cast<std::uint32_t>(e.data.u64 >> 32)) on_event(c, e.events);
    }
  }
  return outstanding_;
}

void EventLoopSender::cancel_all() {
  for (auto& c : conns_) {
    if (c.busy) {
      finish(c, Outcome::closed, "cancelled");
    } else {
      close_conn(c);
    }
  }
  while (!queue_.empty()) {
    Request r = queue_.pop_front();
    Finished f;
    f.done = std::move(r.done);
    f.reply.outcome = Outcome::closed;
    f.reply.error = "cancelled";
    finished_.push_back(std::move(f));
  }
  next_timeout_ns_ = INT64_MAX;
  run_finished();
}

}  // namespace chaosplus::fuzz::detail
