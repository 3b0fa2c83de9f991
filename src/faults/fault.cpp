#include "faults/fault.h"

#include "faults/process_faults.h"
#include "faults/proxy_faults.h"
#include "faults/target_handle.h"

namespace chaosplus::faults {

Result<std::unique_ptr<Fault>> make_fault(const spec::Fault& fault, TargetHandle& target) {
  const std::string& type = fault.type;
  if (type == "kill") return make_kill(fault, target);
  if (type == "pause") return make_pause(fault, target);
  if (type == "restart") return make_restart(fault, target);
  if (type == "latency" || type == "reset" || type == "blackhole" || type == "bandwidth") {
    return make_proxy_fault(fault, target);
  }
  return Error{"unknown fault type '" + type + "'"};
}

}  // namespace chaosplus::faults
