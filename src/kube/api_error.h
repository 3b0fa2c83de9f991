#pragma once
// What went wrong with a Kubernetes API call, typed, so that callers act on the kind (a 409
// Conflict means "re-read and try again", a 404 "create it") without reading messages. The message
// carries the URL and the API's own Status message.
#include <iosfwd>
#include <string>
#include <utility>
#include <variant>

#include "core/result.h"

namespace chaosplus::kube {

enum class Failure {
  refused,         // we did not send it: the server is not on loopback, or the config is unusable
  transport,       // no HTTP answer: connection refused, TLS handshake failed, timeout
  bad_request,     // 400
  unauthorized,    // 401: no credentials, or the token was rejected
  forbidden,       // 403: RBAC does not allow it
  not_found,       // 404
  conflict,        // 409 Conflict: the resourceVersion we sent is stale (optimistic concurrency)
  already_exists,  // 409 AlreadyExists: a create of a name that is taken
  invalid,         // 422: the object failed validation
  server,          // 5xx, 429, and any other status
  bad_answer,      // a 2xx whose body is not the object expected
  not_holder,      // a Lease renewal found another holder in the Lease
};
std::string to_string(Failure failure);
std::ostream& operator<<(std::ostream& out, Failure failure);  // for test messages

struct ApiError {
  Failure failure = Failure::server;
  int http_status = 0;  // 0 when there was no HTTP answer
  std::string reason;   // the Status object's reason ("Conflict", "NotFound"), when the API sent one
  std::string url;
  std::string message;  // for people: "PUT https://…/leases/run-1: 409 Conflict: Operation cannot…"

  // The same as the code base's one error type, for callers that only pass it on.
  Error to_error() const;
};

template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : state_(std::move(value)) {}         // NOLINT: implicit, like Result
  ApiResult(ApiError error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  // Only when !ok().
  const ApiError& failure() const { return std::get<ApiError>(state_); }
  Failure kind() const { return failure().failure; }
  const std::string& error() const { return failure().message; }

 private:
  std::variant<T, ApiError> state_;
};

}  // namespace chaosplus::kube
