#pragma once
// Shrinks a request that triggers a finding to the least that still does (delta debugging, like
// Hypothesis shrinking): fewer query parameters, headers, cookies, body members and array items,
// shorter strings, numbers closer to 0; raw bodies by byte chunks; raw requests by whole header
// lines (the request line kept), then by bytes of their body. Every attempt costs the caller a
// request, so attempts are bounded, and only candidates that render strictly smaller are tried.
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
