#pragma once
// The HTTP side of the etcd client: one POST of a JSON body to one member over libcurl, with the
// member's TLS settings, a time bound, and a flag that cancels it from another thread. The client's
// calls (client.cpp) and watches (watch.cpp) build on it; nothing here knows etcd's answers.
#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/units.h"
#include "etcd/client.h"

namespace chaosplus::etcd::transport {

// curl_global_init, once per process, before the first handle.
void init_curl();

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Headers = std::unique_ptr<curl_slist, SlistDeleter>;

// Easy handles kept between calls so their connections to the members stay open; each call takes
// one for itself, so calls from many threads never share a handle.
class EasyPool {
 public:
  Easy take();
  void give_back(Easy easy);

 private:
  std::mutex mutex_;
  std::vector<Easy> free_;
};

// What a POST set on its handle and reads back after the transfer: the answer's bytes and the
// headers it sent (curl keeps pointers to both).
struct Exchange {
  std::string url;
  std::string request;
  std::string response;
  Headers headers;
  char error[CURL_ERROR_SIZE] = {};
  const std::atomic<bool>* cancel = nullptr;
};

// Sets `easy` up for a POST of exchange.request to exchange.url, with `auth_token` (if any) and the
// TLS files in `options`; the transfer as a whole is bounded by `timeout` (0: no bound, for a watch).
// `exchange` must outlive the transfer. A set `cancel` aborts it (CURLE_ABORTED_BY_CALLBACK).
void prepare_post(CURL* easy, Exchange& exchange, const Options& options, const std::string& auth_token,
                  Duration connect_timeout, Duration timeout);

struct Reply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::string error;  // when code != CURLE_OK: curl's words, with a hint for TLS failures
  // The request may have reached the member (it timed out or broke after the connection was made),
  // so a write may have happened although no answer came.
  bool ambiguous = false;
};

// One POST from start to end on `easy`.
Reply post(CURL* easy, const std::string& url, const std::string& body, const Options& options,
           const std::string& auth_token, Duration timeout, const std::atomic<bool>* cancel);

// curl's failure of `exchange` in words; for TLS failures, with what the options held (a client
// certificate or not, a CA or not), since that is the usual cause.
std::string describe_failure(CURLcode code, const Exchange& exchange, const Options& options);

}  // namespace chaosplus::etcd::transport
