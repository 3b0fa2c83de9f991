#pragma once
// `chaosplus server`: the REST API over the results store and the ledger (experiments, runs and
// their events, starting, halting and recovering runs), live events over Server-Sent Events, the
// Prometheus /metrics, and the dashboard page. Reads (GET) are open; every call that changes
// anything needs the bearer token. Routes, errors and metrics: docs/server.md.
#include <memory>
#include <string>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::server {

struct ServerOptions {
  std::string host = "127.0.0.1";  // loopback unless the user asks otherwise
  int port = 7070;                 // 0: any free port
  std::string token;               // required
  std::string store;               // the results store's location (store/store.h)
  std::string state_dir;           // the ledger's folder
  std::string runs_dir = "runs";   // where started runs write their journals and output
  std::string experiments_dir = "experiments";
  std::string program;  // the chaosplus binary that runs start with ("" = /proc/self/exe)
  Duration sse_poll = std::chrono::milliseconds(150);  // how often a stream looks for new events
  Duration sse_keepalive = std::chrono::seconds(15);   // a comment line this often on a quiet stream
  Duration start_wait = std::chrono::seconds(20);      // POST /api/runs waits this long for the run's row
  int max_streams = 32;                                // event streams open at once
};

class Server {
 public:
  // Opens the store and the ledger, binds, and serves in background threads.
  static Result<std::unique_ptr<Server>> start(ServerOptions options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // "http://127.0.0.1:7070/"
  std::string url() const;
  // Stops accepting, ends the event streams, closes connections. Runs it started go on.
  void stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaosplus::server
