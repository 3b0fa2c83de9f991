#pragma once
// The claims a run takes before it places or changes anything (targets/claims.h): each attached
// process (resolved here, and set on its handle), each address a target the run starts is reached
// at, and each fault proxy's listen address. A second run on any of them refuses at start.
#include <memory>
#include <vector>

#include "core/result.h"
#include "faults/target_handle.h"
#include "targets/claims.h"

namespace chaosplus::runner {

// All of them or an error naming the first that is held (and by which run); none are kept then.
Result<std::vector<std::unique_ptr<targets::Claim>>> claim_targets(
    const std::vector<std::unique_ptr<faults::TargetHandle>>& handles, const targets::ClaimHolder& me);

}  // namespace chaosplus::runner
