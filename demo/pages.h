#pragma once
// The parts of demo-shop-api people see in a browser or a terminal: GET /files?name= (the shop's
// public documents from one folder), GET /greet?name=&format= (text or HTML) and GET /page?q= (an
// HTML search page over the catalog).
#include <string>

#include "bugs.h"
#include "catalog.h"
#include "net/http_message.h"

namespace chaosplus::demo {

// Writes the shop's public documents (readme.txt, shipping.txt, returns.txt) into `folder`,
// creating it; each file is replaced atomically, so shops sharing the folder never see half a file.
Status write_demo_files(const std::string& folder);

class Pages {
 public:
  Pages(std::string folder, const Catalog& catalog, const Bugs& bugs)
      : folder_(std::move(folder)), catalog_(catalog), bugs_(bugs) {}

  net::Response file(const net::Request& request) const;   // GET /files
  net::Response greet(const net::Request& request) const;  // GET /greet
  net::Response page(const net::Request& request) const;   // GET /page

 private:
  std::string folder_;
  const Catalog& catalog_;
  const Bugs& bugs_;
};

}  // namespace chaosplus::demo
