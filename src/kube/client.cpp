#include "kube/client.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "kube/transfer.h"

namespace chaosplus::kube {

namespace {

// Names in paths are DNS labels or subdomains; escaping keeps a stray '/' or '?' from changing the
// request.
std::string segment(const std::string& name) { return query_escape(name); }

// One call: plan, send, and turn a non-2xx answer into a typed error.
ApiResult<std::pair<TransferPlan, HttpAnswer>> call(const Config& config, const std::string& method,
                                                    const std::string& path, std::string body = {}) {
  auto plan = plan_transfer(config, method, path, std::move(body));
  if (!plan) return plan.failure();
  auto answer = perform(*plan);
  if (!answer) return answer.failure();
  if (answer->status < 200 || answer->status > 299) return error_from_answer(*plan, *answer);
  return std::pair{std::move(*plan), std::move(*answer)};
}

template <typename T>
ApiResult<T> decoded(const std::pair<TransferPlan, HttpAnswer>& exchange, const Result<T>& object) {
  if (object) return *object;
  const auto& plan = exchange.first;
  return ApiError{Failure::bad_answer, exchange.second.status, "", plan.url, plan.method + " " + object.error()};
}

ApiError nameless(const std::string& method, const std::string& url) {
  return ApiError{Failure::refused, 0, "", url, method + " " + url + ": the Lease has no metadata.name"};
}

std::string with_selector(std::string path, const std::string& label_selector) {
  if (!label_selector.empty()) path += "?labelSelector=" + query_escape(label_selector);
  return path;
}

}  // namespace

std::string lease_path(const std::string& namespace_, const std::string& name) {
  std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + segment(namespace_) + "/leases";
  if (!name.empty()) path += "/" + segment(name);
  return path;
}

ApiResult<Client> Client::create(Config config) {
  if (auto checked = check_server(config.server); !checked)
    return ApiError{Failure::refused, 0, "", config.server, checked.error()};
  if (config.cert_file.empty() != config.key_file.empty())
    return ApiError{Failure::refused, 0, "", config.server,
                    "Kubernetes API server " + config.server +
                        ": a client certificate needs its key, and a key its "
                        "certificate (cert_file and key_file)"};
  return Client(std::move(config));
}

const std::string& Client::namespace_or_default(const std::string& namespace_) const {
  return namespace_.empty() ? config_.namespace_ : namespace_;
}

ApiResult<std::vector<Pod>> Client::list_pods(const std::string& namespace_, const std::string& label_selector) const {
  auto exchange =
      call(config_, "GET",
           with_selector("/api/v1/namespaces/" + segment(namespace_or_default(namespace_)) + "/pods", label_selector));
  if (!exchange) return exchange.failure();
  return decoded(*exchange, pods_from_json(exchange->second.body, exchange->first.url));
}

ApiResult<std::vector<Node>> Client::list_nodes(const std::string& label_selector) const {
  auto exchange = call(config_, "GET", with_selector("/api/v1/nodes", label_selector));
  if (!exchange) return exchange.failure();
  return decoded(*exchange, nodes_from_json(exchange->second.body, exchange->first.url));
}

ApiResult<Lease> Client::get_lease(const std::string& namespace_, const std::string& name) const {
  auto exchange = call(config_, "GET", lease_path(namespace_or_default(namespace_), name));
  if (!exchange) return exchange.failure();
  return decoded(*exchange, lease_from_json(exchange->second.body, exchange->first.url));
}

ApiResult<Lease> Client::create_lease(const Lease& lease) const {
  Lease fresh = lease;
  fresh.namespace_ = namespace_or_default(lease.namespace_);
  // A create sends only our fields: the server assigns resourceVersion, uid and the rest, and
  // refuses a create that carries a resourceVersion.
  fresh.resource_version.clear();
  fresh.served_json.clear();
  if (fresh.name.empty()) return nameless("POST", config_.server + lease_path(fresh.namespace_));
  auto exchange = call(config_, "POST", lease_path(fresh.namespace_), to_json(fresh));
  if (!exchange) return exchange.failure();
  return decoded(*exchange, lease_from_json(exchange->second.body, exchange->first.url));
}

ApiResult<Lease> Client::update_lease(const Lease& lease) const {
  Lease sent = lease;
  sent.namespace_ = namespace_or_default(lease.namespace_);
  if (sent.name.empty()) return nameless("PUT", config_.server + lease_path(sent.namespace_) + "/");
  if (sent.resource_version.empty()) {
    std::string url = config_.server + lease_path(sent.namespace_, sent.name);
    // Without a resourceVersion the PUT would overwrite whatever is there: never what we mean.
    return ApiError{Failure::refused, 0, "", url,
                    "PUT " + url + ": the Lease carries no resourceVersion (read it first, then update)"};
  }
  auto exchange = call(config_, "PUT", lease_path(sent.namespace_, sent.name), to_json(sent));
  if (!exchange) return exchange.failure();
  return decoded(*exchange, lease_from_json(exchange->second.body, exchange->first.url));
}

ApiResult<Ok> Client::delete_lease(const std::string& namespace_, const std::string& name) const {
  auto exchange = call(config_, "DELETE", lease_path(namespace_or_default(namespace_), name));
  if (!exchange) return exchange.failure();
  return Ok{};
}

ApiResult<Lease> Client::modify_lease(const std::string& namespace_, const std::string& name,
                                      const std::function<ApiResult<Ok>(Lease&)>& change, int attempts) const {
  std::optional<ApiError> last;
  for (int attempt = 0; attempt < std::max(attempts, 1); ++attempt) {
    auto lease = get_lease(namespace_, name);
    if (!lease) return lease.failure();
    if (auto changed = change(*lease); !changed) return changed.failure();
    auto written = update_lease(*lease);
    if (written || written.kind() != Failure::conflict) return written;
    last = written.failure();
  }
  ApiError error = *last;
  error.message += " (gave up after " + std::to_string(std::max(attempts, 1)) + " conflicting writes)";
  return error;
}

ApiResult<Lease> Client::renew_lease(const std::string& namespace_, const std::string& name, const std::string& holder,
                                     WallTime now) const {
  return modify_lease(namespace_, name, [&](Lease& lease) -> ApiResult<Ok> {
    if (lease.holder_identity != holder) {
      std::string url = config_.server + lease_path(namespace_or_default(namespace_), name);
      return ApiError{Failure::not_holder, 0, "", url,
                      "Lease " + lease.namespace_ + "/" + name + " is held by \"" + lease.holder_identity +
                          "\", not \"" + holder + "\": not renewed"};
    }
    lease.renew_time = now;
    return Ok{};
  });
}

}  // namespace chaosplus::kube
