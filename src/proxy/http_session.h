#pragma once
// The HTTP/1.1 view of one proxied connection, where the HTTP toxics act. It frames requests
// (client -> server) and responses (server -> client) as they pass, and keeps the exchanges in
// request order, so that an answer the proxy makes itself (http_status) goes to the client only
// after the responses to every earlier request: keep-alive and pipelining stay in step.
//
// It sits in front of each direction's chain of byte toxics: requests leave it towards the
// upstream stages, responses and answers towards the downstream stages. Like a stage it never
// reads a clock (`now` is passed in) and holds bytes in order, bounded by the connection's cap.
//
// What it decides, once a request head is complete (heads are held for that only while the
// connection has an HTTP toxic):
//   http_status  the request (head and body) is swallowed and answered by the proxy;
//   http_delay   the request, and every byte after it, waits delay ± jitter before going on;
//   http_abort   the response to it is cut after `bytes` bytes of its body (close or reset).
// Traffic that stops being HTTP/1.x (not parsable, an upgrade, CONNECT) passes through untouched
// from that point on, both ways; the counter `unframed` tells how often that met an HTTP toxic.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/byte_queue.h"
#include "proxy/http_counters.h"
#include "proxy/http_framing.h"
#include "proxy/http_rule.h"
#include "proxy/toxic_stage.h"

namespace chaosplus::proxy {

class HttpSession {
 public:
  // Where the session hands bytes on: towards the server and towards the client.
  struct Outputs {
    StageOutput& upstream;
    StageOutput& downstream;
  };

  explicit HttpSession(HttpCounters* counters = nullptr);

  // Toxic changes; what they release is handed on by the next advance().
  void add_rule(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
                std::shared_ptr<ToxicCounters> counters = nullptr);
  void update_rule(std::uint64_t toxic_id, const ToxicSpec& spec);
  // Requests the toxic delays are let go at `now`, responses it would cut pass whole; answers it
  // already decided are still sent (their requests never reached the server).
  void remove_rule(std::uint64_t toxic_id, TimePoint now);
  bool has_rules() const { return !rules_.empty(); }

  void from_client(std::string_view bytes, TimePoint now, Outputs& out);
  void from_server(std::string_view bytes, TimePoint now, Outputs& out);
  void client_end(StreamEnd how, TimePoint now, Outputs& out);
  void server_end(StreamEnd how, TimePoint now, Outputs& out);
  // Hands on what is due at `now`: delayed requests, answers, held ends.
  Step advance(TimePoint now, Outputs& out);
  // When advance() has something to hand on next (max: only on new input).
  TimePoint next_wake() const;

  std::size_t held_client_bytes() const { return head_.size() + held_.size(); }
  std::size_t held_server_bytes() const { return server_held_.size(); }
  // Request heads framed so far (with or without HTTP toxics).
  std::uint64_t requests() const { return requests_framed_; }
  std::size_t outstanding() const { return exchanges_.size() - first_exchange_; }  // requests awaiting a response
  // Neither direction is framed any more: bytes pass straight through.
  bool opaque() const { return requests_.opaque() && responses_.opaque(); }
  // Opaque, and nothing held or owed: the session may be dropped and bytes passed around it.
  bool spent() const;

 private:
  struct Exchange {
    std::string method;
    bool answered = false;  // the proxy answers it; otherwise the server does
    std::string answer;
    bool close_after = false;
    TimePoint due{};
    std::uint64_t delay_rule = 0;  // the http_delay that set `due`
    std::uint64_t abort_rule = 0;  // an http_abort cuts the server's response
    std::uint64_t abort_after = 0;
    bool abort_resets = false;
  };
  // Request bytes that wait until `release`; later bytes join the last segment.
  struct Segment {
    std::size_t size = 0;
    TimePoint release{};
    std::uint64_t rule = 0;
  };

  void decide(TimePoint now, Outputs& out);
  void send_up(std::string_view bytes, TimePoint now, Outputs& out);
  void hold_from_here(TimePoint release, std::uint64_t rule);
  void release_head(TimePoint now, Outputs& out);
  void release_segments(TimePoint now, Outputs& out);
  void process_server(std::string_view bytes, TimePoint now, Outputs& out);
  // http_abort at work on one piece of a response; true once the response is cut.
  bool cut_response(const Exchange& exchange, std::string_view piece, bool head_piece,
                    const HttpFramer::Progress& progress, TimePoint now, Outputs& out);
  void cut(const Exchange& exchange, TimePoint now, Outputs& out);
  void emit_due_answers(TimePoint now, Outputs& out);
  void finish_server(TimePoint now, Outputs& out);
  void requests_unframed(TimePoint now, Outputs& out);
  void responses_unframed(TimePoint now, Outputs& out);
  void count_unframed();
  Exchange* front() { return outstanding() ? &exchanges_[first_exchange_] : nullptr; }
  void pop_exchange();

  HttpCounters* counters_;
  std::vector<HttpRule> rules_;  // in the order the toxics were added
  bool dead_ = false;            // the connection is being cut or closed: input is dropped
  bool counted_unframed_ = false;
  std::uint64_t requests_framed_ = 0;

  // Requests.
  HttpFramer requests_{HttpFramer::Role::request};
  ByteQueue head_;           // the head being read, while it is held for a decision
  bool head_held_ = false;   // the current head waits for a decision
  bool swallowing_ = false;  // the current request is answered: its body goes nowhere
  ByteQueue held_;           // delayed request bytes, in segments
  std::vector<Segment> segments_;
  std::size_t first_segment_ = 0;
  TimePoint last_release_{};
  StreamEnd client_end_ = StreamEnd::none;
  bool client_end_passed_ = false;

  // Responses.
  HttpFramer responses_{HttpFramer::Role::response};
  std::vector<Exchange> exchanges_;  // in request order; [first_exchange_, end) are outstanding
  std::size_t first_exchange_ = 0;
  ByteQueue server_held_;  // server bytes behind an answer that is not due yet
  StreamEnd server_end_ = StreamEnd::none;
  bool server_end_passed_ = false;
};

}  // namespace chaosplus::proxy
