// limit: lowers a resource limit (RLIMIT_NOFILE, RLIMIT_NPROC, ...) of a live target process with
// prlimit(2), so it runs out of file descriptors, processes or core-dump room the way it would on a
// crowded machine. The original soft and hard limits are read when the fault is built, before the
// runner writes the record, so the ledger holds them before anything changes; revert (and undo
// after a crash) sets them back exactly and reads them again to check.
#include <sys/resource.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "faults/registry.h"
#include "faults/target_handle.h"
#include "targets/process.h"

namespace chaosplus::faults {
namespace {

constexpr std::string_view kKind = "process.rlimit";

struct Resource {
  std::string_view name;
  int id;
};
constexpr std::array<Resource, 11> kResources{{{"nofile", RLIMIT_NOFILE},
                                               {"nproc", RLIMIT_NPROC},
                                               {"core", RLIMIT_CORE},
                                               {"fsize", RLIMIT_FSIZE},
                                               {"stack", RLIMIT_STACK},
                                               {"memlock", RLIMIT_MEMLOCK},
                                               {"as", RLIMIT_AS},
                                               {"data", RLIMIT_DATA},
                                               {"locks", RLIMIT_LOCKS},
                                               {"msgqueue", RLIMIT_MSGQUEUE},
                                               {"sigpending", RLIMIT_SIGPENDING}}};
constexpr std::array<std::string_view, 11> kResourceNames{
    "nofile", "nproc", "core", "fsize", "stack", "memlock", "as", "data", "locks", "msgqueue", "sigpending"};

int resource_id(std::string_view name) {
  for (const auto& r : kResources) {
    if (r.name == name) return r.id;
  }
  return -1;
}

struct Limits {
  rlim_t soft = 0;
  rlim_t hard = 0;
};

Result<Limits> read_limits(int pid, int resource) {
  rlimit now{};
  if (::prlimit(pid, static_cast<__rlimit_resource>(resource), nullptr, &now) != 0) {
    return Error{"prlimit(" + std::to_string(pid) + "): " + std::strerror(errno)};
  }
  return Limits{now.rlim_cur, now.rlim_max};
}

Status write_limits(int pid, int resource, const Limits& limits) {
  const rlimit next{limits.soft, limits.hard};
  if (::prlimit(pid, static_cast<__rlimit_resource>(resource), &next, nullptr) != 0) {
    return Error{"prlimit(" + std::to_string(pid) + "): " + std::strerror(errno)};
  }
  return ok_status();
}

// Raising a hard limit back takes CAP_SYS_RESOURCE (bit 24 of CapEff): without it, a lowered hard
// limit could not be restored, so the fault refuses to lower one.
bool can_raise_hard_limits() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("CapEff:")) return (std::stoull(line.substr(7), nullptr, 16) >> 24) & 1;
  }
  return false;
}

std::string limit_text(rlim_t v) { return v == RLIM_INFINITY ? "unlimited" : std::to_string(v); }

// Sets the limits of `id` back to `original` if it still runs, then reads them to check. A process
// that is gone took its limits with it.
Status restore(const targets::ProcessId& id, std::string_view resource, const Limits& original) {
  const int which = resource_id(resource);
  if (which < 0) return Error{"unknown resource '" + std::string(resource) + "' in the record"};
  if (!targets::is_alive(id)) return ok_status();
  if (auto s = write_limits(id.pid, which, original); !s && targets::is_alive(id)) return s;
  auto now = read_limits(id.pid, which);
  if (!now) return targets::is_alive(id) ? Status(Error{now.error()}) : ok_status();
  if (now->soft != original.soft || now->hard != original.hard) {
    return Error{"limit " + std::string(resource) + " of pid " + std::to_string(id.pid) + " reads " +
                 limit_text(now->soft) + "/" + limit_text(now->hard) + " after revert, not " +
                 limit_text(original.soft) + "/" + limit_text(original.hard)};
  }
  return ok_status();
}

class LimitFault final : public Fault {
 public:
  LimitFault(TargetHandle& target, targets::ProcessId process, std::string resource, Limits original, Limits lowered)
      : target_(target.name()),
        process_(process),
        resource_(std::move(resource)),
        original_(original),
        lowered_(lowered) {}

