#include "proxy/api.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/prometheus_text.h"
#include "proxy/api_metrics.h"
#include "proxy/json_input.h"
#include "proxy/toxic_json.h"

namespace chaosplus::proxy {

namespace {

using nlohmann::json;

// Messages may quote names taken from the URL, which need not be UTF-8: replace what is broken
// rather than fail the answer.
std::string to_text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// The caller's mistakes are 4xx; the rest (the system failed, a bug) is a 500.
int status_of(const Error& failure) {
  switch (failure.code) {
    case ErrorCode::invalid_argument: return 400;
    case ErrorCode::not_found: return 404;
    case ErrorCode::already_exists: return 409;
    default: return 500;
  }
}

net::Response error_response(int status, const std::string& message) { return ControlApi::error(status, message); }

net::Response failure_response(const Error& failure) { return error_response(status_of(failure), failure.message); }

net::Response json_response(int status, const json& body) { return net::Response::json(status, to_text(body)); }

net::Response no_content() {
  net::Response response;
  response.status = 204;
  return response;
}

json to_json(const ProxyView& proxy) {
  json toxics = json::array();
  for (const auto& toxic : proxy.toxics) toxics.push_back(toxic_to_json(toxic));
  return {{"name", proxy.name},
          {"listen", proxy.listen},
          {"upstream", proxy.upstream},
          {"enabled", proxy.enabled},
          {"toxics", toxics}};
}

Result<json> parse_body(const std::string& body) {
  auto parsed = parse_json(body);
  if (!parsed) return Error{"bad request body: " + parsed.error()};
  return parsed;
}

Result<json> parse_object(const std::string& body) {
  auto parsed = parse_body(body);
  if (!parsed) return parsed;
  if (!parsed->is_object()) return Error{"bad request body: expected a JSON object, got " + describe(*parsed)};
  return parsed;
}

// Field and attribute names are echoed in messages; a name this long is no name of ours anyway.
constexpr std::size_t kMaxKey = 64;

std::string key_text(const std::string& key) { return key.size() <= kMaxKey ? key : key.substr(0, kMaxKey) + "..."; }

// Refuses fields outside `known`, so a typo ("upsteam") is not silently ignored.
Status known_fields(const json& object, std::initializer_list<std::string_view> known, const char* what) {
  for (const auto& [key, value] : object.items()) {
    bool found = false;
    for (auto name : known) found = found || key == name;
    if (found) continue;
    std::string list;
    for (auto name : known) list += (list.empty() ? "" : ", ") + std::string(name);
    return Error{"unknown field '" + key_text(key) + "' in " + what + " (expected: " + list + ")"};
  }
  return ok_status();
}

// Reads an optional field of the given JSON type; errors say which field and what type.
template <typename T>
Result<std::optional<T>> optional_field(const json& object, const char* key, const char* expected) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<T>{};
  bool fits = false;
  if constexpr (std::is_same_v<T, std::string>) fits = it->is_string();
  if constexpr (std::is_same_v<T, bool>) fits = it->is_boolean();
  if constexpr (std::is_same_v<T, double>) fits = it->is_number();
  if (!fits) return Error{std::string("field '") + key + "' must be " + expected + ", got " + describe(*it)};
  return std::optional<T>(it->get<T>());
}

Result<Attributes> parse_attributes(const json& object) {
  Attributes out;
  auto it = object.find("attributes");
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_object()) return Error{"field 'attributes' must be an object, got " + describe(*it)};
  for (const auto& [key, value] : it->items()) {
    if (key.size() > kMaxKey) return Error{"attribute '" + key_text(key) + "' is not a known attribute name"};
    if (value.is_number_integer() && !value.is_number_unsigned()) {
      out[key] = value.get<std::int64_t>();
    } else if (value.is_number_unsigned()) {
      auto big = value.get<std::uint64_t>();
      if (big > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return Error{"attribute '" + key + "' is out of range: " + describe(value)};
      }
      out[key] = static_cast<std::int64_t>(big);
    } else if (value.is_number_float()) {
      double number = value.get<double>();
      if (!std::isfinite(number) || number != std::floor(number) || std::fabs(number) > 9.0e15) {
        return Error{"attribute '" + key + "' must be a whole number, got " + describe(value)};
      }
      out[key] = static_cast<std::int64_t>(number);
    } else if (value.is_string()) {
      out[key] = value.get<std::string>();  // the HTTP toxics' method, path, body; checked by make_toxic
    } else {
      return Error{"attribute '" + key + "' must be a number or a string, got " + describe(value)};
    }
  }
  return out;
}

