#include "catalog.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <stdexcept>

#include "service.h"
#include "shop_http.h"

namespace chaosplus::demo {

namespace {

constexpr std::size_t kRecent = 100;
constexpr std::size_t kMaxSearch = 64;
constexpr long long kDefaultLimit = 20;
constexpr long long kMaxLimit = 50;
// The memory-leak bug keeps a page-sized buffer per search, up to this much (bounded on purpose).
constexpr std::size_t kLeakPerSearch = 256 * 1024;
constexpr std::size_t kLeakCap = 384 * 1024 * 1024;

std::string price_text(double price) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", price);
  return buffer;
}

}  // namespace

Catalog::Catalog(const Bugs& bugs)
    : bugs_(bugs),
      products_{{1, "book-42", "Field Guide to Chaos", 12.50, 40, false},
                {2, "mug-7", "Coffee Mug", 8.00, 120, true},
                {3, "lamp-3", "Desk Lamp", 34.90, 15, false},
                {4, "pen-12", "Fountain Pen", 19.99, 60, true},
                {5, "note-5", "Notebook A5", 4.50, 300, false},
                {6, "chair-1", "Office Chair", 149.00, 4, false},
                {7, "cable-9", "USB-C Cable", 9.99, 80, false},
                {8, "plant-2", "Desk Plant", 15.00, 22, true},
                {9, "sock-4", "Wool Socks", 11.00, 75, false},
                {10, "kettle-8", "Electric Kettle", 39.00, 12, false},
                {11, "bag-6", "Laptop Bag", 59.00, 18, false},
                {12, "clock-3", "Wall Clock", 24.00, 9, false}} {
  for (const auto& p : products_) {
    rows_.push_back({{"id", p.id}, {"sku", p.sku}, {"name", p.name}, {"price", p.price}, {"stock", p.stock}});
  }
}

nlohmann::json Catalog::to_json(const Product& p) const {
  nlohmann::json out = {{"id", p.id}, {"sku", p.sku}, {"name", p.name}, {"price", p.price}, {"stock", p.stock}};
  // The sale price comes from a formatting helper that returns text; the correct code converts it back.
  if (p.on_sale && bugs_.trigger(Bug::schema_drift)) out["price"] = price_text(p.price);
  return out;
}

Result<std::vector<std::size_t>> Catalog::search(const std::string& text) const {
  if (text.empty()) return run_query("SELECT * FROM products", {}, "products", rows_);
  if (bugs_.on(Bug::sql_injection)) {
    // The text pasted into the statement: a quote in it ends the literal and changes the query.
    if (text.find('\'') != std::string::npos) report_hit(Bug::sql_injection);
    return run_query("SELECT * FROM products WHERE name LIKE '%" + text + "%'", {}, "products", rows_);
  }
  return run_query("SELECT * FROM products WHERE name LIKE ?", {Value{"%" + text + "%"}}, "products", rows_);
}

net::Response Catalog::list(const net::Request& request) {
  const std::string text = request.query_param("search");
  if (text.size() > kMaxSearch) {
    return json_error(400, "search must be at most " + std::to_string(kMaxSearch) + " characters");
  }
  long long limit = kDefaultLimit;
  if (has_query_param(request, "limit")) {  // "limit=" is not an integer either
    const std::string given = request.query_param("limit");
    auto parsed = parse_integer(given);
    const long long lowest = bugs_.on(Bug::boundary_500) ? 0 : 1;  // the bug: an off-by-one check
    if (!parsed || *parsed < lowest || *parsed > kMaxLimit) {
      return json_error(400, "limit must be an integer from 1 to " + std::to_string(kMaxLimit));
    }
    limit = *parsed;
  }

  auto matches = search(text);
  if (!matches) return json_error(500, "SQL error: " + matches.error());

  nlohmann::json items = nlohmann::json::array();
  for (std::size_t i = 0; i < matches->size() && static_cast<long long>(i) < limit; ++i) {
    items.push_back(to_json(products_[(*matches)[i]]));
  }
  const long long total = static_cast<long long>(matches->size());
  if (limit == 0) {
    report_hit(Bug::boundary_500);
    // What the integer division below would do with a zero divisor, without undefined behaviour.
    throw std::domain_error("integer division by zero");
  }
  const long long pages = (total + limit - 1) / limit;
  nlohmann::json body = {{"items", std::move(items)}, {"total", total}, {"pages", pages}};
  std::string page = body.dump();
  remember_search(text, page);
  return net::Response::json(200, std::move(page));
}

void Catalog::remember_search(const std::string& text, const std::string& page) {
  std::lock_guard lock(recent_mutex_);
  if (bugs_.on(Bug::memory_leak)) {
    // The bug: every list keeps its rendered page (padded to a page buffer) and nothing is trimmed.
    if (leaked_bytes_ + kLeakPerSearch > kLeakCap) return;
    std::string kept = page;
    kept.resize(std::max(kept.size(), kLeakPerSearch), ' ');  // written, so it is resident
    leaked_bytes_ += kept.size();
    recent_.push_back(std::move(kept));
    report_hit(Bug::memory_leak);
    return;
  }
  if (text.empty()) return;
  recent_.push_back(text);
  if (recent_.size() > kRecent) recent_.erase(recent_.begin());
}

net::Response Catalog::product(const std::string& id) {
  auto number = parse_integer(id);
  if (!number) {
    if (bugs_.trigger(Bug::stack_leak)) {
      return json_error(400, "invalid product id '" + id +
                                 "': terminate called after throwing an instance of 'std::invalid_argument'\n"
                                 "  what():  stoll\n"
                                 "    at chaosplus::demo::Catalog::product(std::string const&) (demo/catalog.cpp:131)\n"
                                 "    at chaosplus::demo::Shop::route(chaosplus::net::Request const&) "
                                 "(demo/shop_api.cpp:97)\n"
                                 "    at /usr/lib/x86_64-linux-gnu/libstdc++.so.6");
    }
    return json_error(400, "product id must be a positive integer");
  }
  if (*number < 0 && bugs_.trigger(Bug::crash)) {
    // An unchecked index below zero: the process dies, as it would on a wild read. (The count line
    // first, which a clean stop would have printed, for benchmarks that count requests.)
    std::cerr << "demo-shop-api: aborting after " << requests_handled() << " requests" << std::endl;
    std::abort();
  }
  if (*number < 1) return json_error(400, "product id must be a positive integer");
  for (const auto& p : products_) {
    if (p.id == *number) return json_response(200, to_json(p));
  }
  return json_error(404, "no such product");
}

std::vector<std::string> Catalog::names_containing(const std::string& text) const {
  std::vector<std::string> names;
  auto matches = run_query("SELECT * FROM products WHERE name LIKE ?", {Value{"%" + text + "%"}}, "products", rows_);
  if (!matches) return names;
  for (auto i : *matches) names.push_back(products_[i].name);
  return names;
}

}  // namespace chaosplus::demo
