#pragma once
// Faults applied through the fault proxy placed in front of a target: each one is a toxic added to
// the target's proxy and removed on revert.
#include <memory>
#include <string>
#include <string_view>

#include "faults/fault.h"
#include "proxy/toxic.h"

namespace chaosplus::faults {

// The family (faults/registry.h) holds latency, reset, blackhole, timeout, bandwidth, slow_close,
// slicer, limit_data and the HTTP faults.

// The toxic a loaded (normalized) fault becomes, in the proxy's (Toxiproxy's) vocabulary; an error
// for a fault type that is not a proxy fault.
Result<proxy::ToxicDraft> toxic_for(const spec::Fault& fault);

// "reset on api (after 0ms, direction downstream, share 10%)": the parameters in the units a person
// writes (a share as a percentage, sizes as 16KiB), those left empty (not given) left out.
std::string proxy_fault_summary(const spec::Fault& fault, std::string_view target);

}  // namespace chaosplus::faults
