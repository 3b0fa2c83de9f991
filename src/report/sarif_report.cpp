// SARIF 2.1.0 for a run's findings: the fuzz.finding and security.finding events read back into
// findings and written by the fuzzer's own SARIF writer (fuzz/finding_output.h), so `report --sarif`
// and `fuzz --sarif` give code-scanning dashboards the same rules, levels and fingerprints.
#include <nlohmann/json.hpp>

#include "fuzz/finding_output.h"
#include "report/writers.h"

namespace chaosplus::report {
namespace {

fuzz::Finding finding_from_event(const Event& e) {
  fuzz::Finding f;
  f.engine = e.text("engine").empty() ? (e.type == "security.finding" ? "security" : "fuzz") : e.text("engine");
  f.oracle = e.text("oracle");
  f.operation = e.text("operation");
  f.signature = e.text("signature");
  if (auto severity = fuzz::parse_severity(e.text("severity"))) f.severity = *severity;
  f.title = e.text("title");
  f.evidence = e.text("evidence");
  f.wfc = e.text("wfc");
  const std::string trigger = e.text("trigger");
  const std::size_t space = trigger.find(' ');
  f.trigger = fuzz::Trigger{trigger.substr(0, space), space == std::string::npos ? "" : trigger.substr(space + 1)};
  f.curl = e.text("curl");
  f.raw_request = e.text("raw_request");
  f.base_url = e.text("base_url");
  f.phase = e.text("phase");
  const auto faults = nlohmann::json::parse(e.text("active_faults"), nullptr, false);
  if (faults.is_array())
    for (const auto& fault : faults)
      if (fault.is_string()) f.active_faults.push_back(fault.get<std::string>());
  if (e.find("without_faults") != nullptr) f.without_faults = e.flag("without_faults");
  f.count = static_cast<std::uint64_t>(e.number("count", 1));
  f.first_seen_ms = static_cast<std::int64_t>(e.number("first_seen_ms"));
  return f;
}

}  // namespace

std::string sarif_report(const RunData& run, const std::string& version) {
  std::vector<fuzz::Finding> findings;
  findings.reserve(run.findings.size());
  for (const FindingEntry& entry : run.findings) findings.push_back(finding_from_event(entry.event));
  fuzz::ToolInfo tool;
  tool.version = version;
  nlohmann::json sarif = fuzz::to_sarif(findings, tool);
  // Where the findings came from: this run, so a dashboard can link back to its journal or store row.
  auto& out_run = sarif["runs"][0];
  out_run["automationDetails"] = {{"id", run.row.experiment + "/" + run.row.run_id}};
  // The id in the journal is the one people saw; keep it when the event's text fields were cleaned
  // for the journal and hash differently.
  for (std::size_t i = 0; i < run.findings.size(); ++i) {
    auto& result = out_run["results"][i];
    result["partialFingerprints"]["chaosplusFindingId/v1"] = run.findings[i].id;
    result["properties"]["id"] = run.findings[i].id;
  }
  return sarif.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace chaosplus::report
