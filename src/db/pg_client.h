#pragma once
// One PostgreSQL connection through libpq, bounded in time: the SQL probe, the write workload, the
// corruption fault (a table's file) and the Patroni targets use it. libpq's header stays in
// pg_client.cpp (pimpl), so only that file pays for it.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::db {

// Why a statement did not give an answer. `unknown` matters to the write workload: the server may
// or may not have committed (the connection broke or the deadline passed after the request left).
enum class Failure {
  none,
  connect,   // no connection could be made (refused, timed out, read-only when read-write was asked)
  rejected,  // the server answered with an error before committing (SQLSTATE given): a definite failure
  unknown,   // sent, then the connection broke or the deadline passed: outcome unknown
};

struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // text form; nullopt = SQL NULL
  std::string command_status;                                 // "INSERT 0 1", "SELECT 3"
};

struct QueryError {
  Failure failure = Failure::rejected;
  std::string sqlstate;  // "40001", "25006" (read-only transaction), "" when there was no answer
  std::string message;   // for people: "connect to 127.0.0.11:5432: Connection refused"
};

template <typename T>
using QueryOutcome = std::variant<T, QueryError>;

class Connection {
 public:
  // Connects with a libpq connection string (key=value or postgresql:// URI; multi-host and
  // target_session_attrs=read-write supported). The whole connect is bounded by `timeout` (libpq's
  // connect_timeout counts per host; this counts for all of them). Only loopback hosts are allowed
  // (core/loopback.h): any other host is an error before a packet is sent.
  static Result<std::unique_ptr<Connection>> open(std::string_view conninfo, Duration timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one statement (text protocol, parameters as $1..$n text), bounded by `timeout` end to end
  // (sent with PQsendQueryParams, waited for with poll; at the deadline the query is cancelled and
  // the result is Failure::unknown). Never throws.
  QueryOutcome<QueryResult> query(std::string_view sql, const std::vector<std::string>& params, Duration timeout);

  bool broken() const;       // the connection is no longer usable: open a new one
  std::string host() const;  // the host this connection reached ("127.0.0.12"), for multi-host strings
  int port() const;

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks that every host a connection string names is loopback; the error says which is not.
Status check_loopback_conninfo(std::string_view conninfo);

}  // namespace chaosplus::db
