#include "faults/fault.h"

#include "faults/extension_fault.h"
#include "faults/nft_faults.h"
#include "faults/process_faults.h"
#include "faults/proxy_faults.h"
#include "faults/target_handle.h"
#include "faults/tbf_fault.h"
#include "spec/fault_catalog.h"

namespace chaosplus::faults {

Result<std::unique_ptr<Fault>> make_fault(const spec::Fault& fault, TargetHandle& target) {
  const std::string& type = fault.type;
  if (type == "kill") return make_kill(fault, target);
  if (type == "pause") return make_pause(fault, target);
  if (type == "restart") return make_restart(fault, target);
  const spec::FaultType* entry = spec::find_fault_type(type);
  if (entry != nullptr && entry->needs == spec::Capability::proxy) return make_proxy_fault(fault, target);
  if (type == "partition" || type == "blackhole_port" || type == "reject" || type == "packet_loss") {
    return make_nft_fault(fault, target);
  }
  if (type == "bandwidth_limit") return make_bandwidth_limit(fault, target);
  // Extension faults (docs/extensions.md); for the registry: type "extension", ledger kind
  // "extension.fault", undo revert_extension_fault.
  if (type == "extension") return make_extension_fault(fault, target);
  return Error{"unknown fault type '" + type + "'"};
}

}  // namespace chaosplus::faults
