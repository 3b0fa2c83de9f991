#include "faults/fault.h"

#include "faults/registry.h"

namespace chaosplus::faults {

Result<std::unique_ptr<Fault>> make_fault(const spec::Fault& fault, TargetHandle& target) {
  const FaultFamily* family = family_of_type(fault.type);
  if (family == nullptr) return Error{"unknown fault type '" + fault.type + "'"};
  return family->make(fault, target);
}

}  // namespace chaosplus::faults
