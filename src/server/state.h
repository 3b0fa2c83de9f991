#pragma once
// What the server's route handlers share (internal to src/server): the options, the store and the
// ledger (both thread-safe themselves), the run launcher, and the counters /metrics shows.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/http_message.h"
#include "runner/ledger.h"
#include "server/run_launcher.h"
#include "server/server.h"
#include "store/store.h"

namespace chaosplus::server {

struct ServerState {
  ServerOptions options;
  std::unique_ptr<store::Store> store;     // thread-safe itself (store/sql_store.h)
  std::unique_ptr<runner::Ledger> ledger;  // thread-safe itself
  std::unique_ptr<RunLauncher> launcher;
  std::mutex halt_mutex;  // one halt at a time: two would each wait on the other's runs

  std::atomic<int> streams{0};  // event streams open now
  std::mutex requests_mutex;
  std::map<std::pair<std::string, int>, std::uint64_t> requests;  // (route, status) -> count

  // The latest figures of each running run, folded from its events as /metrics is scraped.
  struct RunFigures {
    std::int64_t seq = 0;  // events folded so far
    struct Probe {
      bool ok = false;
      double latency_ms = 0;
    };
    struct Load {
      double rps = 0, p99_ms = 0, errors = 0, error_rate = 0;
    };
    std::map<std::string, Probe> probes;
    std::map<std::string, Load> loads;
  };
  std::mutex figures_mutex;
  std::map<std::string, RunFigures> figures;  // guarded by figures_mutex
};

// {"error": message} with `status`; the message is cut at 1 KiB (it may quote the request).
net::Response error_json(int status, const std::string& message);
net::Response json_reply(int status, const std::string& body);

// Route handlers; `route` is set to the route's pattern ("/api/runs/{id}") for the metrics.
net::Response handle_api(ServerState& state, const net::Request& request, std::string& route);
net::Response handle_metrics(ServerState& state);
net::Response handle_dashboard(const net::Request& request, std::string& route);

}  // namespace chaosplus::server
