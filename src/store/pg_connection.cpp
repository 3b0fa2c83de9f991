// The PostgreSQL backend of the store, through db::Connection (libpq, loopback hosts only, every
// statement bounded in time). Values go as text; the server reads them by the columns they meet.
#include <cstdio>

#include "db/pg_client.h"
#include "store/sql_connection.h"

namespace chaosplus::store {
namespace {

using namespace std::chrono_literals;

constexpr Duration kConnectTimeout = 10s;
constexpr Duration kStatementTimeout = 30s;  // a migration on a big store may take a while

std::string as_text(const SqlValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", std::get<double>(value));
  return buf;
}

// "INSERT 0 3" -> 3, "UPDATE 2" -> 2, "SELECT 5" -> 5; 0 for anything else.
std::int64_t changed_rows(const std::string& command_status) {
  const auto space = command_status.rfind(' ');
  if (space == std::string::npos) return 0;
  try {
    return std::stoll(command_status.substr(space + 1));
  } catch (const std::exception&) {
    return 0;
  }
}

class PgConnection final : public SqlConnection {
 public:
  PgConnection(std::unique_ptr<db::Connection> connection, std::string shown)
      : connection_(std::move(connection)), shown_(std::move(shown)) {}

  Result<SqlRows> run(const std::string& sql, const std::vector<SqlValue>& params) override {
    std::vector<std::string> texts;
    texts.reserve(params.size());
    for (const auto& p : params) texts.push_back(as_text(p));
    auto outcome = connection_->query(sql, texts, kStatementTimeout);
    if (const auto* error = std::get_if<db::QueryError>(&outcome)) {
      return Error{"the results store " + describe() + ": " + error->message +
                       (error->sqlstate.empty() ? "" : " (SQLSTATE " + error->sqlstate + ")"),
                   error->failure == db::Failure::rejected ? ErrorCode::io_error : ErrorCode::unavailable};
    }
    auto& result = std::get<db::QueryResult>(outcome);
    SqlRows out;
    out.rows = std::move(result.rows);
    out.changed = changed_rows(result.command_status);
    return out;
  }

  Status begin_write() override {
    if (auto r = run("BEGIN", {}); !r) return r.failure();
    return ok_status();
  }

  std::string describe() const override { return shown_; }

 private:
  std::unique_ptr<db::Connection> connection_;
  std::string shown_;
};

}  // namespace

std::string describe_postgresql(const std::string& uri) {
  std::string rest = uri.substr(uri.find("://") == std::string::npos ? 0 : uri.find("://") + 3);
  if (const auto query = rest.find('?'); query != std::string::npos) rest.resize(query);
  std::string user;
  if (const auto at = rest.rfind('@'); at != std::string::npos) {
    user = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (const auto colon = user.find(':'); colon != std::string::npos) user.resize(colon);  // the password
  }
  return "postgresql " + (user.empty() ? "" : user + "@") + rest;
}

Result<std::unique_ptr<SqlConnection>> open_postgresql(const std::string& uri) {
  const std::string shown = describe_postgresql(uri);
  if (auto s = db::check_loopback_conninfo(uri); !s) {
    return Error{"the results store " + shown + " is refused: " + s.error(), ErrorCode::invalid_argument};
  }
  auto connection = db::Connection::open(uri, kConnectTimeout);
  if (!connection)
    return Error{"cannot open the results store " + shown + ": " + connection.error(), ErrorCode::unavailable};
  auto pg = std::make_unique<PgConnection>(std::move(connection).value(), shown);
  // Notices ("relation already exists, skipping") are not for the user's terminal.
  if (auto r = pg->run("SET client_min_messages = warning", {}); !r) return r.failure();
  return std::unique_ptr<SqlConnection>(std::move(pg));
}

}  // namespace chaosplus::store
