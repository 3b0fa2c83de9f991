#include "proxy/connection.h"

#include <fcntl.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <cerrno>

namespace chaosplus::proxy {

namespace {

// Reads per link per service() call: a busy pair cannot starve the other connections.
constexpr int kReadsPerService = 16;
// Requests read ahead of their responses (pipelining depth) before the client waits.
constexpr std::size_t kMaxOutstandingRequests = 1024;

bool would_block(int error) { return error == EAGAIN || error == EWOULDBLOCK; }

}  // namespace

class Connection::Forward final : public StageOutput {
 public:
  Forward(Connection& connection, Link& link, std::size_t index)
      : connection_(connection), link_(link), index_(index) {}
  void write(std::string_view bytes, TimePoint now) override { connection_.deliver(link_, index_, bytes, now); }
  void end(StreamEnd how, TimePoint now) override { connection_.deliver_end(link_, index_, how, now); }

 private:
  Connection& connection_;
  Link& link_;
  std::size_t index_;
};

Connection::Connection(ConnectionHost& host, std::uint64_t id, std::uint64_t proxy_id, net::Fd client, net::Fd upstream,
                       TimePoint connect_deadline)
    : host_(host),
      id_(id),
      proxy_id_(proxy_id),
      client_(std::move(client)),
      upstream_(std::move(upstream)),
      connect_deadline_(connect_deadline) {
  up_.from = client_.get();
  up_.to = upstream_.get();
  down_.from = upstream_.get();
  down_.to = client_.get();
  down_.writable = true;  // a fresh client socket has an empty send buffer
}

Status Connection::start() {
  constexpr std::uint32_t kEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  if (auto s = host_.loop().watch(client_.get(), kEvents, &client_watcher_); !s) return s;
  return host_.loop().watch(upstream_.get(), kEvents, &upstream_watcher_);
}

void Connection::on_ready(bool client_side, std::uint32_t events) {
  if (closed_) return;
  if (!client_side && connecting_) {
    finish_connect();
    if (closed_) return;
  }
  Link& incoming = client_side ? up_ : down_;  // data arriving on this socket
  Link& outgoing = client_side ? down_ : up_;  // data leaving through this socket
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) incoming.readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) incoming.hangup_seen = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) outgoing.writable = true;
  service(std::chrono::steady_clock::now());
}

