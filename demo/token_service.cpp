// demo-token-service: the dependency of the demo shop. It says whether a bearer token is valid:
// tokens "demo-<user>" are, everything else is not.
#include <iostream>
#include <nlohmann/json.hpp>

#include "net/http_message.h"
#include "service.h"

namespace {

using chaosplus::net::Request;
using chaosplus::net::Response;

const std::string kProgram = "demo-token-service";
const std::string kUsage = "usage: demo-token-service --port P [--host 127.0.0.1]";

// "Bearer abc" -> "abc"; "" when the header is absent or uses another scheme.
std::string bearer_token(const Request& request) {
  std::string_view value = request.header("Authorization");
  if (value.size() < 7 || !chaosplus::net::iequals(value.substr(0, 7), "Bearer ")) return {};
  value.remove_prefix(7);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return std::string(value);
}

Response handle(const Request& request) {
  const std::string path = request.path();
  if (path != "/health" && path != "/validate") return chaosplus::demo::json_error(404, "not found");
  if (request.method != "GET" && request.method != "HEAD") {
    Response r = chaosplus::demo::json_error(405, "method not allowed");
    r.headers.push_back({"Allow", "GET"});
    return r;
  }
  if (path == "/health") return Response::json(200, R"({"status":"ok"})");

  const std::string token = bearer_token(request);
  const std::string prefix = "demo-";
  if (token.size() > prefix.size() && token.rfind(prefix, 0) == 0) {
    return Response::json(200, nlohmann::json{{"valid", true}, {"user", token.substr(prefix.size())}}.dump(
                                   -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return Response::json(401, R"({"valid":false})");
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = chaosplus::demo::parse_flags(argc, argv, {"port", "host", "help"});
  if (!flags) return chaosplus::demo::usage_error(kProgram, flags.error(), kUsage);
  if (flags->contains("help")) {
    std::cout << kUsage << std::endl;
    return 0;
  }
  if (!flags->contains("port")) return chaosplus::demo::usage_error(kProgram, "--port is required", kUsage);
  auto port = chaosplus::demo::parse_port(flags->at("port"));
  if (!port) return chaosplus::demo::usage_error(kProgram, port.error(), kUsage);

  chaosplus::net::HttpServer::Options options;
  options.port = *port;
  if (flags->contains("host")) options.host = flags->at("host");
  return chaosplus::demo::serve_until_signalled(kProgram, options, handle);
}
