#include "proxy/api_metrics.h"

#include <map>

#include "core/prometheus_text.h"

namespace chaosplus::proxy {

std::string proxy_metrics(Engine& engine,
                          const std::function<Result<ToxicCounters>(const std::string&, const std::string&)>& peers) {
  using Type = PrometheusText::Type;
  PrometheusText out;
  const std::vector<ProxyView> proxies = engine.proxies();

  out.family("chaosplus_proxy_proxies", Type::gauge, "proxies configured");
  out.sample(static_cast<double>(proxies.size()));
  out.family("chaosplus_proxy_enabled", Type::gauge, "whether each proxy is enabled (1) or cut off (0)");
  for (const auto& p : proxies)
    out.sample({{"proxy", p.name}, {"listen", p.listen}, {"upstream", p.upstream}}, p.enabled);
  out.family("chaosplus_proxy_active_toxics", Type::gauge, "toxics on each proxy now, by type");
  for (const auto& p : proxies) {
    std::map<std::string, int> by_type;
    for (const auto& t : p.toxics) ++by_type[std::string(to_string(t.type))];
    for (const auto& [type, n] : by_type) out.sample({{"proxy", p.name}, {"type", type}}, n);
  }

  const EngineStats stats = engine.stats();
  out.family("chaosplus_proxy_connections_accepted_total", Type::counter, "client connections accepted since start");
  out.sample(static_cast<double>(stats.accepted));
  out.family("chaosplus_proxy_connections_open", Type::gauge, "client connections open now");
  out.sample(static_cast<double>(stats.open));
  out.family("chaosplus_proxy_spliced_bytes_total", Type::counter,
             "bytes moved with splice(2) (links without a toxic) since start");
  out.sample(static_cast<double>(stats.spliced));
  out.family("chaosplus_proxy_http_toxic_requests_total", Type::counter,
             "requests the HTTP toxics acted on since start, by action");
  out.sample({{"action", "answered"}}, static_cast<double>(stats.http.answered));
  out.sample({{"action", "delayed"}}, static_cast<double>(stats.http.delayed));
  out.sample({{"action", "aborted"}}, static_cast<double>(stats.http.aborted));
  out.family("chaosplus_proxy_http_unframed_connections_total", Type::counter,
             "connections with an HTTP toxic whose traffic stopped being HTTP/1.x");
  out.sample(static_cast<double>(stats.http.unframed));

  // Each toxic's reach, summed over the processes serving it.
  struct Reach {
    std::string proxy, toxic, type;
    ToxicCounters counts;
  };
  std::vector<Reach> reaches;
  for (const auto& p : proxies) {
    for (const auto& t : p.toxics) {
      auto own = engine.toxic_stats(p.name, t.name);
      if (!own.ok()) continue;  // removed meanwhile
      ToxicCounters total = own.value();
      if (peers) {
        auto theirs = peers(p.name, t.name);
        if (!theirs) continue;
        total += *theirs;
      }
      reaches.push_back({p.name, t.name, std::string(to_string(t.type)), total});
    }
  }
  struct Counter {
    const char* name;
    const char* help;
    std::uint64_t ToxicCounters::*field;
  };
  const Counter counters[] = {
      {"chaosplus_proxy_toxic_connections_total", "connections each toxic acted on", &ToxicCounters::connections},
      {"chaosplus_proxy_toxic_connections_skipped_total", "connections that passed each toxic untouched (toxicity)",
       &ToxicCounters::connections_skipped},
      {"chaosplus_proxy_toxic_requests_total", "HTTP requests each toxic acted on", &ToxicCounters::requests},
      {"chaosplus_proxy_toxic_requests_skipped_total", "matching requests that passed each HTTP toxic (toxicity)",
       &ToxicCounters::requests_skipped},
      {"chaosplus_proxy_toxic_bytes_total", "bytes that entered each toxic", &ToxicCounters::bytes},
  };
  for (const auto& c : counters) {
    out.family(c.name, Type::counter, c.help);
    for (const auto& r : reaches) {
      out.sample({{"proxy", r.proxy}, {"toxic", r.toxic}, {"type", r.type}}, static_cast<double>(r.counts.*c.field));
    }
  }
  return out.text();
}

}  // namespace chaosplus::proxy
