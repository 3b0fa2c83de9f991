#include "store/store.h"

#include "store/migrations.h"
#include "store/sql_connection.h"
#include "store/sql_store.h"

namespace chaosplus::store {

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::running: return "running";
    case RunStatus::finished: return "finished";
    case RunStatus::interrupted: return "interrupted";
    case RunStatus::recovered: return "recovered";
  }
  return "running";
}

std::optional<RunStatus> parse_run_status(std::string_view text) {
  for (RunStatus s : {RunStatus::running, RunStatus::finished, RunStatus::interrupted, RunStatus::recovered}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

int schema_version() { return static_cast<int>(migrations().size()); }

std::string default_location(const std::string& state_dir) { return state_dir + "/results.db"; }

Result<std::unique_ptr<Store>> Store::open(const std::string& location) {
  Result<std::unique_ptr<SqlConnection>> connection = Error{
      "the results store location is empty, expected a file path or a postgresql:// URI", ErrorCode::invalid_argument};
  if (location.starts_with("postgresql://") || location.starts_with("postgres://")) {
    connection = open_postgresql(location);
  } else if (location.starts_with("sqlite:")) {
    connection = open_sqlite(location.substr(7));
  } else if (location.find("://") != std::string::npos) {
    return Error{"the results store location '" + location.substr(0, location.find("://") + 3) +
                     "...' has a scheme chaosplus does not know, expected postgresql://, sqlite:PATH or a file path",
                 ErrorCode::invalid_argument};
  } else if (!location.empty()) {
    connection = open_sqlite(location);
  }
  if (!connection) return connection.failure();
  return open_sql_store(std::move(connection).value());
}

}  // namespace chaosplus::store
