#include "faults/veth_lab.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "faults/netns.h"
#include "faults/system_tool.h"

namespace chaosplus::faults {
namespace {

bool valid_tag(std::string_view tag) {
  return !tag.empty() && tag.size() <= 12 &&
         std::all_of(tag.begin(), tag.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

}  // namespace

Result<std::unique_ptr<VethLab>> VethLab::create(std::string_view tag) {
  if (!valid_tag(tag)) return Error{"lab tag '" + std::string(tag) + "' must be 1..12 of [a-z0-9]"};
  static std::atomic<int> serial{0};
  const std::string base = std::string(kProjectNamespacePrefix) + std::string(tag) + "-" + std::to_string(::getpid()) +
                           "-" + std::to_string(++serial);
  // No constructor call through make_unique: the constructor is private.
  std::unique_ptr<VethLab> lab(new VethLab({base + "-a", "cpa0", "10.251.0.1"}, {base + "-b", "cpb0", "10.251.0.2"}));
  if (auto s = lab->build(); !s) {
    Status removed = lab->remove();
    return Error{"creating the veth lab: " + s.error() + (removed ? "" : "; and cleaning up: " + removed.error())};
  }
  return lab;
}

Status VethLab::build() {
  for (const Side* side : {&a_, &b_}) {
    if (namespace_exists(side->netns)) return Error{"network namespace '" + side->netns + "' already exists"};
  }
  const std::vector<std::vector<std::string>> steps{
      {"ip", "netns", "add", a_.netns},
      {"ip", "netns", "add", b_.netns},
      // Both ends are created directly inside their namespaces: no moment on the host side.
      {"ip", "link", "add", a_.interface, "netns", a_.netns, "type", "veth", "peer", "name", b_.interface, "netns",
       b_.netns},
      {"ip", "-n", a_.netns, "addr", "add", a_.address + "/30", "dev", a_.interface},
      {"ip", "-n", b_.netns, "addr", "add", b_.address + "/30", "dev", b_.interface},
      {"ip", "-n", a_.netns, "link", "set", "lo", "up"},
      {"ip", "-n", b_.netns, "link", "set", "lo", "up"},
      {"ip", "-n", a_.netns, "link", "set", a_.interface, "up"},
      {"ip", "-n", b_.netns, "link", "set", b_.interface, "up"},
  };
  for (const auto& step : steps) {
    if (auto r = run_tool_checked(step); !r) return Error{r.error()};
  }
  return ok_status();
}

Status VethLab::remove() {
  std::string errors;
  for (const Side* side : {&a_, &b_}) {
    if (!namespace_exists(side->netns)) continue;
    if (auto r = run_tool_checked({"ip", "netns", "delete", side->netns}); !r)
      errors += (errors.empty() ? "" : "; ") + r.error();
    if (namespace_exists(side->netns)) {
      errors += (errors.empty() ? "" : "; ") + std::string("network namespace '") + side->netns + "' is still there";
    }
  }
  if (!errors.empty()) return Error{errors};
  return ok_status();
}

VethLab::~VethLab() { (void)remove(); }

}  // namespace chaosplus::faults
