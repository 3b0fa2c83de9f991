#include "fuzz/generator.h"

#include <algorithm>
#include <cctype>

#include "fuzz/encoding.h"

namespace chaosplus::fuzz {
namespace {

std::string normalized(std::string_view name) {
  std::string out;
  for (char c : name)
    if (c != '_' && c != '-' && c != '.') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

const char* in_name(openapi::ParameterIn in) {
  switch (in) {
    case openapi::ParameterIn::path: return "path";
    case openapi::ParameterIn::query: return "query";
    case openapi::ParameterIn::header: return "header";
    case openapi::ParameterIn::cookie: return "cookie";
  }
  return "query";
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// OpenAPI: header parameters named Accept, Content-Type or Authorization are ignored (the media
// types and security schemes say those).
bool ignored(const openapi::Parameter& p) {
  return p.in == openapi::ParameterIn::header &&
         (iequals(p.name, "Accept") || iequals(p.name, "Content-Type") || iequals(p.name, "Authorization"));
}

std::string joined(const Json& value, const char* separator) {
  std::string out;
  auto add = [&](const std::string& piece) { out += (out.empty() ? "" : separator) + piece; };
  if (value.is_array()) {
    for (const auto& item : value) add(scalar_text(item));
  } else if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      add(key);
      add(scalar_text(item));
    }
  } else {
    out = scalar_text(value);
  }
  return out;
}

bool writable_media(std::string_view type) {
  return type.find("json") != std::string_view::npos || type == "application/x-www-form-urlencoded" ||
         type == "multipart/form-data" || type == "text/plain";
}

const openapi::Media* choose_media(const openapi::Operation& op, Rng& rng) {
  if (!op.body) return nullptr;
  std::vector<const openapi::Media*> usable;
  for (const auto& media : op.body->content)
    if (writable_media(media.content_type)) usable.push_back(&media);
  if (usable.empty()) return op.body->content.empty() ? nullptr : &op.body->content.front();
  // JSON first when documented: the richest structure to fuzz.
  if (usable.size() > 1 && rng.chance(0.5)) {
    for (const auto* media : usable)
      if (media->content_type.find("json") != std::string::npos) return media;
  }
  return usable[rng.below(usable.size())];
}

// Puts a parameter value in place, written as its style says.
void place(RequestCase& r, const openapi::Parameter& p, const Json& value) {
  switch (p.in) {
    case openapi::ParameterIn::path: r.path_params[p.name] = value; return;
    case openapi::ParameterIn::header: r.headers.emplace_back(p.name, joined(value, ",")); return;
    case openapi::ParameterIn::cookie:
      r.cookies[p.name] = value.is_structured() ? Json(joined(value, ",")) : value;
      return;
    case openapi::ParameterIn::query:
      if (p.style == "deepObject" && value.is_object()) {
        for (const auto& [key, item] : value.items()) r.query.emplace_back(p.name + "[" + key + "]", item);
      } else if (value.is_structured() && p.style == "pipeDelimited") {
        r.query.emplace_back(p.name, joined(value, "|"));
      } else if (value.is_structured() && p.style == "spaceDelimited") {
        r.query.emplace_back(p.name, joined(value, " "));
      } else if (value.is_structured() && !p.explode) {
        r.query.emplace_back(p.name, joined(value, ","));
      } else {
        r.query.emplace_back(p.name, value);  // form, explode: render repeats the name
      }
      return;
  }
}

Json parameter_value(const openapi::Parameter& p, Rng& rng, const ValueSource& source, const ValueLimits& limits) {
  const bool in_path = p.in == openapi::ParameterIn::path;
  if (source && (in_path || rng.chance(0.5))) {
    if (auto known = source(ValueSlot{p.name, in_name(p.in), &p.schema}, rng)) return *known;
  }
  Json value = valid_value(p.schema, rng, p.examples, limits);
  // An empty path segment routes elsewhere: a conforming path value is never empty when it can be helped.
  for (int attempt = 0; in_path && attempt < 4 && value.is_string() && value.get<std::string>().empty(); ++attempt)
    value = valid_value(p.schema, rng, p.examples, limits);
  return value;
}

void fill_body(RequestCase& r, const openapi::Media& media, Rng& rng, const ValueSource& source,
               const ValueLimits& limits) {
  Json body = valid_value(media.schema, rng, media.examples, limits);
  if (source && body.is_object() && media.schema.is_object() && media.schema.contains("properties")) {
    const Json& properties = media.schema["properties"];
    for (auto& [name, value] : body.items()) {
      if (!properties.contains(name) || !rng.chance(0.5)) continue;
      if (auto known = source(ValueSlot{name, "body", &properties[name]}, rng)) value = *known;
    }
  }
  r.body = std::move(body);
  r.body_content_type = media.content_type;
}

}  // namespace

void ValuePool::offer(const std::string& name, Json value) {
  auto& values = values_[normalized(name)];
  values.erase(std::remove(values.begin(), values.end(), value), values.end());
  values.push_back(std::move(value));
  if (values.size() > per_name_) values.erase(values.begin());
}

void ValuePool::forget(const Json& value) {
  for (auto it = values_.begin(); it != values_.end();) {
    auto& values = it->second;
    values.erase(std::remove(values.begin(), values.end(), value), values.end());
    it = values.empty() ? values_.erase(it) : std::next(it);
  }
}

std::optional<Json> ValuePool::pick(const std::string& name, Rng& rng) const {
  auto it = values_.find(normalized(name));
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second[rng.below(it->second.size())];
}

ValueSource ValuePool::source() const {
  return [this](const ValueSlot& slot, Rng& rng) { return pick(slot.name, rng); };
}

RequestCase valid_case(const openapi::Operation& op, Rng& rng, const ValueSource& source, const ValueLimits& limits) {
  RequestCase r;
  r.operation_id = op.id;
  r.method = op.method;
  r.path = op.path;
  for (const auto& p : op.parameters) {
    if (ignored(p)) continue;
    const bool needed = p.required || p.in == openapi::ParameterIn::path;
    if (!needed && !rng.chance(0.5)) continue;
    place(r, p, parameter_value(p, rng, source, limits));
  }
  if (op.body && (op.body->required || rng.chance(0.8))) {
    if (const auto* media = choose_media(op, rng)) fill_body(r, *media, rng, source, limits);
  }
  return r;
}

RequestCase invalid_case(const openapi::Operation& op, Rng& rng, const ValueSource& source, const ValueLimits& limits) {
  RequestCase r;
  r.operation_id = op.id;
  r.method = op.method;
  r.path = op.path;
  r.expect_valid = false;
  // Every parameter present (so that the defect is the only thing wrong), one of them perhaps bent.
  std::vector<const openapi::Parameter*> params;
  for (const auto& p : op.parameters)
    if (!ignored(p)) params.push_back(&p);
  const openapi::Media* media = op.body ? choose_media(op, rng) : nullptr;
  enum Kind { param_edge, param_missing, body_edge, body_missing, body_malformed, body_wrong_type };
  std::vector<Kind> kinds;
  if (!params.empty()) kinds.insert(kinds.end(), {param_edge, param_edge, param_edge});
  if (std::any_of(params.begin(), params.end(), [](const auto* p) { return p->required; }))
    kinds.push_back(param_missing);
  if (media) {
    kinds.insert(kinds.end(), {body_edge, body_edge, body_edge, body_edge, body_malformed, body_wrong_type});
    if (op.body->required) kinds.push_back(body_missing);
  }
  if (kinds.empty()) {  // nothing documented to bend: an undocumented query parameter with a hostile value
    const auto& all = interesting_strings();
    const auto& pick = all[rng.below(all.size())];
    r.query.emplace_back("chaosplus", pick.text);
    r.mutation = "query.chaosplus: undocumented parameter, " + pick.label;
    r.expect_valid = true;
    return r;
  }
  const Kind kind = kinds[rng.below(kinds.size())];
  const openapi::Parameter* target = nullptr;
  if (kind == param_edge) target = params[rng.below(params.size())];
  if (kind == param_missing) {
    std::vector<const openapi::Parameter*> required;
    for (const auto* p : params)
      if (p->required) required.push_back(p);
    target = required[rng.below(required.size())];
  }
  for (const auto* p : params) {
    if (p == target && kind == param_missing) {
      r.mutation = std::string(in_name(p->in)) + "." + p->name + ": required parameter missing";
      continue;
    }
    if (p == target) {
      EdgeValue edge = edge_value(p->schema, rng, limits);
      r.mutation = std::string(in_name(p->in)) + "." + p->name + ": " + edge.what;
      r.expect_valid = edge.conforms;
      place(r, *p, edge.value);
      continue;
    }
    if (!p->required && p->in != openapi::ParameterIn::path && !rng.chance(0.5)) continue;
    place(r, *p, parameter_value(*p, rng, source, limits));
  }
  if (!media || kind == body_missing) {
    if (kind == body_missing) r.mutation = "body: required body missing";
    return r;
  }
  fill_body(r, *media, rng, source, limits);
  switch (kind) {
    case body_edge: {
      EdgeValue edge = edge_value(media->schema, rng, limits);
      r.body = std::move(edge.value);
      r.mutation = "body." + edge.what;
      if (edge.what.find(": ") == std::string::npos) r.mutation = "body: " + edge.what;
      r.expect_valid = edge.conforms;
      break;
    }
    case body_malformed: {
      std::string text = json_text(*r.body);
      static const char* kHow[] = {"truncated", "trailing garbage", "single quotes", "trailing comma", "empty"};
      const std::size_t how = r.body_content_type.find("json") != std::string::npos ? rng.below(std::size(kHow)) : 4;
      switch (how) {
        case 0: text = text.substr(0, text.size() / 2); break;
        case 1: text += "}]x"; break;
        case 2: std::replace(text.begin(), text.end(), '"', '\''); break;
        case 3:
          text = text.empty() || (text.back() != '}' && text.back() != ']') ? text + ","
                                                                            : text.insert(text.size() - 1, ",");
          break;
        default: text.clear();
      }
      r.raw_body = std::move(text);
      r.mutation = std::string("body: malformed (") + kHow[how] + ")";
      break;
    }
    case body_wrong_type: {
      static const char* kTypes[] = {"text/plain", "application/xml", "application/octet-stream"};
      const char* type = kTypes[rng.below(std::size(kTypes))];
      for (const auto& documented : op.body->content)
        if (documented.content_type == type) type = "application/x-chaosplus";
      r.raw_body = json_text(*r.body);
      r.body_content_type = type;
      r.mutation = std::string("body: Content-Type ") + type + " not documented";
      break;
    }
    default: break;
  }
  return r;
}

}  // namespace chaosplus::fuzz
