#include "order_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <map>

namespace chaosplus::demo {

namespace {

// The memory store keeps the latest orders only, so that steady traffic cannot grow it without bound.
constexpr std::size_t kMaxOrders = 50'000;

class MemoryStore final : public OrderStore {
 public:
  Result<StoredOrder> add(const std::string& user, const std::string& sku, long long quantity) override {
    StoredOrder order{++last_, sku, user, quantity, false};
    orders_[order.id] = order;
    while (orders_.size() > kMaxOrders) orders_.erase(orders_.begin());
    return order;
  }
  Result<std::optional<StoredOrder>> find(std::uint64_t id) override {
    auto it = orders_.find(id);
    return it == orders_.end() ? std::nullopt : std::optional<StoredOrder>(it->second);
  }
  Result<OrderPage> list(const std::string& user, std::size_t limit) override {
    OrderPage page;
    for (auto it = orders_.rbegin(); it != orders_.rend(); ++it) {
      if (it->second.user != user || it->second.deleted) continue;
      ++page.total;
      if (page.newest.size() < limit) page.newest.push_back(it->second);
    }
    return page;
  }
  Status replace(std::uint64_t id, const std::string& sku, long long quantity) override {
    if (auto it = orders_.find(id); it != orders_.end()) {
      it->second.sku = sku;
      it->second.quantity = quantity;
    }
    return ok_status();
  }
  Status mark_deleted(std::uint64_t id) override {
    if (auto it = orders_.find(id); it != orders_.end()) it->second.deleted = true;
    return ok_status();
  }

 private:
  std::uint64_t last_ = 0;
  std::map<std::uint64_t, StoredOrder> orders_;
};

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Statement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

// Rollback-journal mode (DELETE), not WAL: every write creates, syncs and removes a journal file
// next to the database, so a folder that can no longer be written, a full disk or an I/O error
// shows at the very next order, and nothing stays open beside the database (WAL's -wal and -shm
// files, held open, would let a connection write on in a folder whose access was revoked).
// synchronous=FULL: an order answered 201 is on disk.
constexpr const char* kSchema =
    "PRAGMA journal_mode=DELETE;"
    "PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS orders ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"  // never reused, also after a restart
    "  owner TEXT NOT NULL,"
    "  sku TEXT NOT NULL,"
    "  quantity INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS orders_by_owner ON orders (owner, id);";

class SqliteStore final : public OrderStore {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {}

  Status open() {
    db_.reset();
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    Db db(raw);
    if (rc != SQLITE_OK) return failure(db.get(), rc);
    sqlite3_busy_timeout(db.get(), 2000);
    if (sqlite3_exec(db.get(), kSchema, nullptr, nullptr, nullptr) != SQLITE_OK) return failure(db.get(), 0);
    db_ = std::move(db);
    return ok_status();
  }

