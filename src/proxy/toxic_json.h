#pragma once
// A toxic as the Toxiproxy API shows it ({name, type, stream, toxicity, attributes}): the API's
// answers and the state the API process sends its workers use the same shape. Private to the proxy
// module (it names nlohmann's json type).
#include <nlohmann/json.hpp>

#include "proxy/toxic.h"

namespace chaosplus::proxy {

nlohmann::json toxic_to_json(const ToxicSpec& toxic);

}  // namespace chaosplus::proxy
