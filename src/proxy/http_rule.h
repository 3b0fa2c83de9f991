#pragma once
// An HTTP toxic as a connection applies it: which requests it matches (methods, path pattern),
// its draw against toxicity for each matching request, and what it does to a request it hits.
// No clock and no sockets: decisions depend only on the request and the rule's seeded draws.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/http_framing.h"
#include "proxy/random.h"
#include "proxy/toxic.h"
#include "proxy/toxic_counters.h"

namespace chaosplus::proxy {

// Which requests a rule matches.
//   methods: "" or "*" for any, else a comma-separated list ("GET,HEAD"), matched exactly.
//   path: "" or "*" for any; with a '*' inside it is a glob whose '*' matches any run of
//         characters, '/' included ("/orders/*", "/api/*/orders"); otherwise an exact match.
// The path is the request's path without the query string, as sent (no percent-decoding).
class RequestMatch {
 public:
  RequestMatch() = default;
  RequestMatch(std::string_view methods, std::string_view path);
  bool matches(std::string_view method, std::string_view path) const;

 private:
  std::vector<std::string> methods_;  // empty: any method
  std::string path_;
  bool any_path_ = true;
  bool glob_ = false;
};

// '*' matches any run of characters (also none); every other character matches itself.
bool glob_match(std::string_view pattern, std::string_view text);

class HttpRule {
 public:
  // What the rule does on this connection is added to `counters` (none: not counted).
  HttpRule(std::uint64_t toxic_id, const ToxicSpec& spec, std::uint64_t seed,
           std::shared_ptr<ToxicCounters> counters = nullptr);

  // New settings for a live toxic; the stream of draws goes on where it was.
  void reconfigure(const ToxicSpec& spec);

  std::uint64_t toxic_id() const { return toxic_id_; }
  ToxicType type() const { return type_; }

  // Whether the rule acts on a request: it matches, and then wins a draw against toxicity. Only
  // matching requests draw, so toxicity is the share of matching requests that are hit. A matching
  // request that loses the draw is counted as skipped.
  bool hits(std::string_view method, std::string_view path);

  // The rule did its work on one request (answered it, held it, cut its response): counted, and
  // the connection with it the first time.
  void count_acted();

  // http_delay: how long a request it hits waits (delay ± jitter, never negative).
  std::chrono::microseconds draw_delay();

  // http_abort: body bytes let through before the cut, and whether the cut is a reset.
  std::uint64_t abort_after() const { return abort_after_; }
  bool abort_resets() const { return abort_resets_; }

  // http_status: the whole response sent in place of the server's, for `request`. With `close`
  // it says "Connection: close" (the proxy closes after it).
  std::string answer(const MessageHead& request, bool close) const;

 private:
  std::uint64_t toxic_id_;
  ToxicType type_;
  std::string name_;
  double toxicity_ = 1.0;
  RequestMatch match_;
  int status_ = 503;
  std::string body_;
  std::string content_type_;
  std::chrono::microseconds delay_{0};
  std::chrono::microseconds jitter_{0};
  std::uint64_t abort_after_ = 0;
  bool abort_resets_ = false;
  FastRandom random_;
  std::shared_ptr<ToxicCounters> counters_;
  bool acted_ = false;  // on this connection, once
};

// Whether the proxy must close the connection after answering `request` itself: the client asked
// for it, or the client may still be waiting for "100 Continue" before it sends a body we would
// then have to guess the fate of.
bool answer_closes(const MessageHead& request);

}  // namespace chaosplus::proxy
