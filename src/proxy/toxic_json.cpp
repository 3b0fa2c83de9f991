#include "proxy/toxic_json.h"

namespace chaosplus::proxy {

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
