#pragma once
// A value or an error, for operations whose failure is an expected outcome (bad input, a refused
// connection) rather than a bug. std::expected arrives with C++23; this is the small part of it we
// need. The one error type of the code base (like LevelDB's Status): a message for people and a
// code for callers that act on the kind of failure (an exit code, an HTTP status).
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace chaosplus {

enum class ErrorCode : std::uint8_t {
  unknown,           // not classified: the default, enough where only the message matters
  invalid_argument,  // the input is wrong: a spec, a parameter, a request, a command line
  not_found,         // what was named does not exist
  already_exists,    // the name is taken
  io_error,          // the system failed or refused: files, sockets, processes, tools
  timeout,           // a deadline passed
  unavailable,       // a peer did not answer or refused the connection
  untrusted,         // stored state cannot be read or trusted (a damaged ledger, lost records)
  internal,          // an invariant broke: a bug
};

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::unknown;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design, like std::expected
  Result(Error error) : state_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }
  // Only when !ok(). error() is the message; failure() the whole error, to pass on with its code.
  const std::string& error() const { return failure().message; }
  ErrorCode code() const { return failure().code; }
  const Error& failure() const { return std::get<Error>(state_); }

 private:
  std::variant<T, Error> state_;
};

// For operations that return nothing but may fail.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace chaosplus
