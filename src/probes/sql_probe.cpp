#include <chrono>
#include <string>
#include <variant>

#include "db/pg_client.h"
#include "probes/expectation.h"
#include "probes/probe.h"

namespace chaosplus::probes {
namespace {

// Tab between columns, newline between rows, NULL as empty: what `psql -At` prints, so a pattern
// tried by hand in psql works in output_regex.
std::string rows_as_text(const db::QueryResult& result) {
  std::string text;
  for (std::size_t r = 0; r < result.rows.size(); ++r) {
    if (r > 0) text += '\n';
    const auto& row = result.rows[r];
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c > 0) text += '\t';
      if (row[c]) text += *row[c];
    }
  }
  return text;
}

std::string describe(const db::QueryError& error) {
  switch (error.failure) {
    case db::Failure::rejected:
      return "query failed" + (error.sqlstate.empty() ? "" : " (SQLSTATE " + error.sqlstate + ")") + ": " +
             error.message;
    case db::Failure::unknown: return "query got no answer: " + error.message;
    case db::Failure::connect:
    case db::Failure::none: break;
  }
  return "query not sent: " + error.message;
}

}  // namespace

ProbeResult run_sql(const spec::SqlProbe& probe, const spec::Expectation& expect) {
  using Clock = std::chrono::steady_clock;
  ProbeResult outcome;
  const auto start = Clock::now();
  const auto deadline = start + probe.timeout;
  auto conn = db::Connection::open(probe.dsn, probe.timeout);
  if (!conn) {
    outcome.latency = Clock::now() - start;
    outcome.detail = conn.error();
    return outcome;
  }
  const Duration left = deadline - Clock::now();
  if (left <= Duration::zero()) {
    outcome.latency = Clock::now() - start;
    outcome.detail = "connected, but no time was left for the query within " + format_duration(probe.timeout);
    return outcome;
  }
  auto answer = (*conn)->query(probe.query, {}, left);
  outcome.latency = Clock::now() - start;
  if (const auto* error = std::get_if<db::QueryError>(&answer)) {
    outcome.detail = describe(*error);
    return outcome;
  }
  const auto& result = std::get<db::QueryResult>(answer);
  std::optional<std::string> first;
  if (!result.rows.empty() && !result.rows.front().empty()) first = result.rows.front().front();
  outcome.detail = judge_sql(expect, result.rows.size(), first, rows_as_text(result), outcome.latency);
  outcome.ok = outcome.detail.empty();
  return outcome;
}

}  // namespace chaosplus::probes