void Connection::finish_connect() {
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(upstream_.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
  if (error == EINPROGRESS || error == EALREADY) return;
  if (error != 0) {
    close(false);  // like Toxiproxy: an unreachable upstream closes the client connection
    return;
  }
  connecting_ = false;
  up_.writable = true;
}

void Connection::deliver(Link& link, std::size_t index, std::string_view bytes, TimePoint now) {
  if (index < link.stages.size()) {
    link.stages[index]->accept(bytes, now);
  } else {
    write_out(link, bytes);
  }
}

void Connection::deliver_end(Link& link, std::size_t index, StreamEnd how, TimePoint now) {
  if (index < link.stages.size()) {
    link.stages[index]->accept_end(how, now);
  } else if (link.out_end == StreamEnd::none) {
    link.out_end = how;
  }
}

void Connection::write_out(Link& link, std::string_view bytes) {
  if (closed_ || bytes.empty()) return;
  bool direct =
      link.out.empty() && (!link.pipe || link.pipe->held == 0) && link.writable && !(connecting_ && &link == &up_);
  while (direct && !bytes.empty()) {
    ssize_t n = ::send(link.to, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block(errno)) {
      link.writable = false;
      break;
    } else {
      close(true);  // the peer is gone; tell the other side the same way
      return;
    }
  }
  link.out.append(bytes);
}

void Connection::flush(Link& link) {
  if (closed_ || (connecting_ && &link == &up_)) return;
  drain_pipe(link);  // spliced bytes are older than any in `out`
  if (closed_ || (link.pipe && link.pipe->held > 0)) return;
  return_pipe(link);
  while (!link.out.empty() && link.writable) {
    std::string_view pending = link.out.all();
    ssize_t n = ::send(link.to, pending.data(), pending.size(), MSG_NOSIGNAL);
    if (n > 0) {
      link.out.consume(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block(errno)) {
      link.writable = false;
    } else {
      close(true);
      return;
    }
  }
  if (!link.out.empty() || link.out_end == StreamEnd::none || link.shut) return;
  if (link.out_end == StreamEnd::close || link.out_end == StreamEnd::reset) {
    close(link.out_end == StreamEnd::reset);
    return;
  }
  ::shutdown(link.to, SHUT_WR);
  link.shut = true;
}

void Connection::pump(Link& link, TimePoint now) {
  TimePoint wake = TimePoint::max();
  ConnectionFate fate = ConnectionFate::carry_on;
  for (std::size_t i = 0; i < link.stages.size() && !closed_; ++i) {
    Forward next(*this, link, i + 1);
    Step step = link.stages[i]->advance(now, next);
    wake = std::min(wake, step.wake);
    fate = std::max(fate, step.fate);
  }
  link.wake = wake;
  if (closed_) return;
  if (fate != ConnectionFate::carry_on) {
    close(fate == ConnectionFate::reset);
    return;
  }
  flush(link);
}

std::size_t Connection::buffered(const Link& link) const {
  std::size_t total = link.out.size() + (link.pipe ? link.pipe->held : 0);
  if (http_) total += &link == &up_ ? http_->held_client_bytes() : http_->held_server_bytes();
  for (const auto& stage : link.stages) total += stage->buffered();
  return total;
}

HttpSession* Connection::session() {
  if (!http_ && !http_gone_) http_ = std::make_unique<HttpSession>(&host_.http_counters());
  return http_.get();
}

void Connection::drop_spent_session() {
  if (http_ && http_->spent()) {
    http_.reset();
    http_gone_ = true;
  }
}

void Connection::ingest(Link& link, std::string_view bytes, TimePoint now) {
  HttpSession* http = session();
  if (!http) {
    deliver(link, 0, bytes, now);
    return;
  }
  Forward up(*this, up_, 0);
  Forward down(*this, down_, 0);
  HttpSession::Outputs out{up, down};
  if (&link == &up_) {
    const std::uint64_t before = http->requests();
    http->from_client(bytes, now, out);
    if (const std::uint64_t framed = http->requests() - before; framed > 0) count_requests(framed);
  } else {
    http->from_server(bytes, now, out);
  }
  drop_spent_session();
}

void Connection::count_requests(std::uint64_t framed) {
  for (auto& stage : up_.stages) stage->count_requests(framed);
  for (auto& stage : down_.stages) stage->count_requests(framed);
}

void Connection::ingest_end(Link& link, StreamEnd how, TimePoint now) {
  HttpSession* http = session();
  if (!http) {
    deliver_end(link, 0, how, now);
    return;
  }
  Forward up(*this, up_, 0);
  Forward down(*this, down_, 0);
  HttpSession::Outputs out{up, down};
  if (&link == &up_) {
    http->client_end(how, now, out);
  } else {
    http->server_end(how, now, out);
  }
  drop_spent_session();
}

void Connection::advance_http(TimePoint now) {
  if (!http_) return;
  Forward up(*this, up_, 0);
  Forward down(*this, down_, 0);
  HttpSession::Outputs out{up, down};
  (void)http_->advance(now, out);
  drop_spent_session();
}

bool Connection::may_read(const Link& link) const {
  if (buffered(link) >= host_.max_buffered()) return false;  // resumes when the far side drains
  if (&link != &up_ || !http_ || http_->opaque()) return true;
  // Requests wait while too many await responses, or while the client is slow to take the
  // answers the proxy makes: neither may grow without bound.
  if (http_->outstanding() >= kMaxOutstandingRequests) return false;
  return !http_->has_rules() || buffered(down_) < host_.max_buffered();
}

bool Connection::may_splice(const Link& link) const {
  return http_gone_ && !(connecting_ && &link == &up_) && link.stages.empty() && link.out_end == StreamEnd::none &&
         host_.pipes() != nullptr;
}

bool Connection::splice_source(Link& link, TimePoint now) {
  PipePool& pool = *host_.pipes();
  if (!link.pipe) {
    link.pipe = pool.borrow();
    if (!link.pipe) return false;
  }
  // One pipe-full at a time: while the far side has not taken it, the source waits (flush()
  // drains the pipe on EPOLLOUT and service() comes back here).
  for (int reads = 0; link.readable && !link.source_done && !closed_ && link.pipe && link.pipe->held == 0; ++reads) {
    if (reads == kReadsPerService) {
      host_.defer(*this);
      break;
    }
    ssize_t n = ::splice(link.from, nullptr, link.pipe->write.get(), nullptr, pool.pipe_size(),
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      // The pipe was empty, so a short splice may only mean the pipe's slots ran out: no
      // short-read shortcut here, EAGAIN alone says the socket is empty.
      link.pipe->held = static_cast<std::size_t>(n);
      drain_pipe(link);
    } else if (n == 0) {
      link.source_done = true;
      ingest_end(link, StreamEnd::fin, now);
      pump(link, now);
    } else if (errno == EINTR) {
      continue;
    } else if (would_block(errno)) {
      link.readable = false;
    } else {
      close(true);  // reset by the peer: pass the reset on
    }
  }
  return_pipe(link);
  return true;
}

void Connection::drain_pipe(Link& link) {
  while (link.pipe && link.pipe->held > 0 && link.writable && !closed_) {
    ssize_t n =
        ::splice(link.pipe->read.get(), nullptr, link.to, nullptr, link.pipe->held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      link.pipe->held -= static_cast<std::size_t>(n);
      host_.pipes()->count_moved(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && would_block(errno)) {
      link.writable = false;
    } else {
      close(true);  // the peer is gone; tell the other side the same way
      return;
    }
  }
}

void Connection::return_pipe(Link& link) {
  if (!link.pipe || (link.pipe->held > 0 && !closed_)) return;
  host_.pipes()->give_back(std::move(*link.pipe));
  link.pipe.reset();
}

void Connection::read_source(Link& link, TimePoint now) {
  if (may_splice(link)) {
    // Copied bytes still waiting in `out` go first; meanwhile the source waits (flush() ran just
    // before, so the socket is full and EPOLLOUT brings us back), or else a busy link would keep
    // topping up `out` and never reach the pipe.
    if (!link.out.empty()) return;
    if (splice_source(link, now)) return;
  }
  std::span<char> buffer = host_.scratch();
  Link& other = &link == &up_ ? down_ : up_;
  for (int reads = 0; link.readable && !link.source_done && !closed_; ++reads) {
    if (!may_read(link)) return;
    if (reads == kReadsPerService) {
      host_.defer(*this);
      return;
    }
    ssize_t n = ::recv(link.from, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      // A short read emptied the socket; edge-triggered epoll reports new data as a new event.
      // Once a FIN is known to be queued we read on until recv says 0.
      if (static_cast<std::size_t>(n) < buffer.size() && !link.hangup_seen) link.readable = false;
      const bool framed = http_ == nullptr ? !http_gone_ : !http_->opaque();
      ingest(link, {buffer.data(), static_cast<std::size_t>(n)}, now);
      pump(link, now);
      if (framed) pump(other, now);  // the session may have answered the client
    } else if (n == 0) {
      link.source_done = true;
      const bool framed = http_ == nullptr ? !http_gone_ : !http_->opaque();
      ingest_end(link, StreamEnd::fin, now);
      pump(link, now);
      if (framed) pump(other, now);
    } else if (errno == EINTR) {
      continue;
    } else if (would_block(errno)) {
      link.readable = false;
    } else {
      close(true);  // reset by the peer: pass the reset on
    }
  }
}

void Connection::service(TimePoint now) {
  if (closed_) return;
  if (connecting_ && now >= connect_deadline_) {
    close(false);
    return;
  }
  advance_http(now);
  pump(up_, now);
  pump(down_, now);
  read_source(up_, now);
  read_source(down_, now);
  if (closed_) return;
  if (up_.shut && down_.shut) {
    close(false);  // both directions ended and were passed on
    return;
  }
  schedule();
}

void Connection::schedule() {
  TimePoint wake = std::min({up_.wake, down_.wake, http_ ? http_->next_wake() : TimePoint::max()});
  if (connecting_) wake = std::min(wake, connect_deadline_);
  if (wake == timer_at_) return;
  timer_at_ = wake;
  if (wake != TimePoint::max()) host_.loop().set_timer(id_, wake);
}

void Connection::on_timer(TimePoint when, TimePoint now) {
  if (closed_ || when != timer_at_) return;  // stale: a later reschedule replaced it
  timer_at_ = TimePoint::max();
  service(now);
}

void Connection::add_stage(Stream stream, std::unique_ptr<ToxicStage> stage, TimePoint now) {
  if (closed_) return;
  link(stream).stages.push_back(std::move(stage));
  service(now);
}

void Connection::remove_stage(Stream stream, std::uint64_t toxic_id, TimePoint now) {
  if (closed_) return;
  Link& l = link(stream);
  for (std::size_t i = 0; i < l.stages.size(); ++i) {
    if (l.stages[i]->toxic_id() != toxic_id) continue;
    // What the stage holds moves on to the next stage: it is older than anything before it.
    Forward next(*this, l, i + 1);
    l.stages[i]->flush(now, next);
    l.stages.erase(l.stages.begin() + static_cast<std::ptrdiff_t>(i));
    break;
  }
  service(now);
}

void Connection::update_stage(Stream stream, std::uint64_t toxic_id, const ToxicSpec& spec, TimePoint now) {
  if (closed_) return;
  Link& l = link(stream);
  for (std::size_t i = 0; i < l.stages.size(); ++i) {
    auto& stage = l.stages[i];
    if (stage->toxic_id() != toxic_id) continue;
    bool acting = stage->roll() < spec.toxicity;
    if (acting == stage->acting()) {
      stage->reconfigure(spec, now);
    } else {
      // The toxicity changed which side of the connection's roll it is on: swap the stage, moving
      // what it holds into the new one so the order stays.
      auto seed = std::bit_cast<std::uint64_t>(stage->roll()) ^ (toxic_id * 0x9e3779b97f4a7c15ULL);
      auto replacement = make_stage(toxic_id, spec, stage->roll(), seed, now, stage->counters());
      class Into final : public StageOutput {
       public:
        explicit Into(ToxicStage& target) : target_(target) {}
        void write(std::string_view bytes, TimePoint at) override { target_.accept(bytes, at); }
        void end(StreamEnd how, TimePoint at) override { target_.accept_end(how, at); }

       private:
        ToxicStage& target_;
      } into(*replacement);
      stage->flush(now, into);
      stage = std::move(replacement);
    }
    break;
  }
  service(now);
}

void Connection::add_http_toxic(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
                                std::shared_ptr<ToxicCounters> counters, TimePoint now) {
  if (closed_) return;
  if (HttpSession* http = session()) http->add_rule(toxic_id, spec, seed, std::move(counters));
  service(now);
}

void Connection::remove_http_toxic(std::uint64_t toxic_id, TimePoint now) {
  if (closed_) return;
  if (http_) http_->remove_rule(toxic_id, now);
  service(now);
}

void Connection::update_http_toxic(std::uint64_t toxic_id, const ToxicSpec& spec, TimePoint now) {
  if (closed_) return;
  if (http_) http_->update_rule(toxic_id, spec);
  service(now);
}

void Connection::close(bool reset) {
  if (closed_) return;
  closed_ = true;
  if (reset) {
    linger no_linger{1, 0};  // RST instead of FIN
    ::setsockopt(client_.get(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
    ::setsockopt(upstream_.get(), SOL_SOCKET, SO_LINGER, &no_linger, sizeof no_linger);
  }
  // Unwatch explicitly: a forked child may still share the descriptors, keeping them in epoll.
  // Stages and buffers stay until the engine frees the connection after this turn: a stage may
  // be mid-call up the stack.
  host_.loop().unwatch(client_.get());
  host_.loop().unwatch(upstream_.get());
  return_pipe(up_);  // a pipe still holding bytes is closed, not pooled
  return_pipe(down_);
  client_.reset();
  upstream_.reset();
  host_.finished(*this);
}

}  // namespace chaosplus::proxy
