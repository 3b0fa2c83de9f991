// GET /api/compare?a=&b= and GET /api/runs/{id}/report?format=: the report module's comparison and
// writers over runs from the store (docs/reports.md describes what they hold).
#include "report/compare.h"
#include "report/run_data.h"
#include "report/writers.h"
#include "runner/provenance.h"
#include "server/routes.h"

namespace chaosplus::server {
namespace {

// The run and its events from the store, derived for the report writers.
struct Derived {
  std::optional<report::RunData> run;
  net::Response error;
};

Derived derive(ServerState& state, const std::string& id) {
  auto found = find_run(state, id);
  if (!found.row) return {std::nullopt, found.error};
  auto stored = state.store->events(found.row->run_id);
  if (!stored) return {std::nullopt, error_json(500, "events of " + found.row->run_id + ": " + stored.error())};
  std::vector<Event> events;
  events.reserve(stored->size());
  for (auto& e : *stored) events.push_back(std::move(e.event));
  return {report::derive_run(*found.row, events), {}};
}

}  // namespace

net::Response compare(ServerState& state, const net::Request& request) {
  const std::string a = request.query_param("a"), b = request.query_param("b");
  if (a.empty() || b.empty())
    return error_json(400, "give two runs: /api/compare?a=RUN&b=RUN (ids or unique prefixes)");
  auto run_a = derive(state, a);
  if (!run_a.run) return run_a.error;
  auto run_b = derive(state, b);
  if (!run_b.run) return run_b.error;
  return json_reply(200, report::comparison_json(report::compare_runs(*run_a.run, *run_b.run)));
}

net::Response run_report(ServerState& state, const std::string& id, const net::Request& request) {
  std::string format = request.query_param("format");
  if (format.empty()) format = "html";
  if (format != "html" && format != "markdown" && format != "junit" && format != "sarif") {
    return error_json(400, "format '" + format.substr(0, 32) + "' is not one of html, markdown, junit, sarif");
  }
  auto derived = derive(state, id);
  if (!derived.run) return derived.error;
  report::RunData& run = *derived.run;
  report::ReportContext context;
  context.version = runner::chaosplus_version();
  context.experiment_text = report::experiment_text(run.row);
  if (context.experiment_text) report::add_declared_guardrails(run, *context.experiment_text);
  if (format == "html" || format == "markdown") {
    // Compared with the previous run of the same experiment, as `chaosplus report` does.
    auto previous = state.store->previous_run(run.row);
    if (previous && *previous) {
      auto before = derive(state, (*previous)->run_id);
      if (before.run) context.previous = report::compare_runs(*before.run, run);
    } else {
      context.previous_note = "no earlier run of " + run.row.experiment + " in " + state.store->describe();
    }
  }
  net::Response response;
  response.status = 200;
  if (format == "html") {
    response.body = report::html_report(run, context);
    response.headers = {{"Content-Type", "text/html; charset=utf-8"}};
  } else if (format == "markdown") {
    response.body = report::markdown_report(run, context);
    response.headers = {{"Content-Type", "text/markdown; charset=utf-8"}};
  } else if (format == "junit") {
    response.body = report::junit_report(run);
    response.headers = {{"Content-Type", "application/xml; charset=utf-8"}};
  } else {
    response.body = report::sarif_report(run, context.version);
    response.headers = {{"Content-Type", "application/sarif+json"}};
  }
  response.headers.push_back({"Cache-Control", "no-store"});
  response.headers.push_back({"X-Content-Type-Options", "nosniff"});
  return response;
}

}  // namespace chaosplus::server
