#include "fuzz/exchange.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "fuzz/sender_loop.h"

namespace chaosplus::fuzz {

namespace {

// The target's socket address. Names other than "localhost" never get here (open() refuses them),
// so nothing is looked up in DNS.
Status resolve(const std::string& host, int port, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof out);
  const std::string h = is_localhost_name(host) ? "127.0.0.1" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
    return ok_status();
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return ok_status();
  }
  return Error{"cannot use address '" + host + "'", ErrorCode::invalid_argument};
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::response: return "response";
    case Outcome::timeout: return "timeout";
    case Outcome::reset: return "reset";
    case Outcome::closed: return "closed";
    case Outcome::refused: return "refused";
    case Outcome::connect_failed: return "connect_failed";
    case Outcome::bad_response: return "bad_response";
  }
  return "unknown";
}

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<Sender>> Sender::open(SenderOptions options) {
  const net::Url& base = options.base;
  const std::string where = base.host.empty() ? std::string("(no URL)") : base.to_string();
  if (base.scheme != "http" && base.scheme != "https")
    return Error{"target " + where + ": expected an http:// or https:// URL", ErrorCode::invalid_argument};
  if (!allowed_hosts().allows_host(base.host))
    return Error{"target " + where + ": not on the allow-list; " + allow_hint(), ErrorCode::invalid_argument};
  if (base.port <= 0 || base.port > 65535)
    return Error{"target " + where + ": port out of range", ErrorCode::invalid_argument};
  if (options.connections < 1)
    return Error{"target " + where + ": connections must be at least 1", ErrorCode::invalid_argument};
  if (options.timeout <= Duration::zero())
    return Error{"target " + where + ": the timeout must be positive", ErrorCode::invalid_argument};
  sockaddr_storage address{};
  socklen_t address_len = 0;
  if (auto s = resolve(base.host, base.port, address, address_len); !s)
    return Error{"target " + where + ": " + s.error(), ErrorCode::invalid_argument};
  std::shared_ptr<const load::TlsContext> tls;
  if (base.scheme == "https") {
    load::TlsSettings settings = options.tls;
    if (settings.alpn.empty()) settings.alpn = {"http/1.1"};  // the one protocol the sender speaks
    auto context = load::TlsContext::create(settings, base.host);
    if (!context) return Error{"target " + where + ": " + context.error(), ErrorCode::invalid_argument};
    tls = *context;
  }
  auto sender = std::make_unique<detail::EventLoopSender>(std::move(options), address, address_len, std::move(tls));
  if (auto s = sender->init(); !s) return s.failure();
  return std::unique_ptr<Sender>(std::move(sender));
}

Reply exchange_once(const SenderOptions& options, const std::string& bytes, bool head) {
  // The fast path's code with one slot and a connection of its own: the same framing, outcomes and
  // timeouts as the fuzzer's requests, so a replay judges a finding as it was found.
  SenderOptions one = options;
  one.connections = 1;
  auto sender = Sender::open(std::move(one));
  Reply reply;
  if (!sender) {
    reply.outcome = Outcome::connect_failed;
    reply.error = sender.error();
    return reply;
  }
  bool answered = false;
  (*sender)->send(
      bytes,
      [&](Reply&& r) {
        reply = std::move(r);
        answered = true;
      },
      true, head);
  // The request's own timeout ends it; the pump's deadline is only a backstop.
  const std::int64_t backstop = steady_now_ns() + 2 * options.timeout.count() + 1'000'000'000;
  (*sender)->pump(backstop, 1);
  if (!answered) {
    (*sender)->cancel_all();
    reply.outcome = Outcome::timeout;
    reply.error = "no answer within " + format_duration(options.timeout);
  }
  return reply;
}

}  // namespace chaosplus::fuzz