Result<ToxicDraft> parse_toxic(const json& object) {
  ToxicDraft draft;
  auto name = optional_field<std::string>(object, "name", "a string");
  if (!name) return Error{name.error()};
  auto type = optional_field<std::string>(object, "type", "a string");
  if (!type) return Error{type.error()};
  auto stream = optional_field<std::string>(object, "stream", "a string");
  if (!stream) return Error{stream.error()};
  auto toxicity = optional_field<double>(object, "toxicity", "a number");
  if (!toxicity) return Error{toxicity.error()};
  auto attributes = parse_attributes(object);
  if (!attributes) return Error{attributes.error()};
  draft.name = *name;
  if (draft.name && draft.name->empty()) draft.name.reset();  // Toxiproxy: empty means default
  draft.type = type->value_or("");
  draft.stream = *stream;
  if (draft.stream && draft.stream->empty()) draft.stream.reset();
  draft.toxicity = *toxicity;
  draft.attributes = std::move(attributes).value();
  return draft;
}

// The fields of a proxy in a create, update or populate body. "toxics" is what the API shows and
// clients send back (Toxiproxy's Go client always does); like Toxiproxy we ignore it there.
Status check_proxy_fields(const json& object) {
  if (auto s = known_fields(object, {"name", "listen", "upstream", "enabled", "toxics"}, "a proxy"); !s) return s;
  if (auto it = object.find("toxics"); it != object.end() && !it->is_null() && !it->is_array()) {
    return Error{
        "field 'toxics' must be a list (it is ignored here: add toxics with POST /proxies/{proxy}/toxics), "
        "got " +
        describe(*it)};
  }
  return ok_status();
}

Result<ProxySettings> parse_proxy(const json& object) {
  ProxySettings settings;
  if (auto s = check_proxy_fields(object); !s) return Error{s.error()};
  auto name = optional_field<std::string>(object, "name", "a string");
  if (!name) return Error{name.error()};
  auto listen = optional_field<std::string>(object, "listen", "a string");
  if (!listen) return Error{listen.error()};
  auto upstream = optional_field<std::string>(object, "upstream", "a string");
  if (!upstream) return Error{upstream.error()};
  auto enabled = optional_field<bool>(object, "enabled", "true or false");
  if (!enabled) return Error{enabled.error()};
  if (!name->has_value() || (*name)->empty()) return Error{"missing required field 'name'"};
  if (!upstream->has_value() || (*upstream)->empty()) return Error{"missing required field 'upstream'"};
  settings.name = **name;
  settings.listen = listen->value_or("127.0.0.1:0");
  if (settings.listen.empty()) settings.listen = "127.0.0.1:0";
  settings.upstream = **upstream;
  settings.enabled = enabled->value_or(true);
  return settings;
}

// Compares in time independent of where the strings differ (the length is no secret).
bool same_secret(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < given.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ expected[i]);
  return diff == 0;
}

net::Response method_not_allowed(const std::string& method, const std::string& path) {
  return error_response(405, "method " + method + " is not allowed on " + path);
}

}  // namespace

ControlApi::ControlApi(Engine& engine, std::string token) : engine_(engine), token_(std::move(token)) {}

net::Response ControlApi::error(int status, const std::string& message) {
  // Messages quote what was sent (an address, a path attribute): a request of megabytes must not
  // come back whole.
  constexpr std::size_t kMaxMessage = 1024;
  const std::string shown = message.size() <= kMaxMessage ? message : message.substr(0, kMaxMessage) + "...";
  return net::Response::json(status, to_text(json{{"error", shown}, {"status", status}}));
}

std::optional<std::vector<std::string>> ControlApi::touched(const net::Request& request,
                                                            const net::Response& response) {
  using Names = std::vector<std::string>;
  if (request.method == "GET" || request.method == "HEAD" || response.status == 401 || response.status == 403) {
    return Names{};
  }
  auto parts = net::split_path(request.path());
  if (parts.size() == 1 && (parts[0] == "populate" || parts[0] == "reset")) return std::nullopt;
  if (parts.empty() || parts[0] != "proxies") return Names{};  // no such route: nothing changed
  if (parts.size() >= 2) return Names{parts[1]};
  if (response.status != 201) return Names{};  // a refused creation made nothing
  auto created = parse_json(response.body);
  if (created && created->is_object() && created->contains("name") && (*created)["name"].is_string()) {
    return Names{(*created)["name"].get<std::string>()};
  }
  return std::nullopt;
}