  std::string kind() const override { return std::string(kKind); }
  std::string summary() const override {
    return "limit " + resource_ + " of " + target_ + " to " + limit_text(lowered_.soft) + "/" +
           limit_text(lowered_.hard) + " (pid " + std::to_string(process_.pid) + ", was " + limit_text(original_.soft) +
           "/" + limit_text(original_.hard) + ")";
  }
  std::string record() const override {
    return nlohmann::json{{"target", target_},
                          {"pid", process_.pid},
                          {"start_time", process_.start_time},
                          {"resource", resource_},
                          {"soft", original_.soft},
                          {"hard", original_.hard},
                          {"lowered_soft", lowered_.soft},
                          {"lowered_hard", lowered_.hard}}
        .dump();
  }

  Status inject(HaltSwitch&) override {
    if (!targets::is_alive(process_)) return Error{"target '" + target_ + "' has no running process"};
    return write_limits(process_.pid, resource_id(resource_), lowered_);
  }
  Status revert(HaltSwitch&) override { return restore(process_, resource_, original_); }

 private:
  std::string target_;
  targets::ProcessId process_;
  std::string resource_;
  Limits original_;
  Limits lowered_;
};

// clang-format off
constexpr std::array<spec::FaultParam, 3> kParams{{
    {"resource", spec::ParamKind::choice, "", true, kResourceNames,
     "the limit to lower: nofile (open files), nproc (processes), core, fsize, stack, memlock, as, data, ..."},
    {"soft", spec::ParamKind::byte_size, "", true, {},
     "a number such as 64 (files, processes) or 16MiB (bytes): the new soft limit, at most the current one"},
    {"hard", spec::ParamKind::byte_size, "", false, {},
     "a number at least soft: the new hard limit, at most the current one; default the hard limit stays"},
}};
// clang-format on

std::vector<spec::ParamProblem> check(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("limit"), fault);
  if (!p) return {{"", p.error()}};
  if (p->given("hard") && p->bytes("hard") < p->bytes("soft")) {
    return {{"hard", "found " + std::to_string(p->bytes("hard")) + ", expected at least soft (" +
                         std::to_string(p->bytes("soft")) + ")"}};
  }
  return {};
}

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{
      {"limit", spec::Capability::signal_process, kParams,
       "lower a resource limit (open files, processes, ...) of the target process (prlimit)", false, check},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kKind};

// The original limits are read here, before the runner writes record() and calls inject().
Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  auto id = target.process();
  if (!id || !targets::is_alive(*id)) return Error{"target '" + target.name() + "' has no running process"};
  auto p = spec::FaultParams::read(*spec::find_fault_type("limit"), fault);
  if (!p) return Error{p.error()};
  const std::string resource = p->text("resource");
  const int which = resource_id(resource);
  if (which < 0) return Error{"'" + resource + "' is not a resource limit"};
  auto original = read_limits(id->pid, which);
  if (!original) return Error{original.error()};
  Limits lowered{p->bytes("soft"), p->given("hard") ? p->bytes("hard") : original->hard};
  // Lowering only: a fault that raised a limit would hand the target more than it had.
  auto above = [](rlim_t next, rlim_t now) { return now != RLIM_INFINITY && (next == RLIM_INFINITY || next > now); };
  if (above(lowered.soft, original->soft) || above(lowered.hard, original->hard) || lowered.soft > lowered.hard) {
    return Error{"fault 'limit' on '" + target.name() + "': " + resource + " " + limit_text(lowered.soft) + "/" +
                 limit_text(lowered.hard) + " is not below the current " + limit_text(original->soft) + "/" +
                 limit_text(original->hard) + " (soft/hard); limit only lowers"};
  }
  if (lowered.hard != original->hard && !can_raise_hard_limits()) {
    return Error{"fault 'limit' on '" + target.name() + "': lowering the hard limit of " + resource +
                 " could not be undone, because chaosplus lacks CAP_SYS_RESOURCE to raise it back; leave out 'hard'"};
  }
  return std::unique_ptr<Fault>(std::make_unique<LimitFault>(target, *id, resource, *original, lowered));
}

Status undo_limit(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  const targets::ProcessId id{r.at("pid").get<int>(), r.value("start_time", 0ULL)};
  return restore(id, r.at("resource").get<std::string>(),
                 Limits{r.at("soft").get<rlim_t>(), r.at("hard").get<rlim_t>()});
}

}  // namespace

FaultFamily limit_fault_family() { return {"limit", types(), kKinds, make, undo_limit}; }

}  // namespace chaosplus::faults
