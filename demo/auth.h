#pragma once
// Who is calling: the bearer token of a request, checked with the token service (GET /validate).
// The shop fails closed: a token service that cannot be reached, times out, answers 5xx or answers
// something that is not a verdict gives 503, never a default user (unless the fail-open bug is on).
#include <optional>
#include <string>

#include "bugs.h"
#include "core/units.h"
#include "net/http_message.h"
#include "net/url.h"

namespace chaosplus::demo {

struct Caller {
  std::optional<std::string> user;  // set when the caller is let in
  net::Response refusal;            // 401 or 503 otherwise
};

class TokenCheck {
 public:
  TokenCheck(net::Url tokens, Duration timeout, const Bugs& bugs);
  Caller authenticate(const net::Request& request) const;

 private:
  // 503 "token service unavailable: <why>"; `detail` is logged.
  Caller unavailable(const std::string& why, const std::string& detail) const;

  net::Url tokens_;
  Duration timeout_;
  const Bugs& bugs_;
};

}  // namespace chaosplus::demo