net::Response ControlApi::handle(const net::Request& request) {
  if (!token_.empty()) {
    std::string_view header = request.header("Authorization");
    constexpr std::string_view kBearer = "Bearer ";
    bool good = header.size() > kBearer.size() && header.substr(0, kBearer.size()) == kBearer &&
                same_secret(header.substr(kBearer.size()), token_);
    if (!good) {
      auto response = error_response(401, "missing or wrong bearer token (Authorization: Bearer <token>)");
      response.set_header("WWW-Authenticate", "Bearer");
      return response;
    }
  }
  // Like Toxiproxy: browsers are refused, so a web page cannot drive a local proxy API.
  if (request.header("User-Agent").substr(0, 8) == "Mozilla/") {
    return error_response(403, "browsers may not use the proxy API");
  }
  std::lock_guard lock(mutex_);
  return route(request);
}

net::Response ControlApi::toxic_stats(const std::string& proxy, const std::string& toxic) {
  auto own = engine_.toxic_stats(proxy, toxic);
  if (!own.ok()) return failure_response(own.failure());
  ToxicCounters total = own.value();
  if (peers_) {
    auto theirs = peers_(proxy, toxic);
    // A sum that leaves out a process would pass for the whole: no figure rather than a wrong one.
    if (!theirs) return error_response(502, "the counts of a worker process are missing: " + theirs.error());
    total += *theirs;
  }
  return json_response(200, counters_to_json(total));
}

