#include "proxy/api_client.h"

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "net/http_client.h"
#include "net/url.h"
#include "proxy/json_input.h"

namespace chaosplus::proxy {

namespace {

using nlohmann::json;

// Names go into the URL path; encode everything outside the unreserved set.
std::string path_segment(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

ApiClient::ApiClient(std::string base_url, std::string token, Duration timeout)
    : base_url_(std::move(base_url)), token_(std::move(token)), timeout_(timeout) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

Result<std::string> ApiClient::send(const std::string& method, const std::string& path, std::string body,
                                    bool missing_ok) {
  auto url = net::Url::parse(base_url_ + path);
  if (!url) return Error{"proxy API URL: " + url.error()};
  net::Request request;
  request.method = method;
  request.target = url->target;
  request.body = std::move(body);
  if (!request.body.empty()) request.set_header("Content-Type", "application/json");
  if (!token_.empty()) request.set_header("Authorization", "Bearer " + token_);
  auto response = net::fetch(*url, std::move(request), timeout_);
  if (!response) return Error{"proxy API " + method + " " + path + ": " + response.error()};
  int status = response->status;
  if ((status >= 200 && status < 300) || (missing_ok && status == 404)) return response->body;
  // Whatever answers at that URL may not be our proxy: its body is bounded in depth and in length.
  std::string reason = response->body.size() <= 512 ? response->body : response->body.substr(0, 512) + "...";
  auto parsed = parse_json(response->body);
  if (parsed && parsed->is_object() && parsed->contains("error") && (*parsed)["error"].is_string()) {
    reason = (*parsed)["error"].get<std::string>();
  }
  return Error{"proxy API " + method + " " + path + " answered " + std::to_string(status) + ": " + reason};
}

Status ApiClient::create_proxy(const std::string& name, const std::string& listen, const std::string& upstream) {
  json body{{"name", name}, {"listen", listen}, {"upstream", upstream}, {"enabled", true}};
  auto result = send("POST", "/proxies", body.dump());
  if (!result) return Error{result.error()};
  return ok_status();
}

Status ApiClient::delete_proxy(const std::string& name) {
  auto result = send("DELETE", "/proxies/" + path_segment(name), {}, true);
  if (!result) return Error{result.error()};
  return ok_status();
}

Status ApiClient::add_toxic(const std::string& proxy, const std::string& toxic_name, const std::string& type,
                            const std::string& stream, double toxicity,
                            const std::map<std::string, double>& attributes) {
  json attrs = json::object();
  for (const auto& [key, value] : attributes) {
    if (!std::isfinite(value) || std::fabs(value) > 9.0e15) {
      return Error{"toxic attribute '" + key + "' is not a usable number"};
    }
    attrs[key] = std::llround(value);  // the proxy's attributes are whole ms, KB/s, bytes
  }
  json body{{"name", toxic_name}, {"type", type}, {"stream", stream}, {"toxicity", toxicity}, {"attributes", attrs}};
  auto result = send("POST", "/proxies/" + path_segment(proxy) + "/toxics", body.dump());
  if (!result) return Error{result.error()};
  return ok_status();
}

Status ApiClient::add_toxic(const std::string& proxy, const ToxicSpec& toxic) {
  json attrs = json::object();
  for (const auto& [key, value] : toxic.attributes) {
    if (value.is_number()) {
      attrs[key] = value.number();
    } else {
      attrs[key] = value.text();
    }
  }
  json body{{"name", toxic.name},
            {"type", std::string(to_string(toxic.type))},
            {"stream", std::string(to_string(toxic.stream))},
            {"toxicity", toxic.toxicity},
            {"attributes", attrs}};
  auto result = send("POST", "/proxies/" + path_segment(proxy) + "/toxics", body.dump());
  if (!result) return Error{result.error()};
  return ok_status();
}

Status ApiClient::remove_toxic(const std::string& proxy, const std::string& toxic_name) {
  auto result = send("DELETE", "/proxies/" + path_segment(proxy) + "/toxics/" + path_segment(toxic_name), {}, true);
  if (!result) return Error{result.error()};
  return ok_status();
}

Status ApiClient::set_enabled(const std::string& proxy, bool enabled) {
  json body{{"enabled", enabled}};
  auto result = send("PATCH", "/proxies/" + path_segment(proxy), body.dump());
  if (!result) return Error{result.error()};
  return ok_status();
}

Result<std::string> ApiClient::get_proxies_json() { return send("GET", "/proxies", {}); }

}  // namespace chaosplus::proxy
