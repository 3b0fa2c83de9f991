#pragma once
// The Sender's event loop (private to src/fuzz): one epoll set over up to `connections` slots, each
// a keep-alive connection opened when a request needs it, and a FIFO queue of requests waiting for
// a slot. Requests are bound to a slot when they leave the queue, so a connection that is still
// connecting carries its request. Answers are collected during the I/O and handed to their
// callbacks only at safe points of pump(), where a callback may send(), pump() or cancel_all().
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "fuzz/exchange.h"
#include "load/response_parser.h"
#include "load/tls_transport.h"

namespace chaosplus::fuzz::detail {

// Fills `out` from a captured response head (status line and header lines; the heads of interim
// 1xx responses before it are skipped). False when there is no status line.
bool parse_head(std::string_view head, net::Response& out);

class EventLoopSender final : public Sender {
 public:
  EventLoopSender(SenderOptions options, const sockaddr_storage& target, socklen_t target_len,
                  std::shared_ptr<const load::TlsContext> tls);
  ~EventLoopSender() override;
  EventLoopSender(const EventLoopSender&) = delete;
  EventLoopSender& operator=(const EventLoopSender&) = delete;
  Status init();

  void send(std::string bytes, Done done, bool own_connection = false, bool head = false) override;
  std::size_t pump(std::int64_t deadline_ns, std::size_t in_flight_below = 0) override;
  std::size_t in_flight() const override { return outstanding_; }
  void cancel_all() override;

 private:
  struct Request {
    std::string bytes;
    Done done;
    bool own = false;   // on a connection of its own, closed after the answer
    bool head = false;  // a HEAD: the response has no body
    // Sent again, on a new connection, after a kept-alive connection failed it before any byte of
    // an answer; what that first failure was.
    bool retried = false;
    Outcome first_outcome = Outcome::closed;
    std::string first_error;
  };
  enum class State : std::uint8_t { closed, connecting, handshaking, writing, reading, idle };
  struct Conn {
    int fd = -1;
    State state = State::closed;
    std::uint32_t index = 0;
    std::uint32_t generation = 0;  // bumped on close: tells stale epoll events from current ones
    std::uint64_t serial = 0;      // bumped per request: tells whether the request is still the same
    bool busy = false;             // has a request (connecting, handshaking, writing or reading)
    bool reused = false;           // this TCP connection already answered a request
    bool got_bytes = false;        // bytes of the current request's answer arrived
    bool truncated = false;
    std::size_t out_off = 0;
    std::int64_t start_ns = 0;  // left the queue
    std::int64_t sent_ns = 0;   // first byte written
    std::int64_t deadline_ns = 0;
    Request request;
    load::ResponseParser parser;
    load::ResponseCapture capture;
    std::unique_ptr<load::TlsStream> tls;  // https://: kept across reconnects for its session
  };
  struct Finished {
    Done done;
    Reply reply;
  };
  // A FIFO that keeps its storage: requests leave from the front, retries re-enter there.
  class Queue {
   public:
    bool empty() const { return size_ == 0; }
    std::size_t size() const { return size_; }
    Request& front() { return ring_[head_]; }
    void push_back(Request&& r);
    void push_front(Request&& r);
    Request pop_front();

   private:
    void grow();
    std::vector<Request> ring_;
    std::size_t head_ = 0, size_ = 0;
  };

  void dispatch();
  void start(Conn& c, Request&& r);
  void connect(Conn& c);
  void connected(Conn& c);
  void continue_handshake(Conn& c);
  void begin_write(Conn& c);
  void write_some(Conn& c);
  // Reads and parses what arrived; `to_the_end` reads until the socket would block, even after a
  // short read (the peer closed, or the loop was late).
  void read_ready(Conn& c, bool to_the_end);
  void on_event(Conn& c, std::uint32_t events);
  void complete(Conn& c, bool leftover);
  void finish(Conn& c, Outcome outcome, std::string error);
  void broken(Conn& c, int err);
  void retry(Conn& c, Outcome outcome, std::string error);
  void close_conn(Conn& c);
  void scan_timeouts(std::int64_t now);
  void run_finished();
  ssize_t transport_recv(Conn& c, char* buffer, std::size_t size);
  ssize_t transport_send(Conn& c, const char* data, std::size_t size);

  SenderOptions options_;
  sockaddr_storage target_{};
  socklen_t target_len_ = 0;
  std::shared_ptr<const load::TlsContext> tls_;
  std::int64_t timeout_ns_ = 0;
  int epoll_fd_ = -1;
  std::vector<Conn> conns_;
  std::vector<std::uint32_t> idle_;    // idle keep-alive slots, most recently used last
  std::vector<std::uint32_t> closed_;  // slots without a connection
  Queue queue_;
  std::vector<Finished> finished_;  // answers whose callbacks have not run yet
  std::size_t next_finished_ = 0;
  std::size_t outstanding_ = 0;  // sent and not yet handed to its callback
  std::int64_t next_timeout_ns_ = INT64_MAX;
  std::vector<char> read_buffer_;
};

}  // namespace chaosplus::fuzz::detail
