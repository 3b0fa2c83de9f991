#include "etcd/client.h"

#include <cmath>

#include "etcd/client_impl.h"
#include "etcd/wire.h"

namespace chaosplus::etcd {
namespace {

using nlohmann::json;

std::string lease_name(std::int64_t lease) { return "lease " + std::to_string(lease); }

// The int64 fields the gateway reads also as strings; sent as strings, as it writes them.
std::string as_text(std::int64_t value) { return std::to_string(value); }

json put_request(const std::string& key, const std::string& value, std::int64_t lease) {
  json put = {{"key", wire::base64_encode(key)}, {"value", wire::base64_encode(value)}};
  if (lease != 0) put["lease"] = as_text(lease);
  return put;
}

Result<std::vector<KeyValue>> key_values(const json& answer) {
  std::vector<KeyValue> out;
  auto it = answer.find("kvs");
  if (it == answer.end()) return out;
  for (const auto& kv : *it) {
    auto parsed = wire::parse_key_value(kv);
    if (!parsed) return parsed.failure();
    out.push_back(std::move(*parsed));
  }
  return out;
}

std::int64_t header_revision(const json& answer) {
  auto it = answer.find("header");
  return it == answer.end() ? 0 : wire::int64_field(*it, "revision");
}

}  // namespace

Result<std::unique_ptr<Client>> Client::connect(Options options) {
  if (options.endpoints.empty()) return Error{"etcd: no endpoints given", ErrorCode::invalid_argument};
  for (const auto& endpoint : options.endpoints) {
    if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://"))
      return Error{"etcd endpoint \"" + endpoint + "\": expected http://HOST:PORT or https://HOST:PORT",
                   ErrorCode::invalid_argument};
  }
  if (options.cert_file.empty() != options.key_file.empty())
    return Error{"etcd: a client certificate needs both cert_file and key_file", ErrorCode::invalid_argument};
  if (options.request_timeout <= Duration::zero())
    return Error{"etcd: request_timeout must be positive", ErrorCode::invalid_argument};
  transport::init_curl();
  auto impl = std::make_unique<Impl>();
  impl->core = std::make_shared<Core>(std::move(options));
  if (auto authenticated = impl->core->authenticate(); !authenticated) return authenticated.failure();
  if (auto status = impl->core->call("/v3/maintenance/status", json::object()); !status) return status.failure();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

const Options& Client::options() const { return impl_->core->options(); }

Result<std::int64_t> Client::put(const std::string& key, const std::string& value, std::int64_t lease) {
  const std::string encoded = wire::base64_encode(key);
  // After an attempt that may have been applied unanswered, the retry writes only if the key does
  // not already hold this value under this lease (else it reports the write that is there), so a
  // failover does not show watchers the same write twice.
  const json guarded = {
      {"compare",
       json::array({{{"key", encoded}, {"target", "VALUE"}, {"result", "EQUAL"}, {"value", wire::base64_encode(value)}},
                    {{"key", encoded}, {"target", "LEASE"}, {"result", "EQUAL"}, {"lease", as_text(lease)}}})},
      {"success", json::array({{{"request_range", {{"key", encoded}}}}})},
      {"failure", json::array({{{"request_put", put_request(key, value, lease)}}})},
  };
  CallOptions how;
  how.retry_txn = &guarded;
  auto answer = impl_->core->call("/v3/kv/put", put_request(key, value, lease), how);
  if (!answer) return answer.failure();
  if (answer->value("succeeded", false)) {
    const auto& responses = answer->value("responses", json::array());
    auto found = responses.empty() ? Result<std::vector<KeyValue>>(std::vector<KeyValue>{})
                                   : key_values(responses[0].value("response_range", json::object()));
    if (found && found->size() == 1) return (*found)[0].mod_revision;
  }
  return header_revision(*answer);
}

Result<bool> Client::put_if_absent(const std::string& key, const std::string& value, std::int64_t lease) {
  const std::string encoded = wire::base64_encode(key);
  json txn = {
      {"compare",
       json::array({{{"key", encoded}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}}})},
      {"success", json::array({{{"request_put", put_request(key, value, lease)}}})},
      {"failure", json::array({{{"request_range", {{"key", encoded}}}}})},
  };
  bool ambiguous = false;
  CallOptions how;
  how.ambiguous = &ambiguous;
  auto answer = impl_->core->call("/v3/kv/txn", txn, how);
  if (!answer) return answer.failure();
  if (answer->value("succeeded", false)) return true;
  // An attempt that timed out on one member may have written the key before the retry on another
  // found it: a key holding exactly our value under our lease is our own write.
  if (ambiguous && lease != 0) {
    const auto& responses = answer->value("responses", json::array());
    if (!responses.empty()) {
      auto found = key_values(responses[0].value("response_range", json::object()));
      if (found && found->size() == 1 && (*found)[0].value == value && (*found)[0].lease == lease) return true;
    }
  }
  return false;
}

Result<std::optional<KeyValue>> Client::get(const std::string& key) {
  auto answer = impl_->core->call("/v3/kv/range", {{"key", wire::base64_encode(key)}});
  if (!answer) return answer.failure();
  auto kvs = key_values(*answer);
  if (!kvs) return kvs.failure();
  if (kvs->empty()) return std::optional<KeyValue>{};
  return std::optional<KeyValue>{std::move(kvs->front())};
}

Result<std::vector<KeyValue>> Client::get_prefix(const std::string& prefix, std::int64_t* revision) {
  auto answer = impl_->core->call("/v3/kv/range", {{"key", wire::base64_encode(prefix)},
                                                   {"range_end", wire::base64_encode(wire::prefix_range_end(prefix))}});
  if (!answer) return answer.failure();
  if (revision != nullptr) *revision = header_revision(*answer);
  return key_values(*answer);
}

Status Client::erase(const std::string& key) {
  auto answer = impl_->core->call("/v3/kv/deleterange", {{"key", wire::base64_encode(key)}});
  if (!answer) return answer.failure();
  return ok_status();
}

Status Client::erase_prefix(const std::string& prefix) {
  auto answer = impl_->core->call(
      "/v3/kv/deleterange",
      {{"key", wire::base64_encode(prefix)}, {"range_end", wire::base64_encode(wire::prefix_range_end(prefix))}});
  if (!answer) return answer.failure();
  return ok_status();
}

Result<std::int64_t> Client::grant_lease(Duration ttl) {
  const auto seconds =
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(std::chrono::duration<double>(ttl).count())));
  auto answer = impl_->core->call("/v3/lease/grant", {{"TTL", as_text(seconds)}});
  if (!answer) return answer.failure();
  if (auto error = answer->value("error", std::string{}); !error.empty())
    return Error{"etcd lease grant: " + error, ErrorCode::unknown};
  const auto id = wire::int64_field(*answer, "ID");
  if (id == 0) return Error{"etcd lease grant: the answer has no ID: " + answer->dump(), ErrorCode::internal};
  return id;
}

