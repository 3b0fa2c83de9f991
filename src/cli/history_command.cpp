#include <CLI/CLI.hpp>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/store_access.h"

namespace chaosplus::cli {
namespace {

nlohmann::json run_json(const store::RunRow& r) {
  return {{"run_id", r.run_id},
          {"experiment", r.experiment},
          {"status", store::to_string(r.status)},
          {"verdict", r.verdict},
          {"exit_code", r.exit_code},
          {"started", r.started == store::WallTime{} ? "" : format_wall_time(r.started)},
          {"ended", r.ended == store::WallTime{} ? "" : format_wall_time(r.ended)},
          {"events", r.events},
          {"host", r.host},
          {"file", r.file},
          {"journal", r.journal},
          {"reasons", r.reasons}};
}

}  // namespace

void add_history_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("history",
                                 "List the runs in the results store, newest first.\n"
                                 "Exit codes: 0 listed (even none); 3 bad option or the store cannot be read.");
  struct Options {
    StoreOptions store;
    std::string experiment, verdict, status, since, until;
    std::size_t limit = 50;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("--experiment", o->experiment, "only runs of this experiment (its name)");
  cmd->add_option("--verdict", o->verdict, "only runs with this verdict (held, deviated, aborted, error, ...)");
  cmd->add_option("--status", o->status, "only runs with this status (running, finished, interrupted, recovered)");
  cmd->add_option("--since", o->since, "only runs started at or after: 2026-12-06, 2026-12-06T10:00:00Z, or 24h ago");
  cmd->add_option("--until", o->until, "only runs started before (same forms as --since)");
  cmd->add_option("--limit", o->limit, "at most this many runs (default 50; 0 for all)");
  cmd->add_flag("--json", o->json, "one JSON array of runs instead of a table");
  add_store_options(*cmd, o->store);
  cmd->callback([o, &exit_code] {
    const auto fail = [&](const std::string& message) {
      std::cerr << "history: " << message << "\n";
      exit_code = kExitInvalid;
    };
    store::HistoryFilter filter;
    filter.experiment = o->experiment;
    filter.verdict = o->verdict;
    filter.limit = o->limit;
    if (!o->status.empty()) {
      filter.status = store::parse_run_status(o->status);
      if (!filter.status)
        return fail("--status '" + o->status + "': expected running, finished, interrupted or recovered");
    }
    const auto now = std::chrono::system_clock::now();
    for (auto [text, target, name] :
         {std::tuple{&o->since, &filter.since, "--since"}, std::tuple{&o->until, &filter.until, "--until"}}) {
      if (text->empty()) continue;
      auto t = parse_time_argument(*text, now);
      if (!t) return fail(std::string(name) + ": " + t.error());
      *target = *t;
    }
    auto opened = open_store(o->store);
    if (!opened) return fail(opened.error());
    auto runs = (*opened)->history(filter);
    if (!runs) return fail(runs.error());
    if (o->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : *runs) out.push_back(run_json(r));
      std::cout << out.dump(2) << "\n";
      exit_code = 0;
      return;
    }
    if (runs->empty()) {
      const bool filtered =
          !filter.experiment.empty() || !filter.verdict.empty() || filter.status || filter.since || filter.until;
      std::cout << (filtered ? "no run matches in " : "no runs yet in ") << (*opened)->describe() << "\n";
      exit_code = 0;
      return;
    }
    std::size_t id_width = 6, experiment_width = 10;
    for (const auto& r : *runs) {
      id_width = std::max(id_width, r.run_id.size());
      experiment_width = std::max(experiment_width, r.experiment.size());
    }
    const auto row = [&](const std::string& id, const std::string& started, const std::string& experiment,
                         const std::string& status, const std::string& verdict, const std::string& duration,
                         const std::string& events) {
      std::cout << std::left << std::setw(static_cast<int>(id_width)) << id << "  " << std::setw(19) << started << "  "
                << std::setw(static_cast<int>(experiment_width)) << experiment << "  " << std::setw(11) << status
                << "  " << std::setw(12) << verdict << "  " << std::setw(8) << duration << "  " << events << "\n";
    };
    row("RUN", "STARTED (UTC)", "EXPERIMENT", "STATUS", "VERDICT", "DURATION", "EVENTS");
    for (const auto& r : *runs) {
      row(r.run_id, short_time(r.started), r.experiment, store::to_string(r.status),
          r.verdict.empty() ? "-" : r.verdict, run_duration(r), std::to_string(r.events));
    }
    exit_code = 0;
  });
}

}  // namespace chaosplus::cli
