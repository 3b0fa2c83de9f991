#include "faults/pg_relation.h"

#include <variant>

#include "db/pg_client.h"

namespace chaosplus::faults {
namespace {

Result<db::QueryResult> ask(std::string_view dsn, std::string_view sql, const std::vector<std::string>& params,
                            Duration timeout) {
  auto connection = db::Connection::open(dsn, timeout);
  if (!connection) return Error{"cannot connect to the server of dsn: " + connection.error(), ErrorCode::unavailable};
  auto outcome = (*connection)->query(sql, params, timeout);
  if (const auto* error = std::get_if<db::QueryError>(&outcome)) {
    return Error{"the server at " + (*connection)->host() + ":" + std::to_string((*connection)->port()) +
                     " answered " + std::string(sql.substr(0, sql.find(' '))) + " with: " + error->message +
                     (error->sqlstate.empty() ? "" : " (SQLSTATE " + error->sqlstate + ")"),
                 ErrorCode::unavailable};
  }
  return std::get<db::QueryResult>(std::move(outcome));
}

}  // namespace

Result<RelationFile> relation_file(std::string_view dsn, std::string_view table, Duration timeout) {
  // regclass reads the name as SQL would (search_path, quoting), and fails for a table that is not there.
  auto answer = ask(dsn,
                    "SELECT current_setting('data_directory'), pg_relation_filepath($1::regclass), "
                    "current_setting('block_size')",
                    {std::string(table)}, timeout);
  if (!answer) return Error{"table '" + std::string(table) + "': " + answer.error(), answer.code()};
  if (answer->rows.size() != 1 || answer->rows[0].size() != 3 || !answer->rows[0][0]) {
    return Error{"table '" + std::string(table) + "': the server did not say where its data folder is"};
  }
  const auto& row = answer->rows[0];
  if (!row[1]) {
    return Error{"table '" + std::string(table) + "' has no file of its own (a view, or a partitioned table: name one "
                 "of its partitions)",
                 ErrorCode::invalid_argument};
  }
  RelationFile file;
  file.path = *row[0] + "/" + *row[1];
  if (row[2]) file.block_size = std::stoull(*row[2]);
  return file;
}

Status checkpoint(std::string_view dsn, Duration timeout) {
  auto answer = ask(dsn, "CHECKPOINT", {}, timeout);
  if (!answer) return Error{answer.failure()};
  return ok_status();
}

Status check_dsn(std::string_view dsn) { return db::check_loopback_conninfo(dsn); }

}  // namespace chaosplus::faults
