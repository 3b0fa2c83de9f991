#pragma once
// Where the Kubernetes API server is and how to prove who we are (docs/kubernetes.md): the part of a
// kubeconfig's cluster and user that chaosplus uses, or the service account a pod is given
// ("in-cluster").
//
// This version talks only to an API server on loopback (core/loopback.h): check_server refuses any
// other address, and so Client::create. A later allow-list may lift that.
#include <functional>
#include <optional>
#include <string>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::kube {

struct Config {
  std::string server;      // "https://127.0.0.1:6443" (a kubeconfig's clusters[].cluster.server)
  std::string ca_file;     // certificate-authority: PEM that signed the server's certificate
  std::string token;       // users[].user.token: sent as "Authorization: Bearer <token>"
  std::string token_file;  // or a file holding it, read again before every request (rotated tokens)
  std::string cert_file;   // client-certificate (mutual TLS)
  std::string key_file;    // client-key
  std::string namespace_ = "default";
  Duration timeout = std::chrono::seconds(10);  // each request, connection included
};

// The standard places a pod finds its service account and the API server.
struct InClusterSource {
  std::string account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";  // token, ca.crt, namespace
  // KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT; getenv by default.
  std::function<std::optional<std::string>(const std::string&)> env;
};

// The in-cluster configuration: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, the
// token file (kept as token_file: the kubelet rotates it), ca.crt and the pod's namespace. Errors
// name what is missing. Does not check the address: Client::create does.
Result<Config> in_cluster_config(const InClusterSource& source = {});

// Ok when `server` is an http:// or https:// URL whose host is loopback; otherwise an error saying
// this version talks only to an API server on loopback.
Status check_server(const std::string& server);

}  // namespace chaosplus::kube
