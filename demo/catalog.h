#pragma once
// The product catalog of demo-shop-api: a fixed table searched through the toy SQL engine
// (query.h). GET /products?search=&limit= and GET /products/{id}.
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "bugs.h"
#include "net/http_message.h"
#include "query.h"

namespace chaosplus::demo {

class Catalog {
 public:
  explicit Catalog(const Bugs& bugs);

  net::Response list(const net::Request& request);  // GET /products
  net::Response product(const std::string& id);     // GET /products/{id}, id percent-decoded
  // Names of the products whose name contains `text` (ASCII case-insensitive), for the HTML page.
  std::vector<std::string> names_containing(const std::string& text) const;

 private:
  struct Product {
    long long id;
    std::string sku;
    std::string name;
    double price;
    long long stock;
    bool on_sale;
  };
  nlohmann::json to_json(const Product& product) const;
  Result<std::vector<std::size_t>> search(const std::string& text) const;
  void remember_search(const std::string& text, const std::string& page);

  const Bugs& bugs_;
  std::vector<Product> products_;
  std::vector<Row> rows_;  // the same table as the query engine sees it

  // Recent searches, for the "popular searches" a real shop would show: the last kRecent are kept.
  std::mutex recent_mutex_;
  std::vector<std::string> recent_;
  std::size_t leaked_bytes_ = 0;
};

}  // namespace chaosplus::demo
