#pragma once
// A toxic as the Toxiproxy API shows it ({name, type, stream, toxicity, attributes}): the API's
// answers and the state the API process sends its workers use the same shape. Private to the proxy
// module (it names nlohmann's json type).
#include <nlohmann/json.hpp>

#include "core/result.h"
#include "proxy/toxic.h"
#include "proxy/toxic_counters.h"

namespace chaosplus::proxy {

nlohmann::json toxic_to_json(const ToxicSpec& toxic);

// A toxic's counters as GET /proxies/{proxy}/toxics/{toxic}/stats shows them:
// {"connections", "connections_skipped", "requests", "requests_skipped", "bytes"}.
nlohmann::json counters_to_json(const ToxicCounters& counters);
// Reads them back; every field must be there, a whole number >= 0.
Result<ToxicCounters> counters_from_json(const nlohmann::json& json);

}  // namespace chaosplus::proxy
