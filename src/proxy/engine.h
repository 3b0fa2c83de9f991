#pragma once
// The fault proxy's data plane: named proxies, each listening on a loopback address and
// forwarding every connection to an upstream through its toxics. One event-loop thread owns all
// sockets; these methods may be called from any other thread and wait for the loop to apply them.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"
#include "proxy/http_counters.h"
#include "proxy/toxic.h"
#include "proxy/toxic_counters.h"

namespace chaosplus::proxy {

struct ProxySettings {
  std::string name;
  std::string listen;    // "127.0.0.1:0" picks a free port
  std::string upstream;  // "host:port"
  bool enabled = true;
};

struct ProxyUpdate {
  std::optional<std::string> listen;
  std::optional<std::string> upstream;
  std::optional<bool> enabled;
};

// A proxy as the API shows it. `listen` is the bound address once it has been bound.
struct ProxyView {
  std::string name;
  std::string listen;
  std::string upstream;
  bool enabled = true;
  std::vector<ToxicSpec> toxics;
};

struct EngineStats {
  std::uint64_t accepted = 0;  // connections accepted since start
  std::size_t open = 0;        // connections open now
  HttpCounters http;           // what the HTTP toxics did since start
  std::uint64_t spliced = 0;   // bytes moved with splice(2), never copied into the process
};

class Engine {
 public:
  struct Options {
    std::size_t max_buffered_bytes = 1024 * 1024;        // per direction of a connection
    Duration connect_timeout = std::chrono::seconds(5);  // to the upstream
    std::uint64_t seed = 0;                              // 0: a random seed
    bool loopback_only = true;                           // refuse listen and upstream addresses off loopback
    std::size_t read_size = 256 * 1024;                  // one read on the copy path
    // Links with no toxic (and traffic that is not HTTP) move bytes with splice(2) through up to
    // this many pipes, borrowed while they hold bytes; 0 copies everything through user space.
    std::size_t splice_pipes = 32;
    std::size_t pipe_size = 1024 * 1024;  // Linux's default pipe-max-size
    // Listeners take SO_REUSEPORT, so processes with an engine each may share a port (workers).
    bool reuse_port = false;
  };

  static Result<std::unique_ptr<Engine>> start(Options options);
  ~Engine();  // closes every listener and connection
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  std::uint64_t seed() const;

  Result<ProxyView> create_proxy(const ProxySettings& settings);
  Result<ProxyView> update_proxy(const std::string& name, const ProxyUpdate& update);
  Result<Ok> delete_proxy(const std::string& name);
  Result<ProxyView> proxy(const std::string& name);
  std::vector<ProxyView> proxies();  // ordered by name

  // Toxics act on live connections too; no byte is lost or reordered when they come or go.
  Result<ToxicSpec> add_toxic(const std::string& proxy, const ToxicSpec& toxic);
  // Replaces the toxic of the same name (new toxicity/attributes apply to live connections).
  Result<ToxicSpec> update_toxic(const std::string& proxy, const ToxicSpec& toxic);
  Result<Ok> remove_toxic(const std::string& proxy, const std::string& toxic);
  Result<ToxicSpec> toxic(const std::string& proxy, const std::string& toxic);
  // What the toxic touched in this engine since it was added (see toxic_counters.h).
  Result<ToxicCounters> toxic_stats(const std::string& proxy, const std::string& toxic);

  // Enables every proxy and removes every toxic.
  Result<Ok> reset();
  EngineStats stats();

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaosplus::proxy
