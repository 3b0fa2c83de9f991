#include "report/run_data.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "runner/journal.h"
#include "runner/probe_window.h"
#include "runner/provenance.h"
#include "runner/verdict_fold.h"
#include "spec/loader.h"

namespace chaosplus::report {
namespace {

double ms(const Event& e) { return std::chrono::duration<double, std::milli>(e.elapsed).count(); }

std::string number_text(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

// What a field holds, as text, whatever its type ("0.25", "true", "p99 < 1s").
std::string field_text(const Event& e, std::string_view key) {
  const FieldValue* value = e.find(key);
  if (value == nullptr) return "";
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) return v;
        else if constexpr (std::is_same_v<V, bool>) return v ? "true" : "false";
        else if constexpr (std::is_same_v<V, double>) return number_text(v);
        else return std::to_string(v);
      },
      *value);
}

LoadSeries* load_named(std::vector<LoadSeries>& loads, const std::string& name) {
  // The newest of that name: a name used again in a later phase starts a series of its own.
  for (auto it = loads.rbegin(); it != loads.rend(); ++it)
    if (it->load == name) return &*it;
  return nullptr;
}

void add_probe_result(RunData& run, std::map<std::string, runner::ProbeWindow>& during, const Event& e) {
  const std::string name = e.text("probe");
  auto it = std::find_if(run.probes.begin(), run.probes.end(), [&](const ProbeSeries& s) { return s.probe == name; });
  if (it == run.probes.end()) it = run.probes.insert(run.probes.end(), ProbeSeries{name, {}, {}});
  ProbePoint point{ms(e),           e.text("stage"),        e.text("phase"),
                   e.flag("ok"),    e.number("latency_ms"), static_cast<std::int64_t>(e.number("status")),
                   e.text("detail")};
  if (point.stage == "during") during[name].add(runner::Sample{e.elapsed, point.ok, point.latency_ms / 1000.0});
  it->points.push_back(std::move(point));
}

void add_load_event(RunData& run, const Event& e) {
  const std::string name = e.text("load");
  if (e.type == "load.started") {
    run.loads.push_back(LoadSeries{name, e.text("phase"), e.text("url"), {}, {}});
    return;
  }
  LoadSeries* series = load_named(run.loads, name);
  if (series == nullptr) series = &run.loads.emplace_back(LoadSeries{name, "", "", {}, {}});
  if (e.type == "load.tick") {
    series->ticks.push_back(LoadTick{e.number("from_ms"), e.number("to_ms"), e.number("requests"), e.number("rps"),
                                     e.number("errors"), e.number("status_4xx_5xx"), e.number("dropped"),
                                     e.number("error_rate"), e.number("p50_ms"), e.number("p99_ms")});
  } else {  // load.summary
    LoadFigures& f = series->figures;
    f.requests = e.number("requests");
    f.rps = e.number("rps");
    f.error_rate = e.number("error_rate");
    f.p50_ms = e.number("p50_ms");
    f.p90_ms = e.number("p90_ms");
    f.p99_ms = e.number("p99_ms");
    f.max_ms = e.number("max_ms");
    f.from_summary = true;
  }
}

// A load that never wrote its summary (the run was killed): its figures from the ticks, the
// percentiles as the worst second's (an upper bound, never a flattering guess).
void figures_from_ticks(LoadSeries& load) {
  if (load.figures.from_summary || load.ticks.empty()) return;
  LoadFigures f;
  double bad = 0, span_ms = 0;
  for (const LoadTick& t : load.ticks) {
    f.requests += t.requests;
    bad += t.error_rate * (t.requests + t.errors + t.dropped);
    span_ms += t.to_ms - t.from_ms;
    f.p50_ms = std::max(f.p50_ms, t.p50_ms);
    f.p99_ms = std::max(f.p99_ms, t.p99_ms);
  }
  double attempted = 0;
  for (const LoadTick& t : load.ticks) attempted += t.requests + t.errors + t.dropped;
  f.error_rate = attempted > 0 ? bad / attempted : 0;
  f.rps = span_ms > 0 ? f.requests / (span_ms / 1000.0) : 0;
  f.p90_ms = f.p99_ms;
  f.max_ms = f.p99_ms;
  load.figures = f;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Nearest rank, as the runner's probe windows compute it.
double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(index, 1, values.size()) - 1];
}

