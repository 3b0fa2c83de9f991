#include "kube/transfer.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <memory>
#include <mutex>
#include <ostream>
#include <sstream>
#include <vector>

namespace chaosplus::kube {

namespace {

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Answer {
  std::string body;
  std::size_t limit = 0;
  bool too_long = false;
};

std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
  auto* answer = static_cast<Answer*>(out);
  if (answer->body.size() + size * count > answer->limit) {
    answer->too_long = true;
    return 0;  // curl stops with CURLE_WRITE_ERROR
  }
  answer->body.append(data, size * count);
  return size * count;
}

Failure failure_of(int status, const std::string& reason) {
  switch (status) {
    case 400: return Failure::bad_request;
    case 401: return Failure::unauthorized;
    case 403: return Failure::forbidden;
    case 404: return Failure::not_found;
    case 409: return reason == "AlreadyExists" ? Failure::already_exists : Failure::conflict;
    case 422: return Failure::invalid;
    default: return Failure::server;
  }
}

}  // namespace

std::string to_string(Failure failure) {
  switch (failure) {
    case Failure::refused: return "refused";
    case Failure::transport: return "transport";
    case Failure::bad_request: return "bad_request";
    case Failure::unauthorized: return "unauthorized";
    case Failure::forbidden: return "forbidden";
    case Failure::not_found: return "not_found";
    case Failure::conflict: return "conflict";
    case Failure::already_exists: return "already_exists";
    case Failure::invalid: return "invalid";
    case Failure::server: return "server";
    case Failure::bad_answer: return "bad_answer";
    case Failure::not_holder: return "not_holder";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, Failure failure) { return out << to_string(failure); }

Error ApiError::to_error() const {
  ErrorCode code = ErrorCode::unknown;
  switch (failure) {
    case Failure::refused:
    case Failure::bad_request:
    case Failure::invalid: code = ErrorCode::invalid_argument; break;
    case Failure::transport: code = ErrorCode::unavailable; break;
    case Failure::unauthorized:
    case Failure::forbidden:
    case Failure::server:
    case Failure::bad_answer: code = ErrorCode::io_error; break;
    case Failure::not_found: code = ErrorCode::not_found; break;
    case Failure::conflict:
    case Failure::not_holder:
    case Failure::already_exists: code = ErrorCode::already_exists; break;
  }
  return Error{message, code};
}

std::string query_escape(const std::string& text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                 c == '.' || c == '~';
    if (plain) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

ApiResult<TransferPlan> plan_transfer(const Config& config, const std::string& method,
                                      const std::string& path_and_query, std::string body) {
  std::string url = config.server;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += path_and_query;
  if (auto checked = check_server(config.server); !checked)
    return ApiError{Failure::refused, 0, "", url, method + " " + url + ": " + checked.error()};
  TransferPlan plan;
  plan.method = method;
  plan.url = url;
  plan.headers.push_back("Accept: application/json");
  if (!body.empty()) plan.headers.push_back("Content-Type: application/json");
  std::string token = config.token;
  if (!config.token_file.empty()) {
    std::ifstream in(config.token_file, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    token = text.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (!in || token.empty())
      return ApiError{Failure::refused, 0, "", url,
                      method + " " + url + ": cannot read a bearer token from " + config.token_file};
  }
  if (!token.empty()) plan.headers.push_back("Authorization: Bearer " + token);
  plan.body = std::move(body);
  plan.ca_file = config.ca_file;
  plan.cert_file = config.cert_file;
  plan.key_file = config.key_file;
  plan.timeout_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout).count());
  return plan;
}

ApiResult<HttpAnswer> perform(const TransferPlan& plan) {
  global_init_once();
  std::unique_ptr<CURL, EasyDeleter> curl(curl_easy_init());
  auto fail = [&plan](const std::string& why) {
    return ApiError{Failure::transport, 0, "", plan.url, plan.method + " " + plan.url + ": " + why};
  };
  if (!curl) return fail("cannot start libcurl");
  CURL* h = curl.get();
  std::unique_ptr<curl_slist, ListDeleter> headers;
  // "Expect:" turns off "Expect: 100-continue", which would cost a round trip on every PUT.
  std::vector<std::string> lines = plan.headers;
  lines.emplace_back("Expect:");
  for (const auto& line : lines) {
    // On success the list's head stays the same (or is the new first node); on failure the list is untouched.
    curl_slist* head = curl_slist_append(headers.get(), line.c_str());
    if (head == nullptr) return fail("out of memory");
    (void)headers.release();
    headers.reset(head);
  }

  Answer answer{{}, plan.max_answer_bytes, false};
  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_URL, plan.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, plan.method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (!plan.body.empty() || plan.method == "POST" || plan.method == "PUT") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, plan.body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(plan.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, plan.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, plan.proxy.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, plan.verify_peer ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, plan.verify_peer ? 2L : 0L);
  if (!plan.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, plan.ca_file.c_str());
  if (!plan.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, plan.cert_file.c_str());
  if (!plan.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, plan.key_file.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, plan.timeout_ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  CURLcode code = curl_easy_perform(h);
  if (answer.too_long)
    return fail("the answer is longer than " + std::to_string(plan.max_answer_bytes) + " bytes; not read");
  if (code != CURLE_OK) return fail(error_text[0] != '\0' ? error_text : curl_easy_strerror(code));
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  return HttpAnswer{static_cast<int>(status), std::move(answer.body)};
}

ApiError error_from_answer(const TransferPlan& plan, const HttpAnswer& answer) {
  ApiError error;
  error.http_status = answer.status;
  error.url = plan.url;
  std::string detail;
  auto status = nlohmann::json::parse(answer.body, nullptr, false);
  if (status.is_object() && status.value("kind", "") == "Status") {
    error.reason = status.value("reason", "");
    detail = status.value("message", "");
  } else {
    detail = answer.body.substr(0, 500);
  }
  error.failure = failure_of(answer.status, error.reason);
  error.message = plan.method + " " + plan.url + ": " + std::to_string(answer.status) +
                  (error.reason.empty() ? "" : " " + error.reason) + (detail.empty() ? "" : ": " + detail);
  return error;
}

}  // namespace chaosplus::kube
