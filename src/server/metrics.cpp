// GET /metrics: the server's own counters, the runs in the store by status, and for each running
// run its active faults (from the ledger) and latest probe and load figures (from its events).
#include <set>

#include "core/prometheus_text.h"
#include "faults/undo.h"
#include "server/routes.h"

namespace chaosplus::server {
namespace {

using Type = PrometheusText::Type;

// Folds the events stored since the last scrape into each running run's figures; forgets runs
// that are no longer running. Returns the running runs' ids.
std::vector<std::string> update_figures(ServerState& state) {
  store::HistoryFilter filter;
  filter.status = store::RunStatus::running;
  filter.limit = 200;
  auto running = state.store->history(filter);
  std::vector<std::string> ids;
  if (!running) return ids;
  std::lock_guard figures_lock(state.figures_mutex);
  std::set<std::string> live;
  for (const auto& run : *running) {
    ids.push_back(run.run_id);
    live.insert(run.run_id);
    auto& figures = state.figures[run.run_id];
    auto events = state.store->events(run.run_id, figures.seq);
    if (!events) continue;
    for (const auto& stored : *events) {
      const Event& e = stored.event;
      figures.seq = stored.seq;
      if (e.type == "probe.result") {
        auto& p = figures.probes[e.text("probe")];
        p.ok = e.flag("ok");
        p.latency_ms = e.number("latency_ms");
      } else if (e.type == "load.tick") {
        auto& l = figures.loads[e.text("load")];
        l.rps = e.number("rps");
        l.p99_ms = e.number("p99_ms");
        l.errors = e.number("errors");
        l.error_rate = e.number("error_rate");
      }
    }
  }
  std::erase_if(state.figures, [&](const auto& entry) { return !live.contains(entry.first); });
  return ids;
}

}  // namespace

net::Response handle_metrics(ServerState& state) {
  PrometheusText out;
  {
    std::lock_guard lock(state.requests_mutex);
    out.family("chaosplus_server_requests_total", Type::counter, "HTTP requests answered, by route and status code");
    for (const auto& [key, count] : state.requests) {
      out.sample({{"route", key.first}, {"code", std::to_string(key.second)}}, static_cast<double>(count));
    }
  }
  out.family("chaosplus_server_event_streams", Type::gauge, "Server-Sent Events streams open now");
  out.sample(state.streams.load());
  out.family("chaosplus_server_started_runs", Type::gauge, "runs this server started that are still running");
  out.sample(state.launcher->running());

  out.family("chaosplus_runs", Type::gauge, "runs in the results store, by status");
  for (auto status : {store::RunStatus::running, store::RunStatus::finished, store::RunStatus::interrupted,
                      store::RunStatus::recovered}) {
    store::HistoryFilter filter;
    filter.status = status;
    filter.limit = 1'000'000;
    auto rows = state.store->history(filter);
    if (rows) out.sample({{"status", store::to_string(status)}}, static_cast<double>(rows->size()));
  }

  // Active faults: what the ledger says is on the system now, whoever started the run.
  out.family("chaosplus_active_faults", Type::gauge, "faults on the system now (open ledger entries), by run and kind");
  if (auto runs = state.ledger->runs_with_status("running")) {
    for (const auto& run : *runs) {
      auto entries = state.ledger->open_entries(run.run_id);
      if (!entries) continue;
      std::map<std::string, int> by_kind;
      for (const auto& e : *entries) {
        if (faults::undo_stage(e.kind) == faults::UndoStage::fault) ++by_kind[e.kind];
      }
      for (const auto& [kind, n] : by_kind) out.sample({{"run", run.run_id}, {"kind", kind}}, n);
    }
  }

  update_figures(state);
  std::lock_guard lock(state.figures_mutex);
  out.family("chaosplus_probe_success", Type::gauge, "latest result of each probe of a running run (1 ok, 0 failed)");
  for (const auto& [run, f] : state.figures) {
    for (const auto& [probe, p] : f.probes) out.sample({{"run", run}, {"probe", probe}}, p.ok ? 1 : 0);
  }
  out.family("chaosplus_probe_latency_seconds", Type::gauge,
             "latency of the latest result of each probe of a running run");
  for (const auto& [run, f] : state.figures) {
    for (const auto& [probe, p] : f.probes) out.sample({{"run", run}, {"probe", probe}}, p.latency_ms / 1000);
  }
  struct LoadFigure {
    const char* name;
    const char* help;
    double (*value)(const ServerState::RunFigures::Load&);
  };
  const LoadFigure loads[] = {
      {"chaosplus_load_requests_per_second", "responses in the latest second of each load of a running run",
       [](const auto& l) { return l.rps; }},
      {"chaosplus_load_latency_p99_seconds", "p99 latency in the latest second of each load of a running run",
       [](const auto& l) { return l.p99_ms / 1000; }},
      {"chaosplus_load_errors", "transport errors in the latest second of each load of a running run",
       [](const auto& l) { return l.errors; }},
      {"chaosplus_load_error_ratio", "error rate in the latest second of each load of a running run (0 to 1)",
       [](const auto& l) { return l.error_rate; }},
  };
  for (const auto& figure : loads) {
    out.family(figure.name, Type::gauge, figure.help);
    for (const auto& [run, f] : state.figures) {
      for (const auto& [load, l] : f.loads) out.sample({{"run", run}, {"load", load}}, figure.value(l));
    }
  }
  net::Response response = net::Response::text(200, out.text());
  response.set_header("Content-Type", kPrometheusContentType);
  return response;
}

}  // namespace chaosplus::server
