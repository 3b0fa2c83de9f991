#pragma once
// Faults applied through the fault proxy placed in front of a target: each one is a toxic added to
// the target's proxy and removed on revert.
#include <memory>

#include "faults/fault.h"

namespace chaosplus::faults {

// latency, reset, blackhole, bandwidth
std::unique_ptr<Fault> make_proxy_fault(const spec::Fault& fault, TargetHandle& target);

}  // namespace chaosplus::faults
