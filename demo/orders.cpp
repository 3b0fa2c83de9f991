#include "orders.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "service.h"
#include "shop_http.h"

namespace chaosplus::demo {

namespace {

constexpr std::size_t kMaxSkuLength = 64;
constexpr long long kMaxQuantity = 100;
constexpr std::size_t kMaxListed = 100;

bool is_catalog_sku(const std::string& sku) {
  if (sku.empty() || sku.size() > 32) return false;
  for (char c : sku) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

// A JSON integer (2.0 is a number, not an integer, as the document's JSON Schema says).
std::optional<long long> whole_number(const nlohmann::json& value) {
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    return n > 1'000'000 ? std::optional<long long>(1'000'000) : static_cast<long long>(n);  // far above any limit
  }
  if (value.is_number_integer()) return value.get<long long>();
  return std::nullopt;
}

// A JSON object body as the document allows it: no key twice (which one would count?), and only
// `allowed` keys (additionalProperties: false: a "role" or "isAdmin" sent along is refused, not ignored).
std::optional<nlohmann::json> strict_object(const std::string& text, std::initializer_list<std::string_view> allowed) {
  std::vector<std::set<std::string>> seen;  // keys of each object being parsed, innermost last
  bool duplicate = false;
  auto check = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::object_start) seen.emplace_back();
    if (event == nlohmann::json::parse_event_t::object_end && !seen.empty()) seen.pop_back();
    if (event == nlohmann::json::parse_event_t::key && !seen.empty() &&
        !seen.back().insert(parsed.get<std::string>()).second) {
      duplicate = true;
    }
    return true;
  };
  auto body = nlohmann::json::parse(text, check, false);
  if (duplicate || body.is_discarded() || !body.is_object()) return std::nullopt;
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) return std::nullopt;
  }
  return body;
}

// A body sent without a Content-Type is read as JSON (the quickstart's and the load tests' clients
// send none); one that names another type is refused.
bool is_json(const net::Request& request) {
  if (!request.has_header("Content-Type")) return true;
  std::string type(request.header("Content-Type"));
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return net::iequals(type, "application/json");
}

net::Response unsupported_media_type() { return json_error(415, "Content-Type must be application/json"); }

// The store failed ("storage: <SQLite's message>"): the client may try again, the next call opens
// the database afresh.
net::Response storage_unavailable(const Error& error) {
  net::Response r = json_error(503, error.message);
  r.headers.push_back({"Retry-After", "1"});
  return r;
}

}  // namespace

nlohmann::json Orders::to_json(const Order& order) {
  return {{"order", order.id}, {"sku", order.sku}, {"user", order.user}, {"quantity", order.quantity}};
}

Result<Orders::Item> Orders::read_item(const net::Request& request, bool sku_free_form, bool quantity_required) const {
  const std::string what =
      sku_free_form ? R"(body must be a JSON object with a non-empty "sku" string (at most 64 characters) and )"
                      R"(an optional integer "quantity" from 1 to 100)"
                    : R"(body must be a JSON object with "sku" (1-32 of a-z, 0-9, -) and an integer )"
                      R"("quantity" from 1 to 100)";
  auto parsed = strict_object(request.body, {"sku", "quantity"});
  if (!parsed) return Error{what + "; no other keys, none twice"};
  nlohmann::json& body = *parsed;
  if (!body.contains("sku") || !body["sku"].is_string()) return Error{what};
  Item item;
  item.sku = body["sku"].get<std::string>();
  if (sku_free_form ? (item.sku.empty() || item.sku.size() > kMaxSkuLength) : !is_catalog_sku(item.sku)) {
    return Error{what};
  }
  if (body.contains("quantity")) {
    auto quantity = whole_number(body["quantity"]);
    if (!quantity || *quantity > kMaxQuantity) return Error{what};
    if (*quantity < 1) {
      if (!bugs_.trigger(Bug::accept_invalid)) return Error{what};
    }
    item.quantity = *quantity;
  } else if (quantity_required) {
    return Error{what};
  }
  return item;
}

net::Response Orders::store(const std::string& user, const Item& item, const std::string& location_prefix) {
  Result<Order> order = Error{};
  {
    std::lock_guard lock(mutex_);
    order = store_->add(user, item.sku, item.quantity);
  }
  if (!order) return storage_unavailable(order.failure());
  net::Response created = json_response(201, to_json(*order));
  created.headers.push_back({"Location", location_prefix + std::to_string(order->id)});
  return created;
}

