#include "kube/config.h"

#include <curl/curl.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/loopback.h"

namespace chaosplus::kube {

namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// One part of a parsed URL, or "" when absent.
std::string url_part(CURLU* url, CURLUPart part) {
  char* text = nullptr;
  if (curl_url_get(url, part, &text, 0) != CURLUE_OK || text == nullptr) return {};
  std::string out = text;
  curl_free(text);
  return out;
}

}  // namespace

Result<Config> in_cluster_config(const InClusterSource& source) {
  auto env = source.env ? source.env : [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  };
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty())
    return Error{"not in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set",
                 ErrorCode::not_found};
  Config config;
  bool ipv6 = host->find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + *host + "]" : *host) + ":" + *port;
  config.token_file = source.account_dir + "/token";
  if (!read_text(config.token_file))
    return Error{config.token_file + ": cannot read the service account token", ErrorCode::not_found};
  config.ca_file = source.account_dir + "/ca.crt";
  if (!read_text(config.ca_file))
    return Error{config.ca_file + ": cannot read the service account's CA certificate", ErrorCode::not_found};
  if (auto ns = read_text(source.account_dir + "/namespace"); ns && !trimmed(*ns).empty())
    config.namespace_ = trimmed(*ns);
  return config;
}

Status check_server(const std::string& server) {
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url) return Error{"out of memory parsing " + server, ErrorCode::internal};
  if (curl_url_set(url.get(), CURLUPART_URL, server.c_str(), 0) != CURLUE_OK)
    return Error{"Kubernetes API server \"" + server + "\" is not a URL (expected https://127.0.0.1:6443)",
                 ErrorCode::invalid_argument};
  std::string scheme = url_part(url.get(), CURLUPART_SCHEME);
  if (scheme != "https" && scheme != "http")
    return Error{"Kubernetes API server \"" + server + "\": expected an https:// (or http://) URL",
                 ErrorCode::invalid_argument};
  if (!url_part(url.get(), CURLUPART_USER).empty())
    return Error{
        "Kubernetes API server \"" + server + "\": credentials belong in the token or certificate, not the URL",
        ErrorCode::invalid_argument};
  std::string host = url_part(url.get(), CURLUPART_HOST);
  if (!is_loopback_host(host))
    return Error{"Kubernetes API server \"" + server + "\": host " + host +
                     " is not loopback; this version of chaosplus talks only to an API server on loopback "
                     "(127.0.0.0/8, ::1, localhost), see docs/kubernetes.md",
                 ErrorCode::invalid_argument};
  return ok_status();
}

}  // namespace chaosplus::kube