  Result<StoredOrder> add(const std::string& user, const std::string& sku, long long quantity) override {
    auto statement = prepare("INSERT INTO orders (owner, sku, quantity) VALUES (?1, ?2, ?3)");
    if (!statement) return statement.failure();
    sqlite3_bind_text(statement->get(), 1, user.c_str(), static_cast<int>(user.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(statement->get(), 2, sku.c_str(), static_cast<int>(sku.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(statement->get(), 3, quantity);
    if (auto done = step_to_end(statement->get()); !done) return done.failure();
    return StoredOrder{static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_.get())), sku, user, quantity, false};
  }

  Result<std::optional<StoredOrder>> find(std::uint64_t id) override {
    auto statement = prepare("SELECT id, sku, owner, quantity, deleted FROM orders WHERE id = ?1");
    if (!statement) return statement.failure();
    sqlite3_bind_int64(statement->get(), 1, static_cast<sqlite3_int64>(id));
    const int rc = sqlite3_step(statement->get());
    if (rc == SQLITE_ROW) return std::optional<StoredOrder>(row(statement->get()));
    if (rc == SQLITE_DONE) return std::optional<StoredOrder>();
    return failure(rc);
  }

  Result<OrderPage> list(const std::string& user, std::size_t limit) override {
    auto statement = prepare(
        "SELECT id, sku, owner, quantity, deleted, count(*) OVER () FROM orders WHERE owner = ?1 AND deleted = 0 "
        "ORDER BY id DESC");
    if (!statement) return statement.failure();
    sqlite3_bind_text(statement->get(), 1, user.c_str(), static_cast<int>(user.size()), SQLITE_TRANSIENT);
    OrderPage page;
    for (;;) {
      const int rc = sqlite3_step(statement->get());
      if (rc == SQLITE_DONE) return page;
      if (rc != SQLITE_ROW) return failure(rc);
      page.total = sqlite3_column_int64(statement->get(), 5);
      if (page.newest.size() >= limit) return page;
      page.newest.push_back(row(statement->get()));
    }
  }

  Status replace(std::uint64_t id, const std::string& sku, long long quantity) override {
    auto statement = prepare("UPDATE orders SET sku = ?2, quantity = ?3 WHERE id = ?1");
    if (!statement) return statement.failure();
    sqlite3_bind_int64(statement->get(), 1, static_cast<sqlite3_int64>(id));
    sqlite3_bind_text(statement->get(), 2, sku.c_str(), static_cast<int>(sku.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(statement->get(), 3, quantity);
    return step_to_end(statement->get());
  }

  Status mark_deleted(std::uint64_t id) override {
    auto statement = prepare("UPDATE orders SET deleted = 1 WHERE id = ?1");
    if (!statement) return statement.failure();
    sqlite3_bind_int64(statement->get(), 1, static_cast<sqlite3_int64>(id));
    return step_to_end(statement->get());
  }

 private:
  static StoredOrder row(sqlite3_stmt* statement) {
    auto text = [statement](int column) {
      const auto* bytes = sqlite3_column_text(statement, column);
      return bytes ? std::string(reinterpret_cast<const char*>(bytes),
                                 static_cast<std::size_t>(sqlite3_column_bytes(statement, column)))
                   : std::string();
    };
    return {static_cast<std::uint64_t>(sqlite3_column_int64(statement, 0)), text(1), text(2),
            sqlite3_column_int64(statement, 3), sqlite3_column_int(statement, 4) != 0};
  }

  // The message of the failed call; `rc` when the handle has none of its own (no handle at all).
  static Error failure(sqlite3* db, int rc) {
    const char* message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    return Error{"storage: " + std::string(message ? message : "unknown error"), ErrorCode::io_error};
  }

  // After a failure the connection is closed: SQLite may not recover from an I/O error on the same
  // connection, and a fresh one rolls back a journal the failed write left behind.
  Error failure(int rc) {
    Error error = failure(db_.get(), rc);
    db_.reset();
    return error;
  }

  Result<Statement> prepare(const char* sql) {
    if (!db_) {
      if (auto opened = open(); !opened) return opened.failure();
    }
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
    Statement statement(raw);
    if (rc != SQLITE_OK) return failure(rc);
    return statement;
  }

  Status step_to_end(sqlite3_stmt* statement) {
    const int rc = sqlite3_step(statement);
    if (rc != SQLITE_DONE) return failure(rc);
    return ok_status();
  }

  std::string path_;
  Db db_;
};

}  // namespace

std::unique_ptr<OrderStore> memory_order_store() { return std::make_unique<MemoryStore>(); }

Result<std::unique_ptr<OrderStore>> sqlite_order_store(const std::string& path) {
  // Its folder is made when missing, so an experiment can name a fresh one (a fault then acts on it).
  std::error_code ec;
  if (const auto folder = std::filesystem::path(path).parent_path(); !folder.empty()) {
    std::filesystem::create_directories(folder, ec);
  }
  auto store = std::make_unique<SqliteStore>(path);
  if (auto opened = store->open(); !opened) return opened.failure();
  return std::unique_ptr<OrderStore>(std::move(store));
}

}  // namespace chaosplus::demo
