#pragma once
// Data-plane worker processes for `chaosplus proxy --workers N`. One process holds only as many
// connections as its descriptor limit allows (two descriptors each), so more processes share
// each proxy's listening port (SO_REUSEPORT: the kernel spreads new connections over them). The
// API process keeps the state the API shows and serves connections as well; after every change
// it sends each worker the whole state (proxies and toxics, one JSON line over a socketpair) and
// waits until the worker applied it to its own engine, so when the API answers, a toxic acts on
// live connections in every process.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "net/socket.h"
#include "proxy/engine.h"

namespace chaosplus::proxy {

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

std::string encode_state(const std::vector<ProxyView>& state);  // one line of JSON
Result<std::vector<ProxyView>> decode_state(std::string_view text);

}  // namespace chaosplus::proxy
