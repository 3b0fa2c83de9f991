#include "security/probe_requests.h"

#include <algorithm>
#include <cctype>

#include "net/http_message.h"

namespace chaosplus::security {
namespace {

using Json = fuzz::Json;

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

std::string schema_type(const Json& schema) {
  if (!schema.is_object()) return "";
  if (auto t = schema.find("type"); t != schema.end()) {
    if (t->is_string()) return t->get<std::string>();
    if (t->is_array()) {
      for (const auto& item : *t) {
        if (item.is_string() && item.get<std::string>() != "null") return item.get<std::string>();
      }
    }
  }
  if (schema.contains("properties")) return "object";
  if (schema.contains("items")) return "array";
  return "";
}

std::string string_for(const Json& schema) {
  const std::string format = schema.value("format", "");
  std::string s;
  if (format == "email") s = "cpx@example.com";
  else if (format == "date") s = "2024-01-02";
  else if (format == "date-time") s = "2024-01-02T03:04:05Z";
  else if (format == "uuid") s = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b";
  else if (format == "uri" || format == "url") s = "http://127.0.0.1/cpx";
  else if (format == "ipv4") s = "127.0.0.1";
  else s = "cpx1";
  const auto min = schema.value("minLength", 0);
  const auto max = schema.value("maxLength", 1 << 20);
  if (static_cast<int>(s.size()) < min) s.append(static_cast<std::size_t>(min) - s.size(), 'a');
  if (static_cast<int>(s.size()) > max) s.resize(static_cast<std::size_t>(std::max(max, 0)));
  return s;
}

Json number_for(const Json& schema, bool integer) {
  double v = 1;
  if (auto m = schema.find("minimum"); m != schema.end() && m->is_number()) v = std::max(v, m->get<double>());
  if (auto m = schema.find("exclusiveMinimum"); m != schema.end() && m->is_number()) {
    v = std::max(v, m->get<double>() + 1);
  }
  if (auto m = schema.find("maximum"); m != schema.end() && m->is_number()) v = std::min(v, m->get<double>());
  if (integer) return static_cast<long long>(v);
  return v;
}

std::string scalar_text(const Json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

const Json* find_example(const std::vector<Json>& examples) { return examples.empty() ? nullptr : &examples.front(); }

// Splits a target into its path and what follows ("?query").
std::pair<std::string, std::string> split_target(std::string_view target) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return {std::string(target), ""};
  return {std::string(target.substr(0, q)), std::string(target.substr(q))};
}

}  // namespace

Result<User> parse_user(std::string_view text) {
  const auto eq = text.find('=');
  const auto colon = text.find(':', eq == std::string_view::npos ? 0 : eq);
  if (eq == std::string_view::npos || eq == 0 || colon == std::string_view::npos || colon == eq + 1) {
    return Error{"'" + std::string(text) + "': expected NAME='Header: value', e.g. alice='Authorization: Bearer t1'"};
  }
  User u{trim(text.substr(0, eq)), trim(text.substr(eq + 1, colon - eq - 1)), trim(text.substr(colon + 1))};
  if (u.header.empty() || u.header.find(' ') != std::string::npos) {
    return Error{"'" + std::string(text) + "': the header name '" + u.header + "' is not a header name"};
  }
  return u;
}

Json example_value(const Json& schema, bool all_properties, int depth) {
  if (!schema.is_object()) return "cpx1";
  for (const char* key : {"example", "default", "const"}) {
    if (auto e = schema.find(key); e != schema.end()) return *e;
  }
  if (auto e = schema.find("examples"); e != schema.end() && e->is_array() && !e->empty()) return e->front();
  if (auto e = schema.find("enum"); e != schema.end() && e->is_array() && !e->empty()) return e->front();
  for (const char* key : {"allOf", "oneOf", "anyOf"}) {
    if (auto alt = schema.find(key); alt != schema.end() && alt->is_array() && !alt->empty()) {
      if (std::string(key) != "allOf") return example_value(alt->front(), all_properties, depth + 1);
      Json merged = Json::object();
      for (const auto& part : *alt) {
        Json v = example_value(part, all_properties, depth + 1);
        if (v.is_object()) merged.update(v);
        else return v;
      }
      return merged;
    }
  }
  const std::string type = schema_type(schema);
  if (type == "integer") return number_for(schema, true);
  if (type == "number") return number_for(schema, false);
  if (type == "boolean") return true;
  if (type == "null") return nullptr;
  if (type == "array") {
    Json out = Json::array();
    const auto min = std::max(1, schema.value("minItems", 1));
    if (depth < 6 && schema.contains("items")) {
      for (int i = 0; i < min; ++i) out.push_back(example_value(schema["items"], all_properties, depth + 1));
    }
    return out;
  }
  if (type == "object") {
    Json out = Json::object();
    if (depth >= 6) return out;
    std::vector<std::string> required;
    if (auto r = schema.find("required"); r != schema.end() && r->is_array()) {
      for (const auto& n : *r) {
        if (n.is_string()) required.push_back(n.get<std::string>());
      }
    }
    if (auto props = schema.find("properties"); props != schema.end() && props->is_object()) {
      for (const auto& [name, sub] : props->items()) {
        const bool needed = std::find(required.begin(), required.end(), name) != required.end();
        if (!needed && (!all_properties || sub.value("readOnly", false))) continue;
        out[name] = example_value(sub, all_properties, depth + 1);
      }
    }
    return out;
  }
  return string_for(schema);
}

fuzz::RequestCase valid_case(const openapi::Operation& op) {
  fuzz::RequestCase c;
  c.operation_id = op.id;
  c.method = op.method;
  c.path = op.path;
  for (const openapi::Parameter& p : op.parameters) {
    if (!p.required && p.in != openapi::ParameterIn::path) continue;
    const Json* example = find_example(p.examples);
    Json value = example ? *example : example_value(p.schema);
    switch (p.in) {
      case openapi::ParameterIn::path: c.path_params[p.name] = value; break;
      case openapi::ParameterIn::query: c.query.emplace_back(p.name, value); break;
      case openapi::ParameterIn::header: c.headers.emplace_back(p.name, scalar_text(value)); break;
      case openapi::ParameterIn::cookie: c.cookies[p.name] = value; break;
    }
  }
  if (op.body && !op.body->content.empty()) {
    const openapi::Media* chosen = &op.body->content.front();
    for (const auto& m : op.body->content) {
      if (m.content_type.find("json") != std::string::npos) {
        chosen = &m;
        break;
      }
    }
    c.body_content_type = chosen->content_type;
    const Json* example = find_example(chosen->examples);
    c.body = example ? *example : example_value(chosen->schema);
  }
  return c;
}

std::string_view where_name(Input::Where where) {
  switch (where) {
    case Input::Where::path: return "path";
    case Input::Where::query: return "query";
    case Input::Where::header: return "header";
    case Input::Where::cookie: return "cookie";
    case Input::Where::body: return "body";
  }
  return "?";
}

std::vector<Input> injectable_inputs(const openapi::Operation& op, const fuzz::RequestCase& valid) {
  std::vector<Input> out;
  for (const openapi::Parameter& p : op.parameters) {
    if (schema_type(p.schema) != "string" || p.schema.contains("enum") || p.schema.contains("format")) continue;
    Input in;
    in.name = p.name;
    switch (p.in) {
      case openapi::ParameterIn::path: in.where = Input::Where::path; break;
      case openapi::ParameterIn::query: in.where = Input::Where::query; break;
      case openapi::ParameterIn::header: in.where = Input::Where::header; break;
      case openapi::ParameterIn::cookie: in.where = Input::Where::cookie; break;
    }
    // The header the credentials travel in is not an input of the operation.
    if (in.where == Input::Where::header && net::iequals(p.name, "Authorization")) continue;
    const Json* example = find_example(p.examples);
    in.original = scalar_text(example ? *example : example_value(p.schema));
    if (in.where == Input::Where::path) {
      if (auto v = valid.path_params.find(p.name); v != valid.path_params.end()) in.original = scalar_text(v->second);
    }
    out.push_back(std::move(in));
  }
  if (op.body && valid.body && valid.body->is_object()) {
    const openapi::Media* media = nullptr;
    for (const auto& m : op.body->content) {
      if (m.content_type == valid.body_content_type) media = &m;
    }
    const Json* props = nullptr;
    if (media && media->schema.is_object()) {
      if (auto p = media->schema.find("properties"); p != media->schema.end() && p->is_object()) props = &*p;
    }
    for (const auto& [name, value] : valid.body->items()) {
      if (!value.is_string()) continue;
      if (props && props->contains(name)) {
        const Json& s = (*props)[name];
        if (s.contains("enum") || s.contains("format")) continue;
      }
      out.push_back({Input::Where::body, name, value.get<std::string>()});
    }
  }
  return out;
}

fuzz::RequestCase with_input(const fuzz::RequestCase& request, const Input& input, const std::string& value) {
  fuzz::RequestCase c = request;
  c.expect_valid = false;
  c.mutation = std::string(where_name(input.where)) + "." + input.name + " = " + value;
  switch (input.where) {
    case Input::Where::path: c.path_params[input.name] = value; break;
    case Input::Where::query: {
      bool set = false;
      for (auto& [name, v] : c.query) {
        if (name == input.name) v = value, set = true;
      }
      if (!set) c.query.emplace_back(input.name, value);
      break;
    }
    case Input::Where::header: {
      bool set = false;
      for (auto& [name, v] : c.headers) {
        if (name == input.name) v = value, set = true;
      }
      if (!set) c.headers.emplace_back(input.name, value);
      break;
    }
    case Input::Where::cookie: c.cookies[input.name] = value; break;
    case Input::Where::body:
      if (c.body && c.body->is_object()) (*c.body)[input.name] = value;
      break;
  }
  return c;
}

std::string credential_header(const openapi::Operation& op, const openapi::Document& document,
                              const std::vector<User>& users) {
  if (!users.empty()) return users.front().header;
  for (const auto& alternative : op.security) {
    for (const std::string& name : alternative) {
      auto s = document.security_schemes.find(name);
      if (s == document.security_schemes.end()) continue;
      if (s->second.type == "apiKey" && s->second.in == openapi::ParameterIn::header) return s->second.param_name;
    }
  }
  return "Authorization";
}

std::vector<CredentialVariant> credential_variants(const std::string& header, const openapi::Operation& op,
                                                   const openapi::Document& document, const User* user) {
  // The scheme word of the credential ("Bearer", "Basic"), from the user's value or the document.
  std::string scheme;
  std::string token;
  if (user) {
    const auto space = user->value.find(' ');
    if (space != std::string::npos) scheme = user->value.substr(0, space), token = user->value.substr(space + 1);
    else token = user->value;
  } else {
    for (const auto& alternative : op.security) {
      for (const std::string& name : alternative) {
        auto s = document.security_schemes.find(name);
        if (s == document.security_schemes.end() || s->second.type != "http") continue;
        scheme = s->second.scheme == "basic" ? "Basic" : "Bearer";
      }
    }
    if (scheme.empty() && header == "Authorization") scheme = "Bearer";
  }
  const std::string prefix = scheme.empty() ? "" : scheme + " ";
  std::vector<CredentialVariant> out;
  out.push_back({"no credentials", {}});
  out.push_back(
      {"invalid credentials", {{header, prefix + (scheme == "Basic" ? "Y3B4OmNweA==" : "cpx-invalid-0d1e")}}});
  if (token.size() >= 4) {
    // Cut and changed at both ends: what a tampered or truncated token looks like. The first
    // character changes too, so that a token made of a prefix and a user name ("demo-alice") does
    // not become another valid user's ("demo-alx"); a signed token fails its signature either way.
    std::string garbled = token.substr(0, token.size() - 2);
    garbled.front() = garbled.front() == 'x' ? 'y' : 'x';
    garbled.back() = garbled.back() == 'x' ? 'y' : 'x';
    out.push_back({"garbled credentials", {{header, prefix + garbled}}});
  }
  out.push_back({"empty credentials", {{header, prefix}}});
  return out;
}

std::string request_target(std::string_view bytes) {
  const auto sp1 = bytes.find(' ');
  const auto sp2 = bytes.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return "";
  return std::string(bytes.substr(sp1 + 1, sp2 - sp1 - 1));
}

std::string with_target(std::string_view bytes, std::string_view target) {
  const auto sp1 = bytes.find(' ');
  const auto sp2 = bytes.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos) return std::string(bytes);
  return std::string(bytes.substr(0, sp1 + 1)) + std::string(target) + std::string(bytes.substr(sp2));
}

