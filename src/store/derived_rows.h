#pragma once
// What the store derives from one event as it is appended, in the same transaction: metric points
// (probe.result, load.tick), fault rows (fault.injected, completed by fault.reverted) and findings
// (fuzz.finding, security.finding). Pure: statements with their parameters, no connection.
#include <string>
#include <vector>

#include "store/sql_connection.h"
#include "store/store.h"

namespace chaosplus::store {

struct SqlStatement {
  std::string sql;
  std::vector<SqlValue> params;
};

// `line` is the event's JSON line as stored.
std::vector<SqlStatement> derived_rows(const std::string& run_id, std::int64_t seq, const Event& event,
                                       const std::string& line);

}  // namespace chaosplus::store
