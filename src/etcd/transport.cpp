#include "etcd/transport.h"

#include <algorithm>
#include <chrono>

namespace chaosplus::etcd::transport {
namespace {

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

int check_cancel(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* cancel = static_cast<const std::atomic<bool>*>(user);
  return cancel != nullptr && cancel->load() ? 1 : 0;
}

long milliseconds(Duration d) {
  return static_cast<long>(std::max<std::int64_t>(1, std::chrono::ceil<std::chrono::milliseconds>(d).count()));
}

}  // namespace

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Easy EasyPool::take() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      Easy easy = std::move(free_.back());
      free_.pop_back();
      return easy;
    }
  }
  init_curl();
  return Easy(curl_easy_init());
}

void EasyPool::give_back(Easy easy) {
  if (!easy) return;
  curl_easy_reset(easy.get());  // keeps its open connections, forgets the last call's settings
  std::lock_guard lock(mutex_);
  free_.push_back(std::move(easy));
}

void prepare_post(CURL* easy, Exchange& exchange, const Options& options, const std::string& auth_token,
                  Duration connect_timeout, Duration timeout) {
  curl_easy_setopt(easy, CURLOPT_URL, exchange.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POST, 1L);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, exchange.request.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(exchange.request.size()));
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &exchange.response);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, exchange.error);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for name resolution timeouts
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(connect_timeout));
  if (timeout > Duration::zero()) curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, milliseconds(timeout));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");  // members are addressed directly, never via http_proxy
  // etcd ends a stream that asked for a leader when its member loses the leader (gRPC metadata
  // "hasleader", which the gateway takes from Grpc-Metadata-* headers): a watch on a member cut off
  // from the majority then moves to another member instead of going silent.
  exchange.headers.reset(curl_slist_append(nullptr, "Content-Type: application/json"));
  curl_slist_append(exchange.headers.get(), "Grpc-Metadata-hasleader: true");
  curl_slist_append(exchange.headers.get(), "Expect:");  // no 100-continue round trip
  if (!auth_token.empty()) curl_slist_append(exchange.headers.get(), ("Authorization: " + auth_token).c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, exchange.headers.get());
  if (!options.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str());
  if (!options.cert_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, options.cert_file.c_str());
  if (!options.key_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, options.key_file.c_str());
  exchange.error[0] = '\0';
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, check_cancel);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, exchange.cancel);
}

Reply post(CURL* easy, const std::string& url, const std::string& body, const Options& options,
           const std::string& auth_token, Duration timeout, const std::atomic<bool>* cancel) {
  Exchange exchange;
  exchange.url = url;
  exchange.request = body;
  exchange.cancel = cancel;
  prepare_post(easy, exchange, options, auth_token, timeout, timeout);
  Reply reply;
  reply.code = curl_easy_perform(easy);
  if (reply.code != CURLE_OK) {
    reply.error = describe_failure(reply.code, exchange, options);
    // Request bytes went out (on a new or a reused connection): the member may have acted on them.
    long sent = 0;
    curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &sent);
    reply.ambiguous = sent > 0;
    return reply;
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &reply.status);
  reply.body = std::move(exchange.response);
  return reply;
}

std::string describe_failure(CURLcode code, const Exchange& exchange, const Options& options) {
  const char* buffer = exchange.error;
  std::string text = buffer[0] != '\0' ? buffer : curl_easy_strerror(code);
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return "timed out (" + text + ")";
    case CURLE_COULDNT_CONNECT: return "connection refused or unreachable (" + text + ")";
    case CURLE_PEER_FAILED_VERIFICATION:
      return "TLS: the member's certificate was not accepted (" + text + "); ca_file " +
             (options.ca_file.empty() ? "is not set" : "is " + options.ca_file);
    case CURLE_SSL_CERTPROBLEM:
      return "TLS: the client certificate or key could not be used (" + text + "): " + options.cert_file + ", " +
             options.key_file;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      // With TLS 1.3 a member that refuses the client's certificate says so after the handshake, so
      // the refusal shows as an alert, a reset, or a connection that is gone, depending on timing.
      if (exchange.url.starts_with("https://"))
        return "TLS: the member closed the connection during or right after the handshake (" + text + ")" +
               (options.cert_file.empty() ? "; no client certificate is set (cert_file, key_file): the member "
                                            "may require one"
                                          : "; client certificate " + options.cert_file);
      return text;
    default: return text;
  }
}

}  // namespace chaosplus::etcd::transport
