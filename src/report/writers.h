#pragma once
// The reports `chaosplus report RUN` writes, each a pure function of the run's data (and of what
// the caller found beside it: the experiment file, the comparison with the previous run):
//   HTML      one self-contained page that opens offline: the timeline charts (Chart.js inlined),
//             the verdict, checks, faults, load figures, findings, the comparison, the experiment file;
//   Markdown  for a pull-request comment;
//   JUnit XML each check a test case, in one suite per kind, for CI systems;
//   SARIF     2.1.0 for the run's findings (fuzz.finding, security.finding).
// docs/reports.md describes them.
#include <optional>
#include <string>

#include "core/result.h"
#include "report/compare.h"
#include "report/run_data.h"

namespace chaosplus::report {

struct ReportContext {
  std::optional<std::string> experiment_text;  // nullopt: not available (say so)
  std::optional<Comparison> previous;          // with the previous run of the same experiment (A = it)
  std::string previous_note;                   // why there is none: "no earlier run", "no results store"
  std::string version;                         // of the chaosplus writing the report
};

std::string html_report(const RunData& run, const ReportContext& context);
std::string markdown_report(const RunData& run, const ReportContext& context);
std::string junit_report(const RunData& run);
std::string sarif_report(const RunData& run, const std::string& version);

// The run's data as the HTML page embeds it (times in seconds since the run started); the
// dashboard can draw the same JSON.
std::string timeline_json(const RunData& run);

// Writes a report file atomically (a temporary file beside it, renamed over it). Refuses a path
// that is a symbolic link, or a folder; errors name the path.
Status write_report_file(const std::string& path, const std::string& content);

}  // namespace chaosplus::report