// The median over the run's seconds of each second's p99, of a probe's results during the phases.
double typical_p99(const std::vector<ProbePoint>& points) {
  std::map<long long, std::vector<double>> seconds;
  for (const ProbePoint& p : points)
    if (p.stage == "during") seconds[static_cast<long long>(std::floor(p.at_ms / 1000.0))].push_back(p.latency_ms);
  std::vector<double> p99s;
  for (auto& [second, latencies] : seconds) p99s.push_back(percentile(std::move(latencies), 0.99));
  return median(std::move(p99s));
}

double typical_p99(const std::vector<LoadTick>& ticks) {
  std::vector<double> p99s;
  for (const LoadTick& t : ticks)
    if (t.requests > 0) p99s.push_back(t.p99_ms);
  return median(std::move(p99s));
}

FindingEntry finding_of(const Event& e) {
  return FindingEntry{e.text("id"),
                      e.text("engine"),
                      e.text("oracle"),
                      e.text("operation"),
                      e.text("severity"),
                      e.text("title"),
                      e.text("phase"),
                      static_cast<std::int64_t>(e.number("count", 1)),
                      e};
}

}  // namespace

store::RunRow row_from_events(const std::vector<Event>& events) {
  store::RunRow row;
  for (const Event& e : events) {
    if (e.type == "run.started") {
      row.run_id = e.text("run_id");
      row.experiment = e.text("experiment");
      row.file = e.text("file");
      row.file_sha256 = e.text("file_sha256");
      row.journal = e.text("journal");
      row.host = e.text("host");
      row.started = e.wall;
    } else if (e.type == "run.verdict") {
      row.verdict = e.text("verdict");
      row.exit_code = static_cast<int>(e.number("exit_code", -1));
      row.reasons = e.text("reasons");
      row.status = store::RunStatus::finished;
      row.ended = e.wall;
    }
  }
  if (row.verdict.empty()) row.status = store::RunStatus::interrupted;
  row.events = static_cast<std::int64_t>(events.size());
  return row;
}

RunData derive_run(const store::RunRow& row, const std::vector<Event>& events) {
  RunData run;
  run.row = row;
  runner::VerdictFold fold;
  std::map<std::string, runner::ProbeWindow> during;
  bool before_checked = false, after_checked = false;
  for (const Event& e : events) {
    run.duration_ms = std::max(run.duration_ms, ms(e));
    const std::string& type = e.type;
    if (type != "run.verdict") fold.add(e);
    if (type == "run.started") {
      run.version = e.text("version");
      run.command_line = e.text("command_line");
      if (e.find("checks") != nullptr) run.checks = e.flag("checks");
    } else if (type == "probe.result") {
      add_probe_result(run, during, e);
    } else if (type == "load.started" || type == "load.tick" || type == "load.summary") {
      add_load_event(run, e);
    } else if (type == "fault.injected") {
      run.faults.push_back(FaultBand{e.text("fault"),
                                     e.text("target"),
                                     e.text("summary"),
                                     e.text("phase"),
                                     ms(e),
                                     {},
                                     false,
                                     "",
                                     static_cast<std::int64_t>(e.number("ledger_id", -1))});
    } else if (type == "fault.reverted") {
      // The band it closes: the open one with its ledger entry (or, without one, its summary).
      const std::int64_t ledger = static_cast<std::int64_t>(e.number("ledger_id", -1));
      const std::string summary = e.text("summary");
      for (FaultBand& band : run.faults) {
        if (band.to_ms) continue;
        if (ledger >= 0 && band.ledger_id >= 0 ? band.ledger_id == ledger : band.summary == summary) {
          band.to_ms = ms(e);
          band.reverted_ok = e.flag("ok");
          band.error = e.text("error");
          break;
        }
      }
    } else if (type == "fault.failed") {
      run.marks.push_back(Mark{ms(e), "fault_failed", "fault failed: " + e.text("summary") + ": " + e.text("error")});
    } else if (type == "guardrail.tripped") {
      run.marks.push_back(Mark{ms(e), "guardrail", "guardrail " + e.text("guardrail") + " tripped"});
      run.checks_made.push_back(Check{"guardrail", e.text("guardrail"), e.text("metric"), false,
                                      field_text(e, "measured"), e.text("message")});
    } else if (type == "run.halted") {
      run.marks.push_back(Mark{ms(e), "halt", "halted: " + e.text("reason")});
    } else if (type == "run.error") {
      run.marks.push_back(Mark{ms(e), "error", "error: " + e.text("message")});
    } else if (type == "phase.started") {
      run.phases.push_back(PhaseSpan{e.text("phase"), ms(e), {}, false});
    } else if (type == "phase.ended") {
      for (auto it = run.phases.rbegin(); it != run.phases.rend(); ++it) {
        if (it->name == e.text("phase") && !it->to_ms) {
          it->to_ms = ms(e);
          it->halted = e.flag("halted");
          break;
        }
      }
    } else if (type == "steady_state.result") {
      const std::string stage = e.text("stage");
      (stage == "after" ? after_checked : before_checked) = true;
      std::string measured;
      if (stage == "after" && e.find("attempts") != nullptr) measured = field_text(e, "attempts") + " attempt(s)";
      run.checks_made.push_back(Check{"steady_state", stage, "", e.flag("held"), measured, e.text("message")});
      if (stage == "after" && e.find("time_to_recover_ms") != nullptr)
        run.time_to_recover_ms = e.number("time_to_recover_ms");
    } else if (type == "tolerance.result") {
      run.checks_made.push_back(Check{"tolerance", e.text("probe"), "probe." + e.text("probe") + ".success_rate",
                                      e.flag("held"), "", e.text("message")});
    } else if (type == "threshold.result") {
      run.checks_made.push_back(Check{"threshold",
                                      e.text("activity") + " " + e.text("name") + ": " + e.text("threshold"),
                                      e.text("metric"), e.flag("held"), field_text(e, "measured"), e.text("message")});
    } else if (type == "fuzz.finding" || type == "security.finding") {
      run.findings.push_back(finding_of(e));
    } else if (type == "run.verdict") {
      run.complete = true;
      if (e.find("time_to_recover_ms") != nullptr) run.time_to_recover_ms = e.number("time_to_recover_ms");
    }
  }
  // The steady state was checked before but never after: the run stopped before it could be.
  if (before_checked && !after_checked)
    run.checks_made.push_back(Check{"steady_state", "after", "", std::nullopt, "", "not checked: the run ended first"});
  for (ProbeSeries& probe : run.probes) {
    const runner::WindowStats stats = during[probe.probe].all();
    probe.during = ProbeFigures{stats.count,        stats.ok,           stats.success_rate,
                                stats.p50 * 1000.0, stats.p99 * 1000.0, typical_p99(probe.points)};
  }
  for (LoadSeries& load : run.loads) {
    figures_from_ticks(load);
    load.figures.p99_typical_ms = typical_p99(load.ticks);
  }
  run.reasons = fold.summary().decided.reasons;
  return run;
}

