#include "etcd/core.h"

#include <algorithm>
#include <thread>

#include "etcd/wire.h"

namespace chaosplus::etcd {
namespace {

using Clock = std::chrono::steady_clock;

// After a round in which every member failed fast (no leader yet, connection refused), the next
// round waits this long: an election takes about a second, and spinning would only add load.
constexpr auto kRoundPause = std::chrono::milliseconds(100);

std::string trimmed_endpoint(const std::string& endpoint) {
  std::string out = endpoint;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

Core::Core(Options options) : options_(std::move(options)) {
  for (auto& endpoint : options_.endpoints) endpoint = trimmed_endpoint(endpoint);
}

std::string Core::token() const {
  std::lock_guard lock(token_mutex_);
  return token_;
}

Status Core::authenticate(const CallOptions& how) {
  if (options_.user.empty()) return ok_status();
  nlohmann::json body = {{"name", options_.user}, {"password", options_.password}};
  // The authenticate call itself carries no token (call() leaves it out for this path); the old one
  // stays in place for the other threads' calls until the new one is here, rather than none at all,
  // which etcd would refuse as "user name is empty" (not a retry).
  auto answer = call("/v3/auth/authenticate", body, how);
  if (!answer) return Error{"etcd authentication as user \"" + options_.user + "\": " + answer.error(), answer.code()};
  auto token = answer->value("token", std::string{});
  if (token.empty())
    return Error{"etcd authentication as \"" + options_.user + "\": the answer has no token", ErrorCode::internal};
  std::lock_guard lock(token_mutex_);
  token_ = std::move(token);
  return ok_status();
}

Result<nlohmann::json> Core::call(const std::string& path, const nlohmann::json& body, const CallOptions& how) {
  const std::size_t n = members();
  if (n == 0) return Error{"etcd: no endpoints configured", ErrorCode::invalid_argument};
  const auto timeout = options_.request_timeout;
  const auto start_time = Clock::now();
  // One round over the members and one more attempt: after a leader is killed, the first attempts
  // on the followers may each wait out their timeout (the proposal went to the dead leader) before an
  // election ends, so the budget covers that round and the retry that follows the election.
  auto deadline = start_time + timeout * static_cast<long>(n + 1);
  if (how.deadline) deadline = std::min(deadline, *how.deadline);
  const std::string text = body.dump();
  const bool authenticating = path == "/v3/auth/authenticate";
  bool reauthenticated = false;
  std::vector<std::string> last_failure(n);
  std::size_t at = preferred();
  bool maybe_applied = false;  // an attempt reached a member and got no answer, or "timed out"
  auto note_maybe_applied = [&] {
    maybe_applied = true;
    if (how.ambiguous != nullptr) *how.ambiguous = true;
  };
  for (;;) {
    bool any_attempt = false;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t member = (at + k) % n;
      if (how.cancel != nullptr && how.cancel->load())
        return Error{"etcd " + path + ": cancelled", ErrorCode::unavailable};
      const auto remaining = std::chrono::duration_cast<Duration>(deadline - Clock::now());
      if (remaining <= Duration::zero()) break;
      any_attempt = true;
      const bool guarded = maybe_applied && how.retry_txn != nullptr;
      auto easy = pool_.take();
      auto reply = transport::post(easy.get(), endpoint(member) + (guarded ? "/v3/kv/txn" : path),
                                   guarded ? how.retry_txn->dump() : text, options_,
                                   authenticating ? std::string{} : token(), std::min(timeout, remaining), how.cancel);
      pool_.give_back(std::move(easy));
      const std::string where = endpoint(member) + path;
      if (reply.code != CURLE_OK) {
        if (reply.ambiguous) note_maybe_applied();
        // A last attempt cut short by the call's deadline says less than the failure before it.
        const bool cut_short = reply.code == CURLE_OPERATION_TIMEDOUT && remaining < timeout;
        if (!cut_short || last_failure[member].empty()) last_failure[member] = reply.error;
        continue;
      }
      auto answer = wire::classify(reply.status, reply.body);
      switch (answer.kind) {
        case wire::Answer::Kind::ok: prefer(member); return std::move(answer.body);
        case wire::Answer::Kind::error:
          prefer(member);
          return Error{"etcd " + where + ": " + answer.failure.message, answer.failure.code};
        case wire::Answer::Kind::reauthenticate:
          if (authenticating || reauthenticated || options_.user.empty())
            return Error{"etcd " + where + ": " + answer.failure.message, answer.failure.code};
          reauthenticated = true;
          if (auto renewed = authenticate(how); !renewed) return renewed.failure();
          --k;  // the same member again, with the new token
          continue;
        case wire::Answer::Kind::retry:
          // "request timed out" and "leader changed" may still apply; "no leader" and "too many
          // requests" were refused before any proposal.
          if (answer.failure.message.find("no leader") == std::string::npos &&
              answer.failure.message.find("too many requests") == std::string::npos)
            note_maybe_applied();
          last_failure[member] = answer.failure.message;
          continue;
      }
    }
    const auto now = Clock::now();
    if (!any_attempt || now >= deadline) break;
    at = (at + 1) % n;  // a member that failed fast may be the one without a leader: start elsewhere
    auto pause_until = std::min(deadline, now + kRoundPause);
    while (Clock::now() < pause_until) {
      if (how.cancel != nullptr && how.cancel->load()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::string message = "etcd " + path + ": no member answered within " +
                        format_duration(std::chrono::duration_cast<Duration>(Clock::now() - start_time));
  for (std::size_t i = 0; i < n; ++i)
    message += "; " + endpoint(i) + ": " + (last_failure[i].empty() ? "not tried" : last_failure[i]);
  return Error{message, ErrorCode::unavailable};
}

}  // namespace chaosplus::etcd