net::Response ControlApi::route(const net::Request& request) {
  const std::string& method = request.method;
  const std::string path = request.path();
  auto parts = net::split_path(path);
  const bool get = method == "GET", post = method == "POST", patch = method == "PATCH", del = method == "DELETE";

  if (parts.size() == 1 && parts[0] == "version") {
    if (!get) return method_not_allowed(method, path);
    return json_response(200, {{"version", kProxyVersion}});
  }
  if (parts.size() == 1 && parts[0] == "metrics") {  // ours, beside Toxiproxy's routes
    if (!get) return method_not_allowed(method, path);
    net::Response response = net::Response::text(200, proxy_metrics(engine_, peers_));
    response.set_header("Content-Type", kPrometheusContentType);
    return response;
  }
  if (parts.size() == 1 && parts[0] == "reset") {
    if (!post) return method_not_allowed(method, path);
    auto done = engine_.reset();
    return done.ok() ? no_content() : failure_response(done.failure());
  }
  if (parts.size() == 1 && parts[0] == "populate") {
    if (!post) return method_not_allowed(method, path);
    auto body = parse_body(request.body);
    if (!body) return error_response(400, body.error());
    if (!body->is_array()) {
      return error_response(400, "bad request body: expected a JSON array of proxies, got " + describe(*body));
    }
    std::vector<ProxySettings> wanted;
    for (std::size_t i = 0; i < body->size(); ++i) {
      const json& item = (*body)[i];
      if (!item.is_object()) {
        return error_response(400, "proxy #" + std::to_string(i + 1) + " must be an object, got " + describe(item));
      }
      auto settings = parse_proxy(item);
      if (!settings) return error_response(400, "proxy #" + std::to_string(i + 1) + ": " + settings.error());
      wanted.push_back(std::move(settings).value());
    }
    json created = json::array();
    for (const auto& settings : wanted) {
      // Idempotent: an identical proxy stays as it is (a requested port 0 matches any bound
      // port); a different one is replaced.
      auto existing = engine_.proxy(settings.name);
      if (existing.ok()) {
        const auto& current = existing.value();
        if (current.upstream == settings.upstream && current.enabled == settings.enabled &&
            (current.listen == settings.listen || settings.listen.ends_with(":0"))) {
          created.push_back(to_json(current));
          continue;
        }
        (void)engine_.delete_proxy(settings.name);
      }
      auto made = engine_.create_proxy(settings);
      if (!made.ok()) {
        // Like Toxiproxy: the error, and the proxies that were set up before it.
        int status = status_of(made.failure());
        return json_response(status, {{"error", made.failure().message}, {"status", status}, {"proxies", created}});
      }
      created.push_back(to_json(made.value()));
    }
    return json_response(201, {{"proxies", created}});
  }
  if (parts.size() == 5 && parts[0] == "proxies" && parts[2] == "toxics" && parts[4] == "stats") {
    if (!get) return method_not_allowed(method, path);
    return toxic_stats(parts[1], parts[3]);
  }
  if (parts.empty() || parts[0] != "proxies" || parts.size() > 4 || (parts.size() == 3 && parts[2] != "toxics") ||
      (parts.size() == 4 && parts[2] != "toxics")) {
    return error_response(404, "no such route: " + method + " " + path);
  }

  if (parts.size() == 1) {  // /proxies
    if (get) {
      json all = json::object();
      for (const auto& proxy : engine_.proxies()) all[proxy.name] = to_json(proxy);
      return json_response(200, all);
    }
    if (!post) return method_not_allowed(method, path);
    auto body = parse_object(request.body);
    if (!body) return error_response(400, body.error());
    auto settings = parse_proxy(*body);
    if (!settings) return error_response(400, settings.error());
    auto made = engine_.create_proxy(*settings);
    return made.ok() ? json_response(201, to_json(made.value())) : failure_response(made.failure());
  }

  const std::string& proxy = parts[1];
  if (parts.size() == 2) {  // /proxies/{proxy}
    if (get) {
      auto found = engine_.proxy(proxy);
      return found.ok() ? json_response(200, to_json(found.value())) : failure_response(found.failure());
    }
    if (del) {
      auto done = engine_.delete_proxy(proxy);
      return done.ok() ? no_content() : failure_response(done.failure());
    }
    if (!post && !patch) return method_not_allowed(method, path);
    auto body = parse_object(request.body);
    if (!body) return error_response(400, body.error());
    if (auto s = check_proxy_fields(*body); !s) return error_response(400, s.error());
    ProxyUpdate update;
    auto listen = optional_field<std::string>(*body, "listen", "a string");
    if (!listen) return error_response(400, listen.error());
    auto upstream = optional_field<std::string>(*body, "upstream", "a string");
    if (!upstream) return error_response(400, upstream.error());
    auto enabled = optional_field<bool>(*body, "enabled", "true or false");
    if (!enabled) return error_response(400, enabled.error());
    if (listen->has_value() && !(*listen)->empty()) update.listen = *listen;
    if (upstream->has_value() && !(*upstream)->empty()) update.upstream = *upstream;
    update.enabled = *enabled;
    auto updated = engine_.update_proxy(proxy, update);
    return updated.ok() ? json_response(200, to_json(updated.value())) : failure_response(updated.failure());
  }

  if (parts.size() == 3) {  // /proxies/{proxy}/toxics
    if (get) {
      auto found = engine_.proxy(proxy);
      if (!found.ok()) return failure_response(found.failure());
      json toxics = json::array();
      for (const auto& toxic : found.value().toxics) toxics.push_back(toxic_to_json(toxic));
      return json_response(200, toxics);
    }
    if (!post) return method_not_allowed(method, path);
    auto body = parse_object(request.body);
    if (!body) return error_response(400, body.error());
    auto draft = parse_toxic(*body);
    if (!draft) return error_response(400, draft.error());
    auto spec = make_toxic(*draft);
    if (!spec) return error_response(400, spec.error());
    auto added = engine_.add_toxic(proxy, *spec);
    // 200, not 201: Toxiproxy answers toxic creation with 200 and older clients insist on it.
    return added.ok() ? json_response(200, toxic_to_json(added.value())) : failure_response(added.failure());
  }

  const std::string& toxic = parts[3];  // /proxies/{proxy}/toxics/{toxic}
  if (get) {
    auto found = engine_.toxic(proxy, toxic);
    return found.ok() ? json_response(200, toxic_to_json(found.value())) : failure_response(found.failure());
  }
  if (del) {
    auto done = engine_.remove_toxic(proxy, toxic);
    return done.ok() ? no_content() : failure_response(done.failure());
  }
  if (!post && !patch) return method_not_allowed(method, path);
  auto body = parse_object(request.body);
  if (!body) return error_response(400, body.error());
  auto current = engine_.toxic(proxy, toxic);
  if (!current.ok()) return failure_response(current.failure());
  auto toxicity = optional_field<double>(*body, "toxicity", "a number");
  if (!toxicity) return error_response(400, toxicity.error());
  auto attributes = parse_attributes(*body);
  if (!attributes) return error_response(400, attributes.error());
  auto spec = update_toxic(current.value(), *toxicity, *attributes);
  if (!spec) return error_response(400, spec.error());
  auto updated = engine_.update_toxic(proxy, *spec);
  return updated.ok() ? json_response(200, toxic_to_json(updated.value())) : failure_response(updated.failure());
}

}  // namespace chaosplus::proxy
