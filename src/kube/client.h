#pragma once
// A client of the Kubernetes API over libcurl, for the few calls chaosplus would need on a cluster
// (docs/kubernetes.md): pods by label selector (targets), nodes, and coordination.k8s.io/v1 Leases
// (the run's dead-man switch and the agents' registrations), with optimistic concurrency on updates.
//
// Tested only against recorded request/response fixtures (tests/data/kube): no cluster runs in this
// project's environment, and Kubernetes is not a supported target yet. Like the rest of this
// version, it refuses an API server that is not on loopback.
#include <functional>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "kube/config.h"
#include "kube/objects.h"

namespace chaosplus::kube {

class Client {
 public:
  // Failure::refused when the server is not on loopback or the config is unusable.
  static ApiResult<Client> create(Config config);

  const Config& config() const { return config_; }

  // GET /api/v1/namespaces/{ns}/pods?labelSelector=… ("" namespace: the config's).
  ApiResult<std::vector<Pod>> list_pods(const std::string& namespace_, const std::string& label_selector) const;
  // GET /api/v1/nodes?labelSelector=…
  ApiResult<std::vector<Node>> list_nodes(const std::string& label_selector) const;

  // GET /apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{name}
  ApiResult<Lease> get_lease(const std::string& namespace_, const std::string& name) const;
  // POST …/leases: Failure::already_exists when the name is taken. Returns the Lease as stored
  // (with its resourceVersion).
  ApiResult<Lease> create_lease(const Lease& lease) const;
  // PUT …/leases/{name} carrying lease.resource_version: Failure::conflict when someone wrote the
  // Lease since that version was read.
  ApiResult<Lease> update_lease(const Lease& lease) const;
  // DELETE …/leases/{name}
  ApiResult<Ok> delete_lease(const std::string& namespace_, const std::string& name) const;

  // Read-modify-write: reads the Lease, lets `change` edit it, writes it back; on a conflict reads
  // it again and repeats, at most `attempts` times in all. The Lease as stored.
  ApiResult<Lease> modify_lease(const std::string& namespace_, const std::string& name,
                                const std::function<ApiResult<Ok>(Lease&)>& change, int attempts = 3) const;
  // A renewal by `holder`: renewTime = now, through modify_lease. Failure::not_holder when the
  // Lease names someone else (the holder must not take it over by renewing).
  ApiResult<Lease> renew_lease(const std::string& namespace_, const std::string& name, const std::string& holder,
                               WallTime now) const;

 private:
  explicit Client(Config config) : config_(std::move(config)) {}
  const std::string& namespace_or_default(const std::string& namespace_) const;
  Config config_;
};

// "/apis/coordination.k8s.io/v1/namespaces/{ns}/leases" (+ "/{name}" when given).
std::string lease_path(const std::string& namespace_, const std::string& name = {});

}  // namespace chaosplus::kube
