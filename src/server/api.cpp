// The /api/* routes: which handler, and 404/405 for the rest.
#include <nlohmann/json.hpp>

#include "core/event_kinds.h"
#include "server/api_util.h"
#include "server/routes.h"

namespace chaosplus::server {
namespace {

net::Response wrong_method(const net::Request& request, const std::string& allowed) {
  auto r =
      error_json(405, "method " + request.method + " is not allowed on " + request.path() + " (only " + allowed + ")");
  r.set_header("Allow", allowed);
  return r;
}

}  // namespace

FoundRun find_run(ServerState& state, const std::string& id) {
  auto found = state.store->find_run(id);
  if (!found) {
    const int status = found.code() == ErrorCode::invalid_argument ? 400 : 500;
    return {std::nullopt, error_json(status, "run '" + id + "': " + found.error())};
  }
  if (!*found) return {std::nullopt, error_json(404, "no run '" + id + "' in " + state.store->describe())};
  return {std::move(*found), {}};
}

net::Response handle_api(ServerState& state, const net::Request& request, std::string& route) {
  const auto parts = net::split_path(request.path());
  const std::string& m = request.method;
  const bool get = m == "GET" || m == "HEAD", post = m == "POST";
  const auto n = parts.size();

  if (n == 2 && parts[1] == "experiments") {
    route = "/api/experiments";
    return get ? list_experiments(state) : wrong_method(request, "GET");
  }
  if (n == 2 && parts[1] == "event-types") {
    route = "/api/event-types";
    if (!get) return wrong_method(request, "GET");
    nlohmann::json types = nlohmann::json::array();
    for (const auto& kind : event_kinds()) types.push_back({{"type", kind.type}, {"meaning", kind.meaning}});
    return json_reply(200, nlohmann::json{{"types", types}}.dump());
  }
  if (n == 2 && parts[1] == "runs") {
    route = "/api/runs";
    if (get) return list_runs(state, request);
    if (post) return start_run(state, request);
    return wrong_method(request, "GET, POST");
  }
  if (n == 2 && parts[1] == "compare") {
    route = "/api/compare";
    return get ? compare(state, request) : wrong_method(request, "GET");
  }
  if (n == 2 && parts[1] == "halt") {
    route = "/api/halt";
    return post ? halt(state, {}, request) : wrong_method(request, "POST");
  }
  if (n == 2 && parts[1] == "recover") {
    route = "/api/recover";
    return post ? recover_runs(state) : wrong_method(request, "POST");
  }
  if (n >= 3 && parts[1] == "runs") {
    const std::string& id = parts[2];
    if (n == 3) {
      route = "/api/runs/{id}";
      return get ? show_run(state, id) : wrong_method(request, "GET");
    }
    if (n == 4 && parts[3] == "events") {
      route = "/api/runs/{id}/events";
      return get ? run_events(state, id, request) : wrong_method(request, "GET");
    }
    if (n == 5 && parts[3] == "events" && parts[4] == "stream") {
      route = "/api/runs/{id}/events/stream";
      return get ? stream_events(state, id, request) : wrong_method(request, "GET");
    }
    if (n == 4 && parts[3] == "report") {
      route = "/api/runs/{id}/report";
      return get ? run_report(state, id, request) : wrong_method(request, "GET");
    }
    if (n == 4 && parts[3] == "halt") {
      route = "/api/runs/{id}/halt";
      return post ? halt(state, id, request) : wrong_method(request, "POST");
    }
  }
  route = "unknown";
  return error_json(404, "no such route: " + m + " " + request.path() + " (see docs/server.md)");
}

}  // namespace chaosplus::server
