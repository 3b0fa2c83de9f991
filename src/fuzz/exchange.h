#pragma once
// How the fuzzer and the security probes talk to a target: raw HTTP/1.1 request bytes out, a whole
// answer (or what went wrong) back. Sender is the fast path: one event loop (epoll) over many
// keep-alive connections, plain TCP or TLS (the load engine's transport, load/tls_transport.h),
// with a timeout per request; it never blocks the caller for longer than the deadline it is given.
// exchange_once() is the slow, simple path for replays and minimization: one fresh connection.
//
// Requests are bytes, not net::Request values, because the fuzzer also sends what no well-formed
// request would be (conflicting Content-Length and Transfer-Encoding, bare LF, obs-fold). A request
// marked `own_connection` goes on a connection of its own that is closed after its answer, so its
// framing cannot poison the keep-alive connections.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "load/load_options.h"
#include "net/http_message.h"
#include "net/url.h"

namespace chaosplus::fuzz {

// What became of one request.
enum class Outcome : std::uint8_t {
  response,        // a complete response (status, headers, body) was read
  timeout,         // no complete response within the timeout (a hang)
  reset,           // the connection was reset (ECONNRESET, EPIPE) before a complete response
  closed,          // the peer closed cleanly without (a complete) response
  refused,         // could not connect: ECONNREFUSED (the target is down or restarting)
  connect_failed,  // could not connect for another reason (unreachable, TLS handshake failed)
  bad_response,    // bytes came back that are not an HTTP/1.1 response
};
std::string_view outcome_name(Outcome outcome);  // "response", "timeout", ...

struct Reply {
  Outcome outcome = Outcome::response;
  net::Response response;       // status, headers and body (chunked framing removed); only for `response`
  bool body_truncated = false;  // the body was longer than the sender's max_body and was cut there
  std::int64_t latency_ns = 0;  // from the first byte written to the last byte read (or the failure)
  std::string error;            // for the outcomes other than `response`: what the system said
};

struct SenderOptions {
  net::Url base;                               // scheme, host and port of the target; only loopback hosts are accepted
  int connections = 32;                        // keep-alive connections, opened as needed
  Duration timeout = std::chrono::seconds(5);  // per request
  std::size_t max_body = 1 << 20;              // bytes of a response body kept; longer bodies are read and cut
  load::TlsSettings tls;                       // https:// only
};

class Sender {
 public:
  using Done = std::function<void(Reply&&)>;

  // Errors: a host that is not loopback, a TLS context that cannot be made.
  static Result<std::unique_ptr<Sender>> open(SenderOptions options);
  virtual ~Sender() = default;

  // Queues a request; `done` runs later, inside pump(), on the caller's thread. `head` says the
  // request is a HEAD (its response has no body whatever its headers say).
  virtual void send(std::string bytes, Done done, bool own_connection = false, bool head = false) = 0;
  // Moves bytes until the steady-clock time `deadline_ns`, or until fewer than `in_flight_below`
  // requests are queued or in flight (0: until the deadline). Returns the number still queued or in flight.
  virtual std::size_t pump(std::int64_t deadline_ns, std::size_t in_flight_below = 0) = 0;
  virtual std::size_t in_flight() const = 0;  // queued + sent, not answered yet
  // Every queued and in-flight request is answered with `closed` ("cancelled") and every connection is closed.
  virtual void cancel_all() = 0;
};

// One request on one fresh connection, blocking up to `options.timeout`.
Reply exchange_once(const SenderOptions& options, const std::string& bytes, bool head = false);

// Monotonic clock in ns, the one deadlines above are measured on.
std::int64_t steady_now_ns();

}  // namespace chaosplus::fuzz
