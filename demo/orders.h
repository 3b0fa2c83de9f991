#pragma once
// Orders of demo-shop-api. The original checkout (POST /checkout, and GET /orders/{id}: a public
// receipt by number, as the quickstart uses them) and each user's own orders under /users/me, where
// the owner is the user the token service names: another user's order does not exist for you (404).
// The orders are kept in an OrderStore (memory, or SQLite with --db); when the store fails, the
// call answers 503 {"error": "storage: ..."} with Retry-After.
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "auth.h"
#include "bugs.h"
#include "net/http_message.h"
#include "order_store.h"

namespace chaosplus::demo {

class Orders {
 public:
  Orders(const TokenCheck& auth, const Bugs& bugs, std::unique_ptr<OrderStore> store)
      : auth_(auth), bugs_(bugs), store_(std::move(store)) {}

  net::Response checkout(const net::Request& request);   // POST /checkout
  net::Response receipt(const std::string& id);          // GET /orders/{id}
  net::Response me(const net::Request& request);         // GET /users/me
  net::Response list_mine(const net::Request& request);  // GET /users/me/orders
  net::Response create(const net::Request& request);     // POST /users/me/orders
  // GET, PUT or DELETE /users/me/orders/{id}
  net::Response mine(const net::Request& request, const std::string& id);

 private:
  using Order = StoredOrder;
  struct Item {
    std::string sku;
    long long quantity = 1;
  };

  static nlohmann::json to_json(const Order& order);
  // The body of a create or replace: {"sku", "quantity"}, or the 400 that says what is wrong.
  Result<Item> read_item(const net::Request& request, bool sku_free_form, bool quantity_required) const;
  net::Response store(const std::string& user, const Item& item, const std::string& location_prefix);
  // The caller's order `id` (nullopt when it is not theirs or does not exist), as bugs allow.
  Result<std::optional<Order>> find_for(const std::string& user, const std::string& id, bool reading);

  const TokenCheck& auth_;
  const Bugs& bugs_;
  std::mutex mutex_;  // around every call of store_
  std::unique_ptr<OrderStore> store_;
};

}  // namespace chaosplus::demo
