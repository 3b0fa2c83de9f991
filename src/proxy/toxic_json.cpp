#include "proxy/toxic_json.h"

namespace chaosplus::proxy {

namespace {

// The counters by name, in the order the API shows them.
template <typename Counters, typename Visit>
void each_counter(Counters& c, Visit visit) {
  visit("connections", c.connections);
  visit("connections_skipped", c.connections_skipped);
  visit("requests", c.requests);
  visit("requests_skipped", c.requests_skipped);
  visit("bytes", c.bytes);
}

}  // namespace

nlohmann::json counters_to_json(const ToxicCounters& counters) {
  nlohmann::json out = nlohmann::json::object();
  each_counter(counters, [&](const char* key, std::uint64_t value) { out[key] = value; });
  return out;
}

Result<ToxicCounters> counters_from_json(const nlohmann::json& json) {
  if (!json.is_object()) return Error{"toxic stats: expected a JSON object, got " + json.dump()};
  ToxicCounters out;
  std::string missing;
  each_counter(out, [&](const char* key, std::uint64_t& value) {
    auto it = json.find(key);
    if (it == json.end() || !it->is_number_unsigned()) {
      missing += (missing.empty() ? "" : ", ") + std::string(key);
      return;
    }
    value = it->get<std::uint64_t>();
  });
  if (!missing.empty()) return Error{"toxic stats: missing or not a whole number >= 0: " + missing};
  return out;
}

nlohmann::json toxic_to_json(const ToxicSpec& toxic) {
  nlohmann::json attributes = nlohmann::json::object();
  for (const auto& [key, value] : toxic.attributes) {
    if (value.is_number()) {
      attributes[key] = value.number();
    } else {
      attributes[key] = value.text();
    }
  }
  return {{"name", toxic.name},
          {"type", std::string(to_string(toxic.type))},
          {"stream", std::string(to_string(toxic.stream))},
          {"toxicity", toxic.toxicity},
          {"attributes", attributes}};
}

}  // namespace chaosplus::proxy
