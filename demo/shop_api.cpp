// demo-shop-api: a small order API whose every checkout asks the token service whether the
// caller's token is valid. When that dependency fails or is slow, checkout answers 503 within
// --tokens-timeout: the behaviour the quickstart experiment checks while the proxy degrades it.
#include <charconv>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "core/units.h"
#include "net/http_client.h"
#include "net/http_message.h"
#include "net/url.h"
#include "service.h"

namespace {

using chaosplus::demo::json_error;
using chaosplus::net::Request;
using chaosplus::net::Response;
using nlohmann::json;

const std::string kProgram = "demo-shop-api";
const std::string kUsage = "usage: demo-shop-api --port P --tokens HOST:PORT [--tokens-timeout 1s] [--host 127.0.0.1]";

class Shop {
 public:
  Shop(chaosplus::net::Url tokens, chaosplus::Duration tokens_timeout)
      : tokens_(std::move(tokens)), tokens_timeout_(tokens_timeout) {}

  Response handle(const Request& request) {
    const std::string path = request.path();
    if (path == "/health") return only(request, "GET") ? Response::json(200, R"({"status":"ok"})") : not_allowed("GET");
    if (path == "/checkout") return only(request, "POST") ? checkout(request) : not_allowed("POST");
    if (path.rfind("/orders/", 0) == 0) return only(request, "GET") ? order(path.substr(8)) : not_allowed("GET");
    return json_error(404, "not found");
  }

 private:
  // HEAD is allowed wherever GET is; the server leaves the body out.
  static bool only(const Request& request, std::string_view method) {
    return request.method == method || (method == "GET" && request.method == "HEAD");
  }

  static Response not_allowed(std::string allow) {
    Response r = json_error(405, "method not allowed");
    r.headers.push_back({"Allow", std::move(allow)});
    return r;
  }

  Response checkout(const Request& request) {
    const std::string_view authorization = request.header("Authorization");
    if (authorization.size() <= 7 || !chaosplus::net::iequals(authorization.substr(0, 7), "Bearer ")) {
      return json_error(401, "missing bearer token");
    }

    // Authenticate first, so callers without a valid token learn nothing about the body rules.
    Request validate;
    validate.method = "GET";
    validate.target = "/validate";
    validate.headers.push_back({"Authorization", std::string(authorization)});
    auto answer = chaosplus::net::fetch(tokens_, std::move(validate), tokens_timeout_);
    if (!answer) return unavailable(answer.error());
    if (answer->status == 401) return json_error(401, "invalid token");
    if (answer->status != 200) return unavailable("it answered " + std::to_string(answer->status));
    auto verdict = json::parse(answer->body, nullptr, false);
    if (verdict.is_discarded() || !verdict.is_object() || verdict.value("valid", false) != true ||
        !verdict.contains("user") || !verdict["user"].is_string()) {
      return unavailable("unexpected answer " + answer->body.substr(0, 200));
    }
    const std::string user = verdict["user"];

    auto body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("sku") || !body["sku"].is_string() ||
        body["sku"].get<std::string>().empty()) {
      return json_error(400, R"(body must be a JSON object with a non-empty "sku" string)");
    }

    json stored;
    {
      std::lock_guard lock(mutex_);
      const std::uint64_t number = ++last_order_;
      stored = {{"order", number}, {"sku", body["sku"]}, {"user", user}};
      orders_[number] = stored.dump();
    }
    Response created = Response::json(201, stored.dump());
    created.headers.push_back({"Location", "/orders/" + std::to_string(stored["order"].get<std::uint64_t>())});
    return created;
  }

  Response order(const std::string& id) {
    std::uint64_t number = 0;
    auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), number);
    if (ec == std::errc() && ptr == id.data() + id.size() && !id.empty()) {
      std::lock_guard lock(mutex_);
      if (auto it = orders_.find(number); it != orders_.end()) return Response::json(200, it->second);
    }
    return json_error(404, "no such order");
  }

  static Response unavailable(const std::string& why) {
    std::cerr << kProgram << ": checkout failed: token service unavailable: " << why << std::endl;
    return json_error(503, "token service unavailable: " + why);
  }

  chaosplus::net::Url tokens_;
  chaosplus::Duration tokens_timeout_;
  std::mutex mutex_;
  std::uint64_t last_order_ = 0;
  std::map<std::uint64_t, std::string> orders_;
};

}  // namespace

int main(int argc, char** argv) {
  auto flags = chaosplus::demo::parse_flags(argc, argv, {"port", "host", "tokens", "tokens-timeout", "help"});
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

  Shop shop(*tokens, timeout);
  chaosplus::net::HttpServer::Options options;
  options.port = *port;
  if (flags->contains("host")) options.host = flags->at("host");
  return chaosplus::demo::serve_until_signalled(kProgram, options,
                                                [&shop](const Request& request) { return shop.handle(request); });
}
