#pragma once
// Network namespaces the project creates. Their names start with "chaosplus-"; the kernel faults act
// only in the caller's own namespace or in one of these, and shape bandwidth only in one of these,
// so no experiment can reach into a namespace it does not own (a container's, say).
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "spec/kernel_params.h"

namespace chaosplus::faults {

// The naming rules are the experiment loader's (spec/kernel_params.h).
using spec::is_project_namespace;  // "chaosplus-" followed by 1..48 of [A-Za-z0-9_.-]
using spec::is_valid_interface_name;
using spec::kProjectNamespacePrefix;

// Named namespaces as `ip netns` keeps them (/run/netns).
bool namespace_exists(std::string_view name);
std::vector<std::string> list_namespaces();

// argv run inside `netns` through `ip netns exec` (the command by its full path when installed);
// argv unchanged when netns is empty (the caller's own).
std::vector<std::string> in_namespace(const std::string& netns, std::vector<std::string> argv);

// A socket created inside `netns` (a socket stays in the namespace it was made in); the caller owns it.
Result<int> socket_in_namespace(const std::string& netns, int domain, int type);

}  // namespace chaosplus::faults
