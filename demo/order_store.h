#pragma once
// Where demo-shop-api keeps its orders: in memory (the default: gone with the process, the latest
// 50,000 only), or in an SQLite database with --db PATH (kept across restarts). Every call of the
// SQLite store can fail the way storage fails (an I/O error, a full disk, a folder it may no longer
// write): the error then says "storage: <SQLite's message>" and the shop answers 503; the next call
// opens the database afresh, so the shop recovers by itself once the storage works again.
// Not thread-safe: Orders calls it under its own lock.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::demo {

struct StoredOrder {
  std::uint64_t id = 0;
  std::string sku;
  std::string user;
  long long quantity = 1;
  bool deleted = false;  // kept (for the audit trail) but gone for every reader
};

struct OrderPage {
  std::vector<StoredOrder> newest;  // the user's orders that are not deleted, newest first, at most `limit`
  long long total = 0;              // how many there are in all
};

class OrderStore {
 public:
  virtual ~OrderStore() = default;
  // A new order with the next number.
  virtual Result<StoredOrder> add(const std::string& user, const std::string& sku, long long quantity) = 0;
  // nullopt when there is no order `id` (deleted ones are there, marked).
  virtual Result<std::optional<StoredOrder>> find(std::uint64_t id) = 0;
  virtual Result<OrderPage> list(const std::string& user, std::size_t limit) = 0;
  virtual Status replace(std::uint64_t id, const std::string& sku, long long quantity) = 0;
  virtual Status mark_deleted(std::uint64_t id) = 0;
};

std::unique_ptr<OrderStore> memory_order_store();
// Opens (and creates, with its table) the database at `path`; an error when it cannot.
Result<std::unique_ptr<OrderStore>> sqlite_order_store(const std::string& path);

}  // namespace chaosplus::demo