Result<LoadedRun> load_run(const std::string& run, store::Store* store) {
  struct stat st {};
  if (::stat(run.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    auto events = runner::read_journal(run);
    if (!events) return Error{events.error(), ErrorCode::invalid_argument};
    if (events->empty() || events->front().type != "run.started")
      return Error{run + ": not a run's journal (its first event is not run.started)", ErrorCode::invalid_argument};
    LoadedRun loaded{row_from_events(*events), std::move(events).value()};
    if (loaded.row.journal.empty()) loaded.row.journal = run;
    return loaded;
  }
  if (store == nullptr) {
    if (::stat(run.c_str(), &st) == 0) return Error{run + ": not a journal file", ErrorCode::invalid_argument};
    return Error{run + ": no such journal file (and no results store to look a run id up in)", ErrorCode::not_found};
  }
  auto found = store->find_run(run);
  if (!found) return found.failure();
  if (!*found)
    return Error{run + ": no such journal file, and no run with that id in " + store->describe(), ErrorCode::not_found};
  auto stored = store->events((*found)->run_id);
  if (!stored) return stored.failure();
  LoadedRun loaded{**found, {}};
  loaded.events.reserve(stored->size());
  for (store::StoredEvent& e : *stored) loaded.events.push_back(std::move(e.event));
  return loaded;
}

void add_declared_guardrails(RunData& run, const std::string& experiment_text) {
  const spec::LoadResult loaded = spec::load_experiment_text(experiment_text, run.row.file);
  if (!loaded.ok()) return;
  for (const spec::Guardrail& guardrail : loaded.experiment->guardrails)
    run.guardrails_declared.push_back(guardrail.name);
}

std::optional<std::string> experiment_text(const store::RunRow& row) {
  if (!row.file_text.empty()) return row.file_text;
  if (row.file.empty() || row.file_sha256.empty()) return std::nullopt;
  auto sha = runner::file_sha256(row.file);
  if (!sha || *sha != row.file_sha256) return std::nullopt;
  std::ifstream in(row.file, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace chaosplus::report
