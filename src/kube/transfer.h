#pragma once
// One HTTP exchange with the API server, planned as a plain value and then handed to libcurl.
// Everything curl is given comes from the plan, so tests check the plan (TLS files, headers,
// proxy off, no redirects) without a TLS server, and the loopback rule is applied in one place.
#include <cstddef>
#include <string>
#include <vector>

#include "kube/api_error.h"
#include "kube/config.h"

namespace chaosplus::kube {

struct TransferPlan {
  std::string method;                // GET, POST, PUT, DELETE
  std::string url;                   // server + path and query
  std::vector<std::string> headers;  // "Authorization: Bearer …", "Accept: application/json", …
  std::string body;                  // JSON, or "" for none
  std::string ca_file;               // CURLOPT_CAINFO, when set; else the system's CAs
  std::string cert_file;             // CURLOPT_SSLCERT
  std::string key_file;              // CURLOPT_SSLKEY
  bool verify_peer = true;           // never turned off: no "insecure" mode in this version
  bool follow_redirects = false;     // a redirect could lead off loopback
  std::string proxy;                 // "" = none, also ignoring http_proxy/https_proxy in the environment
  long timeout_ms = 0;
  // An answer longer than this is cut off with an error rather than held in memory (a PodList of a
  // large cluster is tens of MB).
  std::size_t max_answer_bytes = 64 * 1024 * 1024;
};

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// The plan for `method` on `path_and_query` ("/api/v1/namespaces/shop/pods?labelSelector=…"): refuses
// a server that is not on loopback (Failure::refused), reads the token file when one is configured.
ApiResult<TransferPlan> plan_transfer(const Config& config, const std::string& method,
                                      const std::string& path_and_query, std::string body);

// Sends it (libcurl, blocking, bounded by timeout_ms). Failure::transport when no answer came.
ApiResult<HttpAnswer> perform(const TransferPlan& plan);

// An error for a non-2xx answer: the kind from the status and the Status object's reason, the
// message "<METHOD> <url>: <status> <reason>: <Status.message>" (the body itself when it is not a
// Status object).
ApiError error_from_answer(const TransferPlan& plan, const HttpAnswer& answer);

// "app=checkout,tier in (web)" -> "app%3Dcheckout%2Ctier%20in%20%28web%29": for query values.
std::string query_escape(const std::string& text);

}  // namespace chaosplus::kube
