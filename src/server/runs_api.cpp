// GET /api/runs, /api/runs/{id}, /api/runs/{id}/events.
#include <nlohmann/json.hpp>

#include "server/api_util.h"
#include "server/routes.h"

namespace chaosplus::server {

net::Response list_runs(ServerState& state, const net::Request& request) {
  store::HistoryFilter filter;
  filter.experiment = request.query_param("experiment");
  filter.verdict = request.query_param("verdict");
  if (auto status = request.query_param("status"); !status.empty()) {
    filter.status = store::parse_run_status(status);
    if (!filter.status) {
      return error_json(
          400, "status '" + status.substr(0, 64) + "' is not a run status (running, finished, interrupted, recovered)");
    }
  }
  for (const char* key : {"since", "until"}) {
    auto text = request.query_param(key);
    if (text.empty()) continue;
    auto t = parse_time(text);
    if (!t) return error_json(400, std::string(key) + ": " + t.error());
    (std::string_view(key) == "since" ? filter.since : filter.until) = *t;
  }
  if (auto limit = request.query_param("limit"); !limit.empty()) {
    auto n = parse_count(limit, 1, 1000, "limit");
    if (!n) return error_json(400, n.error());
    filter.limit = static_cast<std::size_t>(*n);
  }
  auto rows = state.store->history(filter);
  if (!rows) return error_json(500, "history: " + rows.error());
  std::string body = "{\"runs\":[";
  for (std::size_t i = 0; i < rows->size(); ++i) body += (i ? "," : "") + run_json((*rows)[i], false);
  return json_reply(200, body + "]}");
}

net::Response show_run(ServerState& state, const std::string& id) {
  auto found = find_run(state, id);
  if (!found.row) return found.error;
  return json_reply(200, run_json(*found.row, true));
}

net::Response run_events(ServerState& state, const std::string& id, const net::Request& request) {
  long long after = 0, limit = 1000;
  if (auto text = request.query_param("after"); !text.empty()) {
    auto n = parse_count(text, 0, std::numeric_limits<long long>::max(), "after");
    if (!n) return error_json(400, n.error());
    after = *n;
  }
  if (auto text = request.query_param("limit"); !text.empty()) {
    auto n = parse_count(text, 1, 10000, "limit");
    if (!n) return error_json(400, n.error());
    limit = *n;
  }
  auto found = find_run(state, id);
  if (!found.row) return found.error;
  auto events = state.store->events(found.row->run_id, after, static_cast<std::size_t>(limit));
  if (!events) return error_json(500, "events of " + found.row->run_id + ": " + events.error());
  std::string body = "{\"run\":" + nlohmann::json(found.row->run_id).dump() + ",\"events\":[";
  std::int64_t last = after;
  for (std::size_t i = 0; i < events->size(); ++i) {
    body += (i ? "," : "") + event_json((*events)[i]);
    last = (*events)[i].seq;
  }
  body += "],\"next_after\":" + std::to_string(last) + ",\"status\":\"" + store::to_string(found.row->status) + "\"}";
  return json_reply(200, body);
}

}  // namespace chaosplus::server
