#pragma once
// Data-plane worker processes for `chaosplus proxy --workers N`. One process holds only as many
// connections as its descriptor limit allows (two descriptors each), so more processes share
// each proxy's listening port (SO_REUSEPORT: the kernel spreads new connections over them). The
// API process keeps the state the API shows and serves connections as well; after every change
// it sends each worker the new state (proxies and toxics, one JSON line over a socketpair) and
// waits until the worker applied it to its own engine, so when the API answers, a toxic acts on
// live connections in every process. A change names the proxies it touched and carries just
// those, so a change costs the same with 10 proxies as with 10,000 (the whole state goes out for
// /populate and /reset, and to put workers back in step after a failed change).
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "net/socket.h"
#include "proxy/engine.h"

namespace chaosplus::proxy {

// What changed: with `only`, just the proxies named there (each as in `proxies`, or deleted when
// missing from it); without, `proxies` is the whole state (every other proxy is deleted).
struct StateChange {
  std::vector<ProxyView> proxies;
  std::optional<std::vector<std::string>> only;
};

class Workers {
 public:
  // Forks `count` workers, each running an engine with `options`. Call it before the process
  // starts any thread of its own: the children begin as copies of the caller.
  static Result<std::unique_ptr<Workers>> start(std::size_t count, const Engine::Options& options);
  ~Workers();  // closes the channels (the workers exit), waits for them, SIGKILL after 5 s
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  // Sends `state` to every worker and waits (5 s at most each) until it was applied. A worker that
  // cannot be sent the whole state is stopped; a late answer to an earlier state is skipped.
  Status publish(const std::vector<ProxyView>& state);
  Status publish(const StateChange& change);
  std::vector<pid_t> pids() const;

 private:
  struct Worker {
    pid_t pid = -1;
    net::Fd channel;
  };
  Workers() = default;
  std::vector<Worker> workers_;
  std::uint64_t sequence_ = 0;  // of the states sent
};

// Makes `engine` hold exactly the proxies and toxics of `state` (listen addresses as bound),
// changing only what differs, so live connections keep their bytes.
Status apply_state(Engine& engine, const std::vector<ProxyView>& state);

// Applies a change the same way: the named proxies only, or the whole state.
Status apply_change(Engine& engine, const StateChange& change);

std::string encode_state(const std::vector<ProxyView>& state);  // one line of JSON
Result<std::vector<ProxyView>> decode_state(std::string_view text);
std::string encode_change(const StateChange& change);  // one line of JSON
Result<StateChange> decode_change(std::string_view text);

}  // namespace chaosplus::proxy
