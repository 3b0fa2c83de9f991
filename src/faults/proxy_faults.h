#pragma once
// Faults applied through the fault proxy placed in front of a target: each one is a toxic added to
// the target's proxy and removed on revert.
#include <memory>

#include "faults/fault.h"
#include "proxy/toxic.h"

namespace chaosplus::faults {

// The fault types whose catalog entry needs a proxy: latency, reset, blackhole, timeout, bandwidth,
// slow_close, slicer, limit_data and the HTTP faults.
std::unique_ptr<Fault> make_proxy_fault(const spec::Fault& fault, TargetHandle& target);

// The toxic a loaded (normalized) fault becomes, in the proxy's (Toxiproxy's) vocabulary.
proxy::ToxicDraft toxic_for(const spec::Fault& fault);

}  // namespace chaosplus::faults