net::Response Orders::checkout(const net::Request& request) {
  // Authenticate first, so callers without a valid token learn nothing about the body rules.
  Caller caller = auth_.authenticate(request);
  if (!caller.user) return caller.refusal;
  if (!is_json(request)) return unsupported_media_type();
  auto item = read_item(request, true, false);
  if (!item) return json_error(400, item.error());
  return store(*caller.user, *item, "/orders/");
}

net::Response Orders::receipt(const std::string& id) {
  auto number = parse_integer(id);
  if (number && *number > 0) {
    std::lock_guard lock(mutex_);
    auto order = store_->find(static_cast<std::uint64_t>(*number));
    if (!order) return storage_unavailable(order.failure());
    if (*order && (!(*order)->deleted || bugs_.trigger(Bug::use_after_delete))) {
      return json_response(200, to_json(**order));
    }
  }
  return json_error(404, "no such order");
}

net::Response Orders::me(const net::Request& request) {
  Caller caller = auth_.authenticate(request);
  if (!caller.user) return caller.refusal;
  Result<OrderPage> page = Error{};
  {
    std::lock_guard lock(mutex_);
    page = store_->list(*caller.user, 0);
  }
  if (!page) return storage_unavailable(page.failure());
  return json_response(200, {{"user", *caller.user}, {"orders", page->total}});
}

net::Response Orders::list_mine(const net::Request& request) {
  Caller caller = auth_.authenticate(request);
  if (!caller.user) return caller.refusal;
  Result<OrderPage> page = Error{};
  {
    std::lock_guard lock(mutex_);
    page = store_->list(*caller.user, kMaxListed);  // newest first
  }
  if (!page) return storage_unavailable(page.failure());
  nlohmann::json items = nlohmann::json::array();
  for (const Order& order : page->newest) items.push_back(to_json(order));
  return json_response(200, {{"items", std::move(items)}, {"total", page->total}});
}

net::Response Orders::create(const net::Request& request) {
  Caller caller = auth_.authenticate(request);
  if (!caller.user) return caller.refusal;
  if (!is_json(request)) return unsupported_media_type();
  auto item = read_item(request, false, true);
  if (!item) return json_error(400, item.error());
  return store(*caller.user, *item, "/users/me/orders/");
}

Result<std::optional<Orders::Order>> Orders::find_for(const std::string& user, const std::string& id, bool reading) {
  auto number = parse_integer(id);
  if (!number || *number < 1) return std::optional<Order>();
  auto found = store_->find(static_cast<std::uint64_t>(*number));
  if (!found || !*found) return found;
  const Order& order = **found;
  if (order.user != user && !bugs_.trigger(Bug::bola)) return std::optional<Order>();
  if (order.deleted && !(reading && bugs_.trigger(Bug::use_after_delete))) return std::optional<Order>();
  return found;
}

net::Response Orders::mine(const net::Request& request, const std::string& id) {
  Caller caller = auth_.authenticate(request);
  if (!caller.user) return caller.refusal;
  if (request.method == "PUT") {
    if (!is_json(request)) return unsupported_media_type();
    auto item = read_item(request, false, true);
    if (!item) return json_error(400, item.error());
    std::lock_guard lock(mutex_);
    auto order = find_for(*caller.user, id, false);
    if (!order) return storage_unavailable(order.failure());
    if (!*order) return json_error(404, "no such order");
    if (auto replaced = store_->replace((*order)->id, item->sku, item->quantity); !replaced) {
      return storage_unavailable(replaced.failure());
    }
    (*order)->sku = item->sku;
    (*order)->quantity = item->quantity;
    return json_response(200, to_json(**order));
  }
  std::lock_guard lock(mutex_);
  auto order = find_for(*caller.user, id, request.method != "DELETE");
  if (!order) return storage_unavailable(order.failure());
  if (!*order) return json_error(404, "no such order");
  if (request.method == "DELETE") {
    if (auto deleted = store_->mark_deleted((*order)->id); !deleted) return storage_unavailable(deleted.failure());
    net::Response gone;
    gone.status = 204;
    return gone;
  }
  return json_response(200, to_json(**order));
}

}  // namespace chaosplus::demo
