#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/store_access.h"
#include "runner/verdict_fold.h"

namespace chaosplus::cli {
namespace {

std::string time_or_empty(store::WallTime t) { return t == store::WallTime{} ? "" : format_wall_time(t); }

nlohmann::json fault_json(const store::FaultRow& f) {
  nlohmann::json j = {{"seq", f.seq},
                      {"kind", f.kind},
                      {"target", f.target},
                      {"summary", f.summary},
                      {"phase", f.phase},
                      {"injected_at", time_or_empty(f.injected_at)},
                      {"injected_ms", f.injected_ms}};
  if (f.reverted_at) {
    j["reverted_at"] = format_wall_time(*f.reverted_at);
    j["reverted_ms"] = f.reverted_ms;
    j["revert_ok"] = f.revert_ok.value_or(false);
    if (!f.revert_error.empty()) j["revert_error"] = f.revert_error;
  }
  return j;
}

void print_run(std::ostream& out, const store::RunRow& r) {
  out << "run:        " << r.run_id << "\n"
      << "experiment: " << r.experiment << " (" << r.file << ", sha256 " << r.file_sha256.substr(0, 12) << ")\n"
      << "host:       " << r.host << "\n"
      << "status:     " << store::to_string(r.status) << (r.verdict.empty() ? "" : ", verdict " + r.verdict)
      << (r.exit_code >= 0 ? ", exit code " + std::to_string(r.exit_code) : "") << "\n"
      << "started:    " << short_time(r.started) << " UTC, ended " << short_time(r.ended)
      << (r.ended == store::WallTime{} ? "" : " UTC (" + run_duration(r) + ")") << "\n"
      << "events:     " << r.events << "\n"
      << "journal:    " << r.journal << "\n";
  if (!r.reasons.empty()) out << "reasons:    " << r.reasons << "\n";
}

}  // namespace

void add_show_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "show",
      "Show one run from the results store: its record, the summary recomputed from its stored events (as "
      "`chaosplus report` does from a journal), its faults with their times, and its findings.\n"
      "Exit codes: 0 shown; 3 no such run, an ambiguous prefix, or the store cannot be read.");
  struct Options {
    StoreOptions store;
    std::string run;
    bool events = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("RUN", o->run, "the run's id, or a prefix of it that names one run")->required();
  cmd->add_flag("--events", o->events, "also every stored event, one JSON line each, with its seq");
  cmd->add_flag("--json", o->json, "one JSON object instead of text");
  add_store_options(*cmd, o->store);
  cmd->callback([o, &exit_code] {
    const auto fail = [&](const std::string& message) {
      std::cerr << "show: " << message << "\n";
      exit_code = kExitInvalid;
    };
    auto opened = open_store(o->store);
    if (!opened) return fail(opened.error());
    store::Store& st = **opened;
    auto found = st.find_run(o->run);
    if (!found) return fail(found.error());
    if (!found->has_value()) return fail("no run '" + o->run + "' in " + st.describe() + " (see chaosplus history)");
    const store::RunRow run = **found;
    auto events = st.events(run.run_id);
    if (!events) return fail(events.error());
    auto faults = st.faults(run.run_id);
    if (!faults) return fail(faults.error());
    auto findings = st.findings(run.run_id);
    if (!findings) return fail(findings.error());

    runner::VerdictFold fold;
    for (const auto& e : *events) {
      if (e.event.type != "run.verdict") fold.add(e.event);
    }
    const runner::RunSummary summary = fold.summary();
    const bool has_verdict = !events->empty() && std::any_of(events->begin(), events->end(), [](const auto& e) {
      return e.event.type == "run.verdict";
    });

    if (o->json) {
      nlohmann::json out;
      out["run"] = {{"run_id", run.run_id},
                    {"experiment", run.experiment},
                    {"file", run.file},
                    {"file_sha256", run.file_sha256},
                    {"host", run.host},
                    {"status", store::to_string(run.status)},
                    {"verdict", run.verdict},
                    {"exit_code", run.exit_code},
                    {"reasons", run.reasons},
                    {"started", time_or_empty(run.started)},
                    {"ended", time_or_empty(run.ended)},
                    {"events", run.events},
                    {"journal", run.journal}};
      out["recomputed_verdict"] = runner::to_string(summary.decided.verdict);
      out["faults"] = nlohmann::json::array();
      for (const auto& f : *faults) out["faults"].push_back(fault_json(f));
      out["findings"] = nlohmann::json::array();
      for (const auto& f : *findings) {
        out["findings"].push_back({{"seq", f.seq},
                                   {"source", f.source},
                                   {"id", f.id},
                                   {"severity", f.severity},
                                   {"title", f.title},
                                   {"elapsed_ms", f.elapsed_ms}});
      }
      if (o->events) {
        out["events"] = nlohmann::json::array();
        for (const auto& e : *events) {
          out["events"].push_back({{"seq", e.seq}, {"event", nlohmann::json::parse(e.line, nullptr, false)}});
        }
      }
      std::cout << out.dump(2) << "\n";
      exit_code = 0;
      return;
    }

    print_run(std::cout, run);
    std::cout << "\n";
    if (has_verdict) {
      runner::print_summary(std::cout, summary);
    } else {
      std::cout << "(no verdict: the run " << (run.status == store::RunStatus::running ? "is running" : "never ended")
                << "; the summary so far)\n";
      runner::print_summary(std::cout, summary);
    }
    std::cout << "\nfaults (" << faults->size() << "):\n";
    for (const auto& f : *faults) {
      std::cout << "  " << short_time(f.injected_at) << "  +"
                << format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(f.injected_ms))) << "  "
                << f.summary << (f.phase.empty() ? "" : " [" + f.phase + "]");
      if (!f.reverted_at) {
        std::cout << "  not reverted in the record\n";
      } else {
        std::cout << "  reverted at +"
                  << format_duration(std::chrono::milliseconds(static_cast<std::int64_t>(f.reverted_ms)))
                  << (f.revert_ok.value_or(false) ? "" : ", FAILED: " + f.revert_error) << "\n";
      }
    }
    std::cout << "findings (" << findings->size() << "):\n";
    for (const auto& f : *findings) {
      std::cout << "  " << f.id << "  " << f.severity << "  " << f.source << "  " << f.title << "\n";
    }
    if (o->events) {
      std::cout << "events:\n";
      for (const auto& e : *events) std::cout << e.seq << " " << e.line << "\n";
    }
    exit_code = 0;
  });
}

}  // namespace chaosplus::cli
