#pragma once
// One proxied TCP connection: the client socket, the upstream socket, and two links between them
// (upstream: client -> server, downstream: server -> client), each a chain of toxic stages ending
// in a small output buffer. Bytes read from either socket pass the connection's HTTP session
// first (where the HTTP toxics act) and then the link's stages. Lives on the event loop thread of
// the engine that owns it.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/units.h"
#include "net/socket.h"
#include "proxy/byte_queue.h"
#include "proxy/event_loop.h"
#include "proxy/http_session.h"
#include "proxy/pipe_pool.h"
#include "proxy/toxic_stage.h"

namespace chaosplus::proxy {

class Connection;

// What a connection needs from the engine that owns it.
class ConnectionHost {
 public:
  virtual EventLoop& loop() = 0;
  virtual std::span<char> scratch() = 0;              // the loop's shared read buffer
  virtual std::size_t max_buffered() const = 0;       // per link: stop reading above this
  virtual void finished(Connection& connection) = 0;  // closed itself; free it after this turn
  virtual void defer(Connection& connection) = 0;     // more to read; service it next turn
  virtual HttpCounters& http_counters() = 0;          // what the HTTP toxics did, engine-wide
  virtual PipePool* pipes() = 0;                      // null: never splice

 protected:
  ~ConnectionHost() = default;
};

class Connection {
 public:
  Connection(ConnectionHost& host, std::uint64_t id, std::uint64_t proxy_id, net::Fd client, net::Fd upstream,
             TimePoint connect_deadline);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::uint64_t id() const { return id_; }
  std::uint64_t proxy_id() const { return proxy_id_; }
  bool closed() const { return closed_; }

  Status start();  // registers both sockets with the loop

  // A stage for a toxic the proxy had when this connection arrived (before start()).
  void attach_stage(Stream stream, std::unique_ptr<ToxicStage> stage) {
    link(stream).stages.push_back(std::move(stage));
  }
  // Toxic changes on a live connection; none loses or reorders a byte.
  void add_stage(Stream stream, std::unique_ptr<ToxicStage> stage, TimePoint now);
  void remove_stage(Stream stream, std::uint64_t toxic_id, TimePoint now);
  void update_stage(Stream stream, std::uint64_t toxic_id, const ToxicSpec& spec, TimePoint now);

  // HTTP toxics act in the connection's HTTP session, on requests and their responses, rather
  // than as a stage of one link. `seed` feeds the toxic's per-request draws on this connection.
  // What the toxic does is counted in `counters`.
  void attach_http_toxic(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
                         std::shared_ptr<ToxicCounters> counters) {
    if (HttpSession* http = session()) http->add_rule(toxic_id, spec, seed, std::move(counters));
  }
  void add_http_toxic(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
                      std::shared_ptr<ToxicCounters> counters, TimePoint now);
  void remove_http_toxic(std::uint64_t toxic_id, TimePoint now);
  void update_http_toxic(std::uint64_t toxic_id, const ToxicSpec& spec, TimePoint now);

  // Moves bytes as far as they can go now: stages, sockets, timers, closing.
  void service(TimePoint now);
  void on_timer(TimePoint when, TimePoint now);
  // Closes both sockets at once; `reset` sends RST instead of FIN.
  void close(bool reset);

 private:
  struct Link {
    int from = -1;
    int to = -1;
    std::vector<std::unique_ptr<ToxicStage>> stages;
    ByteQueue out;                        // bytes the `to` socket has not taken yet
    std::optional<Pipe> pipe;             // spliced bytes the `to` socket has not taken yet (older than `out`)
    StreamEnd out_end = StreamEnd::none;  // the end reached the socket side
    TimePoint wake = TimePoint::max();
    bool readable = false;
    bool hangup_seen = false;  // the peer's FIN (or an error) is known: read until 0
    bool writable = false;
    bool source_done = false;  // `from` said EOF
    bool shut = false;         // SHUT_WR sent on `to`
  };

  class SideWatcher final : public EventLoop::Watcher {
   public:
    SideWatcher(Connection& connection, bool client) : connection_(connection), client_(client) {}
    void on_ready(std::uint32_t events) override { connection_.on_ready(client_, events); }

   private:
    Connection& connection_;
    bool client_;
  };

  // Hands bytes to stage `index` of `link`, or to its socket past the last stage.
  class Forward;

  void on_ready(bool client_side, std::uint32_t events);
  void finish_connect();
  Link& link(Stream stream) { return stream == Stream::upstream ? up_ : down_; }
  void deliver(Link& link, std::size_t index, std::string_view bytes, TimePoint now);
  void deliver_end(Link& link, std::size_t index, StreamEnd how, TimePoint now);
  // Bytes (or the end) just read from `link`'s source: through the HTTP session to the stages.
  void ingest(Link& link, std::string_view bytes, TimePoint now);
  void ingest_end(Link& link, StreamEnd how, TimePoint now);
  // Requests the HTTP session just framed: each byte-level toxic acting on the connection saw them.
  void count_requests(std::uint64_t framed);
  void advance_http(TimePoint now);
  bool may_read(const Link& link) const;
  // The HTTP session, made on first use; null once the traffic proved not to be HTTP.
  HttpSession* session();
  void drop_spent_session();
  void pump(Link& link, TimePoint now);
  void read_source(Link& link, TimePoint now);
  // With no toxic and no HTTP session on a link, its bytes need no look: they move through a
  // pipe with splice(2), never copied into the process. splice_source() is false when no pipe
  // is free (the caller copies).
  bool may_splice(const Link& link) const;
  bool splice_source(Link& link, TimePoint now);
  void drain_pipe(Link& link);
  void return_pipe(Link& link);  // once drained (or the connection closed)
  void write_out(Link& link, std::string_view bytes);
  void flush(Link& link);
  std::size_t buffered(const Link& link) const;
  void schedule();

  ConnectionHost& host_;
  std::uint64_t id_;
  std::uint64_t proxy_id_;
  net::Fd client_;
  net::Fd upstream_;
  SideWatcher client_watcher_{*this, true};
  SideWatcher upstream_watcher_{*this, false};
  Link up_;    // client -> upstream
  Link down_;  // upstream -> client
  std::unique_ptr<HttpSession> http_;
  bool http_gone_ = false;  // the session was dropped: bytes pass straight to the stages
  TimePoint connect_deadline_;
  TimePoint timer_at_ = TimePoint::max();
  bool connecting_ = true;
  bool closed_ = false;
};

}  // namespace chaosplus::proxy