Result<Duration> Client::keep_alive(std::int64_t lease) { return lease_keep_alive(*impl_->core, lease, {}); }

Result<Duration> lease_keep_alive(Core& core, std::int64_t lease, const CallOptions& how) {
  auto answer = core.call("/v3/lease/keepalive", {{"ID", as_text(lease)}}, how);
  if (!answer) return answer.failure();
  // A streamed call: its answer is {"result": LeaseKeepAliveResponse}; a lease etcd does not know
  // comes back with no TTL (0, left out).
  const auto& result = answer->contains("result") ? (*answer)["result"] : *answer;
  const auto ttl = wire::int64_field(result, "TTL");
  if (ttl <= 0) return Error{"etcd: " + lease_name(lease) + " not found (expired or revoked)", ErrorCode::not_found};
  return std::chrono::duration_cast<Duration>(std::chrono::seconds(ttl));
}

Result<std::optional<Duration>> Client::lease_remaining(std::int64_t lease) {
  auto answer = impl_->core->call("/v3/lease/timetolive", {{"ID", as_text(lease)}});
  if (!answer) return answer.failure();
  const auto ttl = wire::int64_field(*answer, "TTL");
  if (ttl < 0) return std::optional<Duration>{};  // -1: no such lease
  return std::optional<Duration>{std::chrono::duration_cast<Duration>(std::chrono::seconds(ttl))};
}

Status Client::revoke_lease(std::int64_t lease) {
  auto answer = impl_->core->call("/v3/lease/revoke", {{"ID", as_text(lease)}});
  if (!answer) return answer.failure();
  return ok_status();
}

std::unique_ptr<Watch> Client::watch_prefix(const std::string& prefix, std::int64_t start_revision, OnEvents on_events,
                                            OnError on_error) {
  return start_watch(impl_->core, prefix, start_revision, std::move(on_events), std::move(on_error));
}

}  // namespace chaosplus::etcd
