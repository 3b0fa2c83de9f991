// demo-shop-api: a small shop API (catalog, orders per user, a few pages) whose every authenticated
// call asks the token service whether the caller's token is valid. When that dependency fails or is
// slow, those calls answer 503 within --tokens-timeout: the behaviour the quickstart checks while
// the proxy degrades it. demo/shop-api.openapi.yaml documents what it answers. With --bug it
// carries seeded bugs (bugs.h) for the fuzzer and the security probes to find. With --db PATH it
// keeps its orders in an SQLite database (order_store.h); a failing database answers 503.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <nlohmann/json.hpp>

#include "auth.h"
#include "bugs.h"
#include "catalog.h"
#include "core/units.h"
#include "net/http_message.h"
#include "net/url.h"
#include "orders.h"
#include "pages.h"
#include "service.h"
#include "shop_http.h"

namespace {

using chaosplus::demo::Bug;
using chaosplus::demo::json_error;
using chaosplus::net::Request;
using chaosplus::net::Response;

const std::string kProgram = "demo-shop-api";
const std::string kUsage =
    "usage: demo-shop-api --port P --tokens HOST:PORT [--tokens-timeout 1s] [--host 127.0.0.1]\n"
    "                     [--files DIR] [--db PATH] [--bug NAME[,NAME...]]...\n"
    "  --files  folder GET /files serves (default $TMPDIR/demo-shop-files, written at start)\n"
    "  --db     keep orders in this SQLite database (created, and its folder, if missing; default: in memory, gone\n"
    "           at exit); when it fails, order calls answer 503 \"storage: ...\" until it works again\n"
    "  --bug    turn on a seeded bug (repeatable; \"all\" for every one, \"none\" for none): " +
    [] {
      std::string list;
      for (const auto& name : chaosplus::demo::Bugs::names()) list += (list.empty() ? "" : ", ") + name;
      return list;
    }();

class Shop {
 public:
  Shop(chaosplus::net::Url tokens, chaosplus::Duration tokens_timeout, chaosplus::demo::Bugs bugs, std::string files,
       std::unique_ptr<chaosplus::demo::OrderStore> store)
      : bugs_(bugs),
        auth_(std::move(tokens), tokens_timeout, bugs_),
        catalog_(bugs_),
        orders_(auth_, bugs_, std::move(store)),
        pages_(std::move(files), catalog_, bugs_) {}

  Response handle(const Request& request) {
    Response response;
    try {
      auto preflight = cors_preflight(request);
      response = preflight ? std::move(*preflight) : route(request);
    } catch (const std::exception& e) {
      std::cerr << kProgram << ": " << request.method << " " << request.path() << ": " << e.what() << std::endl;
      response = json_error(500, "internal error");
    }
    chaosplus::demo::add_common_headers(response);
    const std::string_view origin = request.header("Origin");
    if (!origin.empty() && bugs_.trigger(Bug::cors)) {
      response.set_header("Access-Control-Allow-Origin", std::string(origin));
      response.set_header("Access-Control-Allow-Credentials", "true");
      response.set_header("Vary", "Origin");
    }
    return response;
  }

 private:
  // HEAD is allowed wherever GET is; the server leaves the body out.
  static bool is(const Request& request, std::string_view method) {
    return request.method == method || (method == "GET" && request.method == "HEAD");
  }

  static Response not_allowed(std::string allow) {
    Response r = json_error(405, "method not allowed");
    r.headers.push_back({"Allow", std::move(allow)});
    return r;
  }

  // The rest of `path` after `prefix`, percent-decoded, when it is one non-empty segment.
  static std::optional<std::string> segment_after(const std::string& path, std::string_view prefix) {
    if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
    const std::string rest = path.substr(prefix.size());
    if (rest.find('/') != std::string::npos) return std::nullopt;
    return chaosplus::net::percent_decode(rest);
  }

  // With the cors bug, an OPTIONS preflight is answered for any origin; without it OPTIONS is a
  // method like any other (405).
  std::optional<Response> cors_preflight(const Request& request) const {
    if (request.method != "OPTIONS" || request.header("Origin").empty() || !bugs_.on(Bug::cors)) return std::nullopt;
    Response r;
    r.status = 204;
    r.headers.push_back({"Access-Control-Allow-Methods", "GET, POST, PUT, DELETE"});
    r.headers.push_back({"Access-Control-Allow-Headers", "Authorization, Content-Type"});
    return r;
  }

