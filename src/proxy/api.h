#pragma once
// The Toxiproxy-compatible HTTP control API over an Engine, as a request handler for
// net::HttpServer: same routes, JSON shapes and status codes as Toxiproxy 2.x, plus an optional
// bearer token. Bad input is answered with 4xx and {"error": "...", "status": N}; it never stops
// the proxy. Bodies nested deeper than kMaxJsonDepth are refused before they are parsed, and unknown
// fields of a proxy are refused by name. Beside Toxiproxy's routes, GET /metrics answers the
// proxy's figures in the Prometheus text format (proxy/api_metrics.h).
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "net/http_message.h"
#include "proxy/engine.h"

namespace chaosplus::proxy {

// The version /version reports.
inline constexpr const char* kProxyVersion = "0.1.0";

class ControlApi {
 public:
  // With a non-empty `token`, every request must carry "Authorization: Bearer <token>".
  explicit ControlApi(Engine& engine, std::string token = {});

  // Where the counts of other processes serving the same proxies come from (the workers): GET
  // .../toxics/{toxic}/stats answers the sum of this engine's counts and theirs.
  using PeerStats = std::function<Result<ToxicCounters>(const std::string& proxy, const std::string& toxic)>;
  void set_peer_stats(PeerStats peers) { peers_ = std::move(peers); }

  // Thread-safe; requests are applied one at a time.
  net::Response handle(const net::Request& request);

  // The API's error shape, {"error": message, "status": status}; also for the HTTP server's own
  // refusals (malformed or slow requests), so every answer of the API is JSON.
  static net::Response error(int status, const std::string& message);

  // The proxies `request` (answered with `response`) may have changed: none for reads and refused
  // requests, the one in the path or the one created, nullopt for "any" (/populate, /reset).
  static std::optional<std::vector<std::string>> touched(const net::Request& request, const net::Response& response);

 private:
  net::Response route(const net::Request& request);

  net::Response toxic_stats(const std::string& proxy, const std::string& toxic);

  Engine& engine_;
  std::string token_;
  PeerStats peers_;
  std::mutex mutex_;  // makes read-modify-write requests (toxic updates, populate) atomic
};

}  // namespace chaosplus::proxy
