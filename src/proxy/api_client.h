#pragma once
// A small client for the proxy's control API, used by the runner to drive a proxy server.
// Every call is bounded by the client's timeout.
#include <map>
#include <string>

#include "core/result.h"
#include "core/units.h"
#include "proxy/toxic.h"
#include "proxy/toxic_counters.h"

namespace chaosplus::proxy {

class ApiClient {
 public:
  // `base_url` like "http://127.0.0.1:8474"; `token` is sent as a bearer token when non-empty.
  explicit ApiClient(std::string base_url, std::string token = {}, Duration timeout = std::chrono::seconds(3));

  Status create_proxy(const std::string& name, const std::string& listen, const std::string& upstream);
  Status delete_proxy(const std::string& name);  // 404 counts as done (idempotent)
  // Attributes are whole numbers in Toxiproxy (ms, KB/s, bytes): values are rounded to the nearest.
  Status add_toxic(const std::string& proxy, const std::string& toxic_name, const std::string& type,
                   const std::string& stream, double toxicity, const std::map<std::string, double>& attributes);
  // Any toxic, HTTP toxics included (their attributes hold text); `toxic` comes from make_toxic,
  // so it was checked before it travels.
  Status add_toxic(const std::string& proxy, const ToxicSpec& toxic);
  Status remove_toxic(const std::string& proxy, const std::string& toxic_name);  // 404 counts as done
  // A new toxicity for a live toxic; 0 stops it from acting on anything new.
  Status set_toxicity(const std::string& proxy, const std::string& toxic_name, double toxicity);
  // What the toxic touched so far (GET .../toxics/{toxic}/stats, summed over the proxy's processes).
  Result<ToxicCounters> toxic_stats(const std::string& proxy, const std::string& toxic_name);
  Status set_enabled(const std::string& proxy, bool enabled);
  Result<std::string> get_proxies_json();

 private:
  // Sends one request; 2xx (and 404 if `missing_ok`) is success, anything else an error that
  // carries the server's reason.
  Result<std::string> send(const std::string& method, const std::string& path, std::string body,
                           bool missing_ok = false);

  std::string base_url_;
  std::string token_;
  Duration timeout_;
};

}  // namespace chaosplus::proxy
