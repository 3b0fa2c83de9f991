#pragma once
// Shrinks a request that triggers a finding to the least that still does (delta debugging, like
// Hypothesis shrinking): fewer optional query parameters, headers, cookies and body fields,
// shorter strings, numbers closer to 0, shorter arrays; for raw bodies and raw requests, ddmin over
// byte chunks (a raw request keeps its request line). Every attempt costs the caller a request, so
// attempts are bounded.
#include <functional>

#include "fuzz/request_case.h"

namespace chaosplus::fuzz {

struct MinimizeResult {
  RequestCase minimized;  // still triggers (or is the original), and renders no larger than it
  int attempts = 0;       // calls of still_triggers
};

// `still_triggers` sends a candidate and says whether the finding shows again. Path parameters are
// kept (the route must still match) but their values shrink. The result is never larger, rendered,
// than `original`; when nothing smaller triggers, it is `original`.
MinimizeResult minimize_case(RequestCase original, const std::function<bool(const RequestCase&)>& still_triggers,
                             int max_attempts);
// The same, the case only.
RequestCase minimize(RequestCase original, std::function<bool(const RequestCase&)> still_triggers, int max_attempts);

}  // namespace chaosplus::fuzz
