#pragma once
// GET /metrics of the fault proxy's API: its proxies, the toxics on each by type, connections and
// bytes, what the HTTP toxics did, and each toxic's reach (toxic_counters.h), in the Prometheus
// text format (core/prometheus_text.h). Names: docs/server.md, "The fault proxy's /metrics".
#include <functional>
#include <string>

#include "core/result.h"
#include "proxy/engine.h"

namespace chaosplus::proxy {

// `peers`: the counts of other processes serving the same proxies (ControlApi::PeerStats); may be
// empty. A toxic whose peers' counts are missing is left out rather than shown short.
std::string proxy_metrics(Engine& engine,
                          const std::function<Result<ToxicCounters>(const std::string&, const std::string&)>& peers);

}  // namespace chaosplus::proxy
