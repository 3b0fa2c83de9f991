#pragma once
// One run as the reports see it: its row (experiment, ids, verdict) and the series drawn and
// compared, derived from its events alone (probe results over time, load ticks, faults as bands,
// guardrail trips, halts and errors as marks, phases, checks, findings, recovery). derive_run is
// a pure function of the events; load_run finds them in a journal file or in the store.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/result.h"
#include "store/store.h"

namespace chaosplus::report {

struct ProbePoint {
  double at_ms = 0;   // elapsed since the run started
  std::string stage;  // before, during, after
  std::string phase;  // during only
  bool ok = false;
  double latency_ms = 0;
  std::int64_t status = 0;
  std::string detail;
};

// A probe's results during the phases: what compare judges and the HTML draws.
struct ProbeFigures {
  int count = 0;
  int ok = 0;
  double success_rate = 1.0;  // ok / count; 1.0 with no results
  double p50_ms = 0, p99_ms = 0;
  // The p99 of a typical second: the median, over the run's seconds, of each second's p99. One
  // stall of the machine moves a short run's p99 (its few slowest results) but not this; a tail
  // that really grew shows in every second. What compare judges tails on.
  double p99_typical_ms = 0;
};

struct ProbeSeries {
  std::string probe;
  std::vector<ProbePoint> points;  // every result, in order
  ProbeFigures during;
};

struct LoadTick {
  double from_ms = 0, to_ms = 0;  // that second on the run's timeline
  double requests = 0, rps = 0, errors = 0, status_4xx_5xx = 0, dropped = 0, error_rate = 0;
  double p50_ms = 0, p99_ms = 0;
};

// load.summary's figures; from the ticks when the load did not end (the run was killed).
struct LoadFigures {
  double requests = 0, rps = 0, error_rate = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  double p99_typical_ms = 0;  // the median of the ticks' p99 (see ProbeFigures)
  bool from_summary = false;
};

struct LoadSeries {
  std::string load;
  std::string phase;
  std::string url;
  std::vector<LoadTick> ticks;
  LoadFigures figures;
};

// A fault from fault.injected to its fault.reverted (to_ms absent while it was never reverted).
struct FaultBand {
  std::string fault;  // type
  std::string target;
  std::string summary;
  std::string phase;
  double from_ms = 0;
  std::optional<double> to_ms;
  bool reverted_ok = false;
  std::string error;  // of the revert
  std::int64_t ledger_id = -1;
};

// A moment drawn as a vertical line: a guardrail trip, a halt, a runner error, a fault that could
// not be put on.
struct Mark {
  double at_ms = 0;
  std::string kind;  // guardrail, halt, error, fault_failed
  std::string label;
};

struct PhaseSpan {
  std::string name;
  double from_ms = 0;
  std::optional<double> to_ms;
  bool halted = false;
};

// Everything the run judged, one entry each: the steady state before and after, each probe
// tolerance, each threshold, each guardrail that tripped. `held` is absent when it was not judged
// (the after check of a run that stopped before it).
struct Check {
  std::string kind;  // steady_state, tolerance, threshold, guardrail
  std::string name;  // "before"/"after", the probe, "load shoppers: p99 < 1s", the guardrail
  std::string metric;
  std::optional<bool> held;
  std::string measured;
  std::string message;
};

// A fuzz.finding or security.finding, with its event kept for the SARIF writer.
struct FindingEntry {
  std::string id;
  std::string engine;
  std::string oracle;
  std::string operation;
  std::string severity;
  std::string title;
  std::string phase;
  std::int64_t count = 0;
  Event event;
};

struct RunData {
  store::RunRow row;
  std::string version;
  std::string command_line;
  bool complete = false;   // the journal has run.verdict
  double duration_ms = 0;  // elapsed of the last event
  std::vector<std::string> reasons;
  std::optional<double> time_to_recover_ms;
  std::optional<bool> checks;  // run.started's `checks`
  std::vector<ProbeSeries> probes;
  std::vector<LoadSeries> loads;
  std::vector<FaultBand> faults;
  std::vector<Mark> marks;
  std::vector<PhaseSpan> phases;
  std::vector<Check> checks_made;
  std::vector<FindingEntry> findings;
  std::vector<std::string> guardrails_declared;  // from the experiment file, when it could be read
};

// The row a journal gives (ids, experiment, file, host, times from run.started; verdict, exit code
// and reasons from run.verdict; status finished when it has one, else interrupted).
store::RunRow row_from_events(const std::vector<Event>& events);

// The run's series and checks. `row` is kept as given (the store's, or row_from_events).
RunData derive_run(const store::RunRow& row, const std::vector<Event>& events);

struct LoadedRun {
  store::RunRow row;
  std::vector<Event> events;
};

// RUN is a journal file's path, or (when `store` is given) a run id or a unique prefix of one.
// Errors say which: "runs/x.jsonl: no such file", "no run 2026... in sqlite /var/.../results.db",
// "x: not a run's journal (its first event is not run.started)".
Result<LoadedRun> load_run(const std::string& run, store::Store* store);

// The guardrails the experiment file declares, into run.guardrails_declared (a report lists the
// ones that never tripped as held). Nothing when the text does not load (a ${VAR} without its value).
void add_declared_guardrails(RunData& run, const std::string& experiment_text);

// The experiment file as it was run: the row's file_text, else the file on disk when its SHA-256 is
// still the run's; nullopt when neither (the file changed or is gone).
std::optional<std::string> experiment_text(const store::RunRow& row);

}  // namespace chaosplus::report
