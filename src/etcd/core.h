#pragma once
// The state a Client shares with its watches and lease keepers: the members, the one that answered
// last (tried first next time), the auth token, and the call with failover that every operation
// goes through. Internal to the etcd module.
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "etcd/client.h"
#include "etcd/transport.h"

namespace chaosplus::etcd {

struct CallOptions {
  // When the call as a whole gives up; by default after request_timeout × (members + 1).
  std::optional<std::chrono::steady_clock::time_point> deadline;
  const std::atomic<bool>* cancel = nullptr;  // set by another thread: give up now
  bool* ambiguous = nullptr;                  // set when an attempt may have reached etcd unanswered
  // Sent to /v3/kv/txn instead of the request once an attempt may have been applied unanswered: a
  // write that first checks whether it already happened, so a retry does not apply it twice.
  const nlohmann::json* retry_txn = nullptr;
};

class Core {
 public:
  explicit Core(Options options);
  const Options& options() const { return options_; }
  std::size_t members() const { return options_.endpoints.size(); }
  const std::string& endpoint(std::size_t i) const { return options_.endpoints[i]; }

  // POSTs `body` to `path` on the members in turn, starting with the last one that answered, until
  // one answers or the deadline passes; a member that cannot serve (unreachable, no leader, timed
  // out) is skipped, an error etcd gives about the request itself is returned as it is.
  Result<nlohmann::json> call(const std::string& path, const nlohmann::json& body, const CallOptions& how = {});

  // Gets a token for options().user from /v3/auth/authenticate (nothing to do without a user).
  Status authenticate(const CallOptions& how = {});
  std::string token() const;

  std::size_t preferred() const { return preferred_.load(); }
  void prefer(std::size_t member) { preferred_.store(member % members()); }

  transport::EasyPool& pool() { return pool_; }

 private:
  Options options_;
  std::atomic<std::size_t> preferred_{0};
  mutable std::mutex token_mutex_;
  std::string token_;
  transport::EasyPool pool_;
};

}  // namespace chaosplus::etcd