  Response route(const Request& request) {
    const std::string path = request.path();
    if (path == "/health") return is(request, "GET") ? Response::json(200, R"({"status":"ok"})") : not_allowed("GET");
    if (path == "/checkout") return is(request, "POST") ? orders_.checkout(request) : not_allowed("POST");
    if (path == "/products") return is(request, "GET") ? catalog_.list(request) : not_allowed("GET");
    if (auto id = segment_after(path, "/products/")) {
      return is(request, "GET") ? catalog_.product(*id) : not_allowed("GET");
    }
    if (auto id = segment_after(path, "/orders/"))
      return is(request, "GET") ? orders_.receipt(*id) : not_allowed("GET");
    if (path == "/users/me") return is(request, "GET") ? orders_.me(request) : not_allowed("GET");
    if (path == "/users/me/orders") {
      if (is(request, "GET")) return orders_.list_mine(request);
      if (is(request, "POST")) return orders_.create(request);
      return not_allowed("GET, POST");
    }
    if (auto id = segment_after(path, "/users/me/orders/")) {
      if (is(request, "GET") || is(request, "PUT") || is(request, "DELETE")) return orders_.mine(request, *id);
      return not_allowed("GET, PUT, DELETE");
    }
    if (path == "/files") return is(request, "GET") ? pages_.file(request) : not_allowed("GET");
    if (path == "/greet") return is(request, "GET") ? pages_.greet(request) : not_allowed("GET");
    if (path == "/page") return is(request, "GET") ? pages_.page(request) : not_allowed("GET");
    return json_error(404, "not found");
  }

  const chaosplus::demo::Bugs bugs_;
  chaosplus::demo::TokenCheck auth_;
  chaosplus::demo::Catalog catalog_;
  chaosplus::demo::Orders orders_;
  chaosplus::demo::Pages pages_;
};

std::string default_files_folder() {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/demo-shop-files";
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = chaosplus::demo::parse_flags(argc, argv,
                                            {"port", "host", "tokens", "tokens-timeout", "bug", "files", "db", "help"});
  if (!flags) return chaosplus::demo::usage_error(kProgram, flags.error(), kUsage);
  if (flags->contains("help")) {
    std::cout << kUsage << std::endl;
    return 0;
  }
  if (!flags->contains("port")) return chaosplus::demo::usage_error(kProgram, "--port is required", kUsage);
  if (!flags->contains("tokens")) return chaosplus::demo::usage_error(kProgram, "--tokens is required", kUsage);
  auto port = chaosplus::demo::parse_port(flags->at("port"));
  if (!port) return chaosplus::demo::usage_error(kProgram, port.error(), kUsage);

  const std::string& tokens_address = flags->at("tokens");
  auto tokens = chaosplus::net::Url::parse("http://" + tokens_address + "/");
  if (!tokens || tokens_address.find('/') != std::string::npos || tokens_address.find(':') == std::string::npos) {
    return chaosplus::demo::usage_error(kProgram, "--tokens must be HOST:PORT, got '" + tokens_address + "'", kUsage);
  }

  chaosplus::Duration timeout = std::chrono::seconds(1);
  if (flags->contains("tokens-timeout")) {
    auto parsed = chaosplus::parse_duration(flags->at("tokens-timeout"));
    if (!parsed || parsed->count() <= 0) {
      return chaosplus::demo::usage_error(
          kProgram, "--tokens-timeout: " + (parsed ? std::string("must be positive") : parsed.error()), kUsage);
    }
    timeout = *parsed;
  }

  auto bugs = chaosplus::demo::Bugs::parse(flags->contains("bug") ? std::vector<std::string>{flags->at("bug")}
                                                                  : std::vector<std::string>{});
  if (!bugs) return chaosplus::demo::usage_error(kProgram, "--bug: " + bugs.error(), kUsage);

  const std::string files = flags->contains("files") ? flags->at("files") : default_files_folder();
  if (auto written = chaosplus::demo::write_demo_files(files); !written) {
    std::cerr << kProgram << ": --files: " << written.error() << std::endl;
    return 1;
  }
  std::unique_ptr<chaosplus::demo::OrderStore> store = chaosplus::demo::memory_order_store();
  if (flags->contains("db")) {
    auto opened = chaosplus::demo::sqlite_order_store(flags->at("db"));
    if (!opened) {
      std::cerr << kProgram << ": --db " << flags->at("db") << ": " << opened.error() << std::endl;
      return 1;
    }
    store = std::move(*opened);
  }
  std::cerr << kProgram << ": seeded bugs: " << bugs->describe() << std::endl;

  Shop shop(*tokens, timeout, *bugs, files, std::move(store));
  chaosplus::net::HttpServer::Options options;
  options.port = *port;
  if (flags->contains("host")) options.host = flags->at("host");
  options.limits.max_body = 64 * 1024;
  options.error_response = [](int status, const std::string& reason) {
    Response r = json_error(status, reason);
    chaosplus::demo::add_common_headers(r);
    return r;
  };
  return chaosplus::demo::serve_until_signalled(kProgram, options,
                                                [&shop](const Request& request) { return shop.handle(request); });
}
