#include "store/derived_rows.h"

#include <chrono>

namespace chaosplus::store {
namespace {

double ms_of(const Event& e) { return std::chrono::duration<double, std::milli>(e.elapsed).count(); }

// Any field as text: ledger ids are numbers on the stream and text in the table.
std::string text_of(const Event& e, std::string_view key) {
  const FieldValue* v = e.find(key);
  if (v == nullptr) return {};
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(v)) return std::to_string(*i);
  if (const auto* b = std::get_if<bool>(v)) return *b ? "true" : "false";
  return std::to_string(std::get<double>(*v));
}

SqlStatement metric(const std::string& run_id, std::int64_t seq, const Event& e, std::string name, double value) {
  return {
      "INSERT INTO metrics (run_id, seq, elapsed_ms, name, value) VALUES ($1, $2, $3, $4, $5)"
      " ON CONFLICT (run_id, seq, name) DO NOTHING",
      {run_id, seq, ms_of(e), std::move(name), value}};
}

// The fields of a load.tick that place the second rather than measure it.
bool load_tick_position(std::string_view key) {
  return key == "second" || key == "from_ms" || key == "to_ms" || key == "at_s";
}

}  // namespace

std::vector<SqlStatement> derived_rows(const std::string& run_id, std::int64_t seq, const Event& e,
                                       const std::string& line) {
  std::vector<SqlStatement> out;
  if (e.type == "probe.result") {
    const std::string prefix = "probe." + e.text("probe") + ".";
    out.push_back(metric(run_id, seq, e, prefix + "success", e.flag("ok") ? 1.0 : 0.0));
    if (e.find("latency_ms") != nullptr)
      out.push_back(metric(run_id, seq, e, prefix + "latency_ms", e.number("latency_ms")));
  } else if (e.type == "load.tick") {
    const std::string prefix = "load." + e.text("load") + ".";
    for (const auto& [key, value] : e.fields) {
      const bool number = std::holds_alternative<double>(value) || std::holds_alternative<std::int64_t>(value);
      if (number && !load_tick_position(key)) out.push_back(metric(run_id, seq, e, prefix + key, e.number(key)));
    }
  } else if (e.type == "fault.injected") {
    out.push_back(
        {"INSERT INTO faults (run_id, seq, kind, target, summary, phase, ledger_id, injected_at, injected_ms,"
         " reverted_at, reverted_ms, revert_ok, revert_error)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', -1, -1, '') ON CONFLICT (run_id, seq) DO NOTHING",
         {run_id, seq, e.text("fault"), e.text("target"), e.text("summary"), e.text("phase"), text_of(e, "ledger_id"),
          format_wall_time(e.wall), ms_of(e)}});
  } else if (e.type == "fault.reverted") {
    // The one injection of that ledger entry not yet reverted (a ledger id is unique within a run).
    out.push_back(
        {"UPDATE faults SET reverted_at = $1, reverted_ms = $2, revert_ok = $3, revert_error = $4"
         " WHERE run_id = $5 AND ledger_id = $6 AND revert_ok = -1",
         {format_wall_time(e.wall), ms_of(e), std::int64_t{e.flag("ok") ? 1 : 0}, e.text("error"), run_id,
          text_of(e, "ledger_id")}});
  } else if (e.type == "fuzz.finding" || e.type == "security.finding") {
    out.push_back(
        {"INSERT INTO findings (run_id, seq, elapsed_ms, source, finding_id, severity, title, finding)"
         " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_id, seq) DO NOTHING",
         {run_id, seq, ms_of(e), e.type.substr(0, e.type.find('.')), e.text("id"), e.text("severity"), e.text("title"),
          line}});
  }
  return out;
}

}  // namespace chaosplus::store
