#pragma once
// One database connection as the store sees it: statements in the SQL both SQLite and PostgreSQL
// understand, with parameters written $1, $2, ... (SQLite reads them as named parameters), values
// back as text. The two backends (sqlite_connection.cpp, pg_connection.cpp) are the only files
// that include a database client's header. Not thread-safe: the store serializes its calls.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"

namespace chaosplus::store {

using SqlValue = std::variant<std::string, std::int64_t, double>;

struct SqlRows {
  std::vector<std::vector<std::optional<std::string>>> rows;  // text form; nullopt = NULL
  std::int64_t changed = 0;                                   // rows inserted, updated or deleted
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual Result<SqlRows> run(const std::string& sql, const std::vector<SqlValue>& params = {}) = 0;
  // Starts a transaction that writes: SQLite takes its write lock at once (BEGIN IMMEDIATE), so a
  // reader turned writer never fails on a snapshot another process moved on from.
  virtual Status begin_write() = 0;
  virtual std::string describe() const = 0;  // "sqlite /path" or "postgresql user@host:port/db"
};

// `path`: the SQLite file, made with its folders (0700) when missing; WAL, synchronous=NORMAL.
Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path);
// `uri`: postgresql://... or postgres://...; loopback hosts only (refused before connecting).
Result<std::unique_ptr<SqlConnection>> open_postgresql(const std::string& uri);
// The URI without its password, for messages: "postgresql user@127.0.0.1:5432/db".
std::string describe_postgresql(const std::string& uri);

}  // namespace chaosplus::store