std::string with_method(std::string_view bytes, std::string_view method) {
  const auto sp1 = bytes.find(' ');
  if (sp1 == std::string_view::npos) return std::string(bytes);
  return std::string(method) + std::string(bytes.substr(sp1));
}

std::string with_header(std::string_view bytes, std::string_view name, std::string_view value) {
  const auto eol = bytes.find("\r\n");
  if (eol == std::string_view::npos) return std::string(bytes);
  return std::string(bytes.substr(0, eol + 2)) + std::string(name) + ": " + std::string(value) + "\r\n" +
         std::string(bytes.substr(eol + 2));
}

std::vector<BypassVariant> bypass_variants(std::string_view bytes, std::string_view method) {
  const std::string target = request_target(bytes);
  if (target.empty() || target.front() != '/') return {};
  auto [path, query] = split_target(target);
  std::vector<BypassVariant> out;
  out.push_back({"/%2e/ prefix", with_target(bytes, "/%2e" + path + query), std::nullopt});
  out.push_back({"double slash", with_target(bytes, "/" + path + query), std::nullopt});
  if (path.size() > 1) {
    out.push_back({"/./ suffix", with_target(bytes, path + "/./" + query), std::nullopt});
    out.push_back({"trailing slash", with_target(bytes, path + "/" + query), std::nullopt});
    out.push_back({"; suffix", with_target(bytes, path + ";" + query), std::nullopt});
    const std::string root = with_target(bytes, "/");
    out.push_back({"X-Original-URL", with_header(root, "X-Original-URL", target), root});
    out.push_back({"X-Rewrite-URL", with_header(root, "X-Rewrite-URL", target), root});
  }
  out.push_back({"X-Forwarded-For: 127.0.0.1", with_header(bytes, "X-Forwarded-For", "127.0.0.1"), std::nullopt});
  // A check bound to the method can miss the method a framework takes from this header.
  const std::string other = method == "GET" ? "POST" : "GET";
  out.push_back({"X-HTTP-Method-Override", with_header(with_method(bytes, other), "X-HTTP-Method-Override", method),
                 std::nullopt});
  return out;
}

}  // namespace chaosplus::security
