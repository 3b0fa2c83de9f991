#include "auth.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "service.h"

namespace chaosplus::demo {

namespace {
constexpr std::size_t kMaxAuthorization = 1024;
}  // namespace

TokenCheck::TokenCheck(net::Url tokens, Duration timeout, const Bugs& bugs)
    : tokens_(std::move(tokens)), timeout_(timeout), bugs_(bugs) {}

Caller TokenCheck::authenticate(const net::Request& request) const {
  const std::string_view authorization = request.header("Authorization");
  if (authorization.size() <= 7 || !net::iequals(authorization.substr(0, 7), "Bearer ")) {
    return {std::nullopt, json_error(401, "missing bearer token")};
  }
  // No token is that long; refusing it here also bounds the user names orders keep.
  if (authorization.size() > kMaxAuthorization) return {std::nullopt, json_error(401, "invalid token")};
  net::Request validate;
  validate.method = "GET";
  validate.target = "/validate";
  validate.headers.push_back({"Authorization", std::string(authorization)});
  auto answer = net::fetch(tokens_, std::move(validate), timeout_);
  if (!answer) {
    const bool slow = answer.error().rfind("timed out", 0) == 0;
    return unavailable(slow ? "timed out after " + format_duration(timeout_) : "no answer", answer.error());
  }
  if (answer->status == 401) return {std::nullopt, json_error(401, "invalid token")};
  if (answer->status != 200) {
    return unavailable("it answered " + std::to_string(answer->status), "status " + std::to_string(answer->status));
  }
  auto verdict = nlohmann::json::parse(answer->body, nullptr, false);
  // (Comparing with == never throws, whatever type "valid" has: a broken answer is not an exception.)
  if (verdict.is_discarded() || !verdict.is_object() || !verdict.contains("valid") || verdict["valid"] != true ||
      !verdict.contains("user") || !verdict["user"].is_string()) {
    return unavailable("unexpected answer", "unexpected answer " + answer->body.substr(0, 200));
  }
  return {verdict["user"].get<std::string>(), {}};
}

Caller TokenCheck::unavailable(const std::string& why, const std::string& detail) const {
  // The details (addresses, what the token service said) go to the log, not to the caller.
  std::cerr << "demo-shop-api: token check failed: token service unavailable: " + detail + "\n" << std::flush;
  // The bug: "keep the shop selling when the token service is down".
  if (bugs_.trigger(Bug::fail_open)) return {std::string("anonymous"), {}};
  net::Response refusal = json_error(503, "token service unavailable: " + why);
  refusal.headers.push_back({"Retry-After", "1"});
  return {std::nullopt, std::move(refusal)};
}

}  // namespace chaosplus::demo
