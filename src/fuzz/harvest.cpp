#include "fuzz/harvest.h"

#include <algorithm>
#include <cctype>

#include "fuzz/binding.h"
#include "fuzz/encoding.h"

namespace chaosplus::fuzz {
namespace {

// Values longer than this are not ids nor names worth feeding back.
constexpr std::size_t kMaxValueBytes = 256;
constexpr std::size_t kItemsHarvested = 8;  // of a list in a body

bool is_lower(char c) { return std::islower(static_cast<unsigned char>(c)) != 0; }

// "id", "ID", "uuid", "orderId", "order_id", "order-id": the names that carry an identifier. A
// lower-case word that merely ends in "id" ("paid", "valid") does not.
std::optional<std::string> id_owner(std::string_view field) {
  const std::string n = normalize_name(field);
  if (n == "id" || n == "uuid" || n == "guid") return std::string();
  if (field.size() > 3) {
    const std::string_view tail = field.substr(field.size() - 3);
    if (tail == "_id" || tail == "-id" || tail == "_ID" || tail == "-ID")
      return normalize_name(field.substr(0, field.size() - 3));
  }
  if (field.size() > 2) {
    const std::string_view tail = field.substr(field.size() - 2);
    if ((tail == "Id" || tail == "ID") && is_lower(field[field.size() - 3]))
      return normalize_name(field.substr(0, field.size() - 2));
  }
  return std::nullopt;
}

bool worth_keeping(const Json& value) {
  if (value.is_string())
    return !value.get_ref<const std::string&>().empty() && value.get_ref<const std::string&>().size() <= kMaxValueBytes;
  return value.is_number_integer() || value.is_number_unsigned();
}

Json typed_like(const std::string& text) {
  // An id read from a path is text; as a number when it is one, so integer parameters take it.
  if (!text.empty() && text.size() < 19 &&
      std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return Json(std::stoll(text));
  return Json(text);
}

const Json* json_pointer_get(const Json& json, std::string_view pointer) {
  if (pointer.empty()) return &json;
  try {
    const Json::json_pointer p{std::string(pointer)};
    if (!json.contains(p)) return nullptr;
    return &json.at(p);
  } catch (const Json::exception&) {
    return nullptr;
  }
}

// A JSON pointer's reference token: "~" -> "~0", "/" -> "~1".
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

}  // namespace

std::string normalize_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    if (c == '_' || c == '-' || c == '.' || c == ' ') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string singular(std::string_view word) {
  std::string w = normalize_name(word);
  if (w.size() > 3 && w.ends_with("ies")) return w.substr(0, w.size() - 3) + "y";
  if (w.size() > 4 && (w.ends_with("sses") || w.ends_with("xes") || w.ends_with("ches") || w.ends_with("shes")))
    return w.substr(0, w.size() - 2);
  if (w.size() > 1 && w.ends_with('s') && !w.ends_with("ss")) return w.substr(0, w.size() - 1);
  return w;
}

std::string resource_of(std::string_view path_template) {
  const auto parts = segments(path_template);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    if (!is_param_segment(*it)) return singular(*it);
  }
  return {};
}

std::string field_key(std::string_view resource, std::string_view field) {
  if (auto owner = id_owner(field)) return (owner->empty() ? std::string(resource) : singular(*owner)) + ".id";
  return normalize_name(field);
}

std::string param_key(std::string_view path_template, std::string_view param) {
  const auto parts = segments(path_template);
  const std::string wanted = "{" + std::string(param) + "}";
  std::string resource;
  for (auto part : parts) {
    if (part == wanted) break;
    if (!is_param_segment(part)) resource = singular(part);
  }
  const std::string n = normalize_name(param);
  if (!resource.empty() && (n == "id" || n == resource + "id" || n == "uuid")) return resource + ".id";
  return field_key(resource, param);
}

std::optional<std::map<std::string, std::string>> match_path(std::string_view path_template, std::string_view path) {
  const auto want = segments(path_template);
  const auto have = segments(path);
  if (want.size() != have.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (is_param_segment(want[i])) {
      params[std::string(want[i].substr(1, want[i].size() - 2))] = net::percent_decode(have[i]);
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return params;
}

std::optional<Json> evaluate_expression(std::string_view expression, const RequestCase& request,
                                        const net::Response& response) {
  std::string_view e = expression;
  if (e.size() >= 2 && e.front() == '{' && e.back() == '}') e = e.substr(1, e.size() - 2);
  if (!e.starts_with('$')) return Json(std::string(expression));  // a constant
  if (e == "$statusCode") return Json(response.status);
  if (e == "$method") return Json(request.method);
  if (e.starts_with("$response.header.")) {
    const std::string_view name = e.substr(17);
    if (!response.has_header(name)) return std::nullopt;
    return Json(std::string(response.header(name)));
  }
  if (e.starts_with("$response.body")) {
    const std::string_view rest = e.substr(14);
    if (!rest.empty() && !rest.starts_with('#')) return std::nullopt;
    const Json body = Json::parse(response.body, nullptr, false);
    if (body.is_discarded()) return std::nullopt;
    const Json* value = json_pointer_get(body, rest.empty() ? std::string_view() : rest.substr(1));
    if (value == nullptr) return std::nullopt;
    return *value;
  }
  if (e.starts_with("$request.path.")) {
    const auto it = request.path_params.find(std::string(e.substr(14)));
    if (it == request.path_params.end()) return std::nullopt;
    return it->second;
  }
  if (e.starts_with("$request.query.")) {
    const std::string_view name = e.substr(15);
    for (const auto& [n, v] : request.query) {
      if (n == name) return v;
    }
    return std::nullopt;
  }
  if (e.starts_with("$request.body")) {
    if (!request.body) return std::nullopt;
    const std::string_view rest = e.substr(13);
    const Json* value = json_pointer_get(*request.body, rest.starts_with('#') ? rest.substr(1) : std::string_view());
    if (value == nullptr) return std::nullopt;
    return *value;
  }
  return std::nullopt;
}

void Harvest::add(const std::string& key, Json value, std::shared_ptr<const std::string> producer, Provenance from) {
  if (key.empty() || !worth_keeping(value)) return;
  // The request named it in its path (GET /orders/3 answering {"id": 3}): it did not make it, so
  // it is no reproducer's set-up.
  if (producer && named_ != nullptr &&
      std::any_of(named_->begin(), named_->end(), [&](const auto& p) { return p.second == value; })) {
    producer = nullptr;
    from = {};
  }
  Slot& slot = slots_[key];
  for (HarvestedValue& known : slot.values) {
    if (known.value == value) {
      if (producer) {  // the newest creation of it
        known.producer = std::move(producer);
        known.from = std::move(from);
      }
      return;
    }
  }
  if (slot.values.size() < kPerKey) {
    slot.values.push_back({std::move(value), std::move(producer), std::move(from)});
    ++size_;
    return;
  }
  remember(key, std::move(slot.values[slot.next]));
  slot.values[slot.next] = {std::move(value), std::move(producer), std::move(from)};
  slot.next = (slot.next + 1) % kPerKey;
}

const HarvestedValue* Harvest::pick(const std::string& key, Rng& rng) const {
  const auto it = slots_.find(key);
  if (it == slots_.end() || it->second.values.empty()) return nullptr;
  return &it->second.values[rng.below(it->second.values.size())];
}

const HarvestedValue* Harvest::find(const std::string& key, const Json& value) const {
  const auto it = slots_.find(key);
  if (it == slots_.end()) return nullptr;
  for (const HarvestedValue& v : it->second.values) {
    if (v.value == value) return &v;
  }
  return nullptr;
}

void Harvest::remember(const std::string& key, HarvestedValue value) {
  if (!value.producer || value.from.source.empty()) return;
  if (gone_.size() >= kRemembered) gone_.pop_front();
  gone_.emplace_back(key, std::move(value));
}

void Harvest::forget(const std::string& key, const Json& value) {
  const auto it = slots_.find(key);
  if (it == slots_.end()) return;
  auto& values = it->second.values;
  const auto before = values.size();
  for (const HarvestedValue& v : values) {
    if (v.value == value) remember(key, v);
  }
  values.erase(std::remove_if(values.begin(), values.end(), [&](const HarvestedValue& v) { return v.value == value; }),
               values.end());
  size_ -= before - values.size();
  if (it->second.next >= values.size()) it->second.next = 0;
}

std::size_t Harvest::size() const { return size_; }

void Harvest::harvest_json(const Json& json, const std::string& resource, int depth,
                           const std::shared_ptr<const std::string>& producer, const std::string& pointer) {
  if (depth > 2) return;
  if (json.is_array()) {
    for (std::size_t i = 0; i < json.size() && i < kItemsHarvested; ++i)
      harvest_json(json[i], resource, depth + 1, producer, pointer + "/" + std::to_string(i));
    return;
  }
  if (!json.is_object()) return;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const Json& v = *it;
    if (v.is_object() || v.is_array()) {
      // {"items": [{"id": 3}]} is about items; {"data": {...}} still about the resource.
      const std::string inner = singular(it.key());
      const bool wrapper = inner == "data" || inner == "result" || inner == "item" || inner == "content";
      harvest_json(v, wrapper && it.key() != "items" ? resource : inner, depth + 1, producer,
                   pointer + "/" + pointer_token(it.key()));
      continue;
    }
    const std::string key = field_key(resource, it.key());
    if (worth_keeping(v)) add(key, v, producer, {"body:" + pointer + "/" + pointer_token(it.key()), {}, {}});
  }
}

std::vector<LinkFollowUp> Harvest::harvest(const openapi::Document& document, const openapi::Operation& operation,
                                           const RequestCase& request, const net::Response& response,
                                           std::string_view base_path,
                                           const std::shared_ptr<const std::string>& producer) {
  std::vector<LinkFollowUp> follow_ups;
  const std::string resource = resource_of(operation.path);
  // Values the request itself named exist (they were just answered with 2xx).
  for (const auto& [name, value] : request.path_params) add(param_key(operation.path, name), value, nullptr);
  named_ = &request.path_params;
  const std::string_view type = response.header("Content-Type");
  if (!response.body.empty() && type.find("json") != std::string_view::npos) {
    const Json body = Json::parse(response.body, nullptr, false);
    if (!body.is_discarded()) harvest_json(body, resource, 0, producer, "");
  }
  if (response.has_header("Location")) {
    std::string path(location_path(response.header("Location")));
    if (!base_path.empty() && base_path != "/" && path.starts_with(base_path)) path = path.substr(base_path.size());
    bool matched = false;
    for (const openapi::Operation& op : document.operations) {
      auto params = match_path(op.path, path);
      if (!params || params->empty()) continue;
      matched = true;
      for (const auto& [name, text] : *params)
        add(param_key(op.path, name), typed_like(text), producer, {"header:Location", op.path, name});
    }
    if (!matched) {
      const auto parts = segments(path);
      if (parts.size() >= 2)
        add(singular(parts[parts.size() - 2]) + ".id", typed_like(std::string(parts.back())), producer,
            {"header:Location", "/" + std::string(parts[parts.size() - 2]) + "/{id}", "id"});
    }
  }
  if (const openapi::ResponseSpec* spec = operation.response_for(response.status)) {
    for (const openapi::Link& link : spec->links) {
      const openapi::Operation* target = document.find(link.operation_id);
      if (target == nullptr) continue;
      LinkFollowUp follow_up{target->id, {}};
      for (const auto& [name, expression] : link.parameters) {
        auto value = evaluate_expression(expression, request, response);
        if (!value) continue;
        const bool in_path = std::any_of(target->parameters.begin(), target->parameters.end(), [&](const auto& p) {
          return p.name == name && p.in == openapi::ParameterIn::path;
        });
        // A value read from the answer's body can be read again at replay; other expressions cannot.
        Provenance from;
        std::string_view e = expression;
        if (e.starts_with("{$") && e.ends_with('}')) e = e.substr(1, e.size() - 2);
        if (e.starts_with("$response.body#")) from.source = "body:" + std::string(e.substr(15));
        add(in_path ? param_key(target->path, name) : normalize_name(name), *value, producer, std::move(from));
        follow_up.parameters[name] = std::move(*value);
      }
      if (!follow_up.parameters.empty()) follow_ups.push_back(std::move(follow_up));
    }
  }
  named_ = nullptr;
  return follow_ups;
}

ValueSource Harvest::source(const openapi::Operation& operation) const {
  return [this, path = operation.path, resource = resource_of(operation.path)](const ValueSlot& slot,
                                                                               Rng& rng) -> std::optional<Json> {
    const HarvestedValue* known = nullptr;
    if (slot.in == "path") {
      if (rng.chance(0.15)) return std::nullopt;
      known = pick(param_key(path, slot.name), rng);
    } else if (slot.in == "query" || slot.in == "cookie" || slot.in == "header") {
      known = pick(field_key(resource, slot.name), rng);
    } else if (slot.in == "body" && id_owner(slot.name)) {
      known = pick(field_key(resource, slot.name), rng);
    }
    if (known == nullptr) return std::nullopt;
    // Keep the documented type: an integer parameter does not take a string id.
    const auto types = slot.schema != nullptr ? schema_types(*slot.schema) : std::vector<std::string>{};
    const bool integer = known->value.is_number_integer() || known->value.is_number_unsigned();
    const bool fits =
        types.empty() || std::any_of(types.begin(), types.end(), [&](const std::string& t) {
          return (t == "string" && known->value.is_string()) || ((t == "integer" || t == "number") && integer);
        });
    if (!fits) return std::nullopt;
    return known->value;
  };
}

void Harvest::bind(const openapi::Operation& operation, Finding& finding) const {
  for (const auto& [name, value] : finding.request.path_params) {
    if (value.is_object() || value.is_array()) continue;
    const std::string key = param_key(operation.path, name);
    const HarvestedValue* known = find(key, value);
    if (known == nullptr || !known->producer) {
      // Pushed out by newer values (or named since by a request that did not make it): what made it is remembered.
      const auto it = std::find_if(gone_.rbegin(), gone_.rend(), [&](const auto& g) {
        return g.first == key && g.second.value == value && g.second.producer;
      });
      known = it == gone_.rend() ? nullptr : &it->second;
    }
    if (known == nullptr || !known->producer || known->from.source.empty()) continue;
    if (*known->producer == finding.raw_request) continue;
    // As the request's path carries it (request_case.cpp path_value); only a value the path shows is bound.
    const std::string placeholder = percent_encode(scalar_text(value), PercentMode::path_segment);
    std::string probe = finding.raw_request;
    if (substitute_path(probe, placeholder, placeholder) == 0) continue;
    const bool already = std::any_of(finding.bindings.begin(), finding.bindings.end(),
                                     [&](const Binding& b) { return b.placeholder == placeholder; });
    if (already) continue;
    auto& setup = finding.setup_requests;
    const auto at = std::find(setup.begin(), setup.end(), *known->producer);
    std::size_t index = 0;
    if (at != setup.end()) {
      index = static_cast<std::size_t>(at - setup.begin());
    } else {
      setup.insert(setup.begin(), *known->producer);
      for (Binding& b : finding.bindings) ++b.setup_index;
    }
    finding.bindings.push_back({index, known->from.source, known->from.path_template, known->from.param, placeholder});
  }
}

}  // namespace chaosplus::fuzz
