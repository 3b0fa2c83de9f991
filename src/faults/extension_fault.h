#pragma once
// A fault an external extension provides (docs/extensions.md). Its ledger entry (kind
// "extension.fault") holds everything a new process needs to revert it: the extension's command,
// the fault's name and typed parameters, and the extension's own record, stored when it sends a
// checkpoint and again with its inject reply.
#include <functional>
#include <memory>
#include <string_view>

#include "core/event.h"
#include "core/result.h"
#include "faults/fault.h"

namespace chaosplus::faults {

inline constexpr std::string_view kExtensionFaultKind = "extension.fault";

using EventSink = std::function<void(Event)>;

// For a spec::Fault of type "extension" whose call extension::resolve has checked.
Result<std::unique_ptr<Fault>> make_extension_fault(const spec::Fault& fault, TargetHandle& target);

// The undo of an "extension.fault" entry: stops an extension process of it still running (its
// runner died while it acted), then sends `revert` with the recorded record to a new one.
// Extension events go to `publish` as "extension.event" when given.
Status revert_extension_fault(std::string_view record, const EventSink& publish = {});

}  // namespace chaosplus::faults
