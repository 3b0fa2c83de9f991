// The SQLite backend of the store: one file, WAL mode so readers (history, the server) never wait
// for a run that is writing, synchronous=NORMAL (a committed transaction survives a crash of the
// process; a power loss may lose the last ones: docs/results-store.md), and a busy timeout so two
// writers (a run and a recover) take turns instead of failing.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "store/sql_connection.h"

namespace chaosplus::store {
namespace {

// Makes the missing folders of `folder`, each 0700 (the store holds experiment files and events).
Status make_private_folders(const std::filesystem::path& folder) {
  if (folder.empty()) return ok_status();
  std::filesystem::path so_far;
  for (const auto& part : folder) {
    so_far /= part;
    if (::mkdir(so_far.c_str(), 0700) != 0 && errno != EEXIST) {
      return Error{"cannot create the folder " + so_far.string() + ": " + std::strerror(errno), ErrorCode::io_error};
    }
  }
  return ok_status();
}

class SqliteConnection final : public SqlConnection {
 public:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConnection() override { sqlite3_close(db_); }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  Result<SqlRows> run(const std::string& sql, const std::vector<SqlValue>& params) override {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &raw, nullptr) != SQLITE_OK) {
      return failure("cannot prepare '" + sql + "'");
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const std::string name = "$" + std::to_string(i + 1);
      const int index = sqlite3_bind_parameter_index(raw, name.c_str());
      if (index == 0) continue;  // a parameter the statement does not use
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              sqlite3_bind_text(raw, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
            } else if constexpr (std::is_same_v<T, std::int64_t>) {
              sqlite3_bind_int64(raw, index, v);
            } else {
              sqlite3_bind_double(raw, index, v);
            }
          },
          params[i]);
    }
    SqlRows out;
    int rc = SQLITE_ROW;
    const int columns = sqlite3_column_count(raw);
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      auto& row = out.rows.emplace_back();
      for (int c = 0; c < columns; ++c) {
        const auto* text = sqlite3_column_text(raw, c);
        if (text == nullptr) row.emplace_back(std::nullopt);
        else row.emplace_back(std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(raw, c)));
      }
    }
    if (rc != SQLITE_DONE) return failure("'" + sql.substr(0, 60) + "...'");
    out.changed = sqlite3_changes(db_);
    return out;
  }

  Status begin_write() override {
    if (auto r = run("BEGIN IMMEDIATE", {}); !r) return r.failure();
    return ok_status();
  }

  std::string describe() const override { return "sqlite " + path_; }

 private:
  Error failure(const std::string& what) const {
    return Error{"the results store " + describe() + ": " + what + ": " + sqlite3_errmsg(db_), ErrorCode::io_error};
  }

  sqlite3* db_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<SqlConnection>> open_sqlite(const std::string& path) {
  if (path.empty())
    return Error{"the results store location is empty, expected a file path", ErrorCode::invalid_argument};
  const std::filesystem::path file(path);
  if (auto s = make_private_folders(file.parent_path()); !s) {
    return Error{"the results store sqlite " + path + ": " + s.error(), ErrorCode::io_error};
  }
  const bool existed = std::filesystem::exists(file);
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Error{"cannot open the results store sqlite " + path + ": " + why, ErrorCode::io_error};
  }
  if (!existed) ::chmod(path.c_str(), 0600);
  auto connection = std::make_unique<SqliteConnection>(db, path);
  sqlite3_busy_timeout(db, 10000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (auto r = connection->run(pragma, {}); !r) return r.failure();
  }
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace chaosplus::store
