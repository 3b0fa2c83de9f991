// The host resource faults: `cpu` burns cores, `memory` holds memory or lowers the memory limit of
// the target's own cgroup, `io_stress` loads the file system holding a path. The stressors are
// stress-ng's (Debian package stress-ng); chaosplus adds the targeting, the ledger and the revert.
//
// Every stress-ng is started through the gate (targets/gated_child.h): its pid and start time are
// in the fault's ledger entry before it runs, and it gets --timeout equal to the fault's length, so
// it stops by itself even when nobody reverts (a dead-man). Revert and undo stop its whole process
// group (stress-ng forks its workers into it) by that identity and remove the folder io_stress made.
// A memory limit's original value is read when the fault is built, so the ledger holds it before
// the limit changes; revert and undo write it back and read it again to check.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "faults/cgroups.h"
#include "faults/registry.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "targets/gated_child.h"
#include "targets/process.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kCpuKind = "host.cpu_burn";
constexpr std::string_view kMemoryKind = "host.memory_hold";
constexpr std::string_view kIoKind = "host.io_stress";
constexpr std::string_view kLimitKind = "cgroup.memory_limit";
// The folder io_stress makes under its path: only a folder named so is ever removed by an undo.
constexpr std::string_view kWorkPrefix = ".chaosplus-io_stress-";
// No grace: stress-ng leaves nothing a SIGTERM would clean up that the revert does not remove itself
// (io_stress's folder), and a holder or an I/O worker may take seconds to act on one (seen here:
// over 2 s for a --vm holder and for --iomix workers), seconds the timeline would slip by.
constexpr Duration kStopGrace = Duration::zero();
constexpr std::uint64_t kDefaultIoSize = 256ULL * 1024 * 1024;  // SIGTERM lets stress-ng remove its own files first

// ---- reading the host and the parameters ------------------------------------------------------

std::optional<std::uint64_t> whole_number(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

int online_cpus() { return static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)); }

// A field of /proc/meminfo in bytes ("MemTotal", "MemAvailable"); 0 when missing.
std::uint64_t meminfo(std::string_view field) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  std::uint64_t kib = 0;
  std::string unit;
  while (in >> name >> kib) {
    std::getline(in, unit);
    if (name == std::string(field) + ":") return kib * 1024;
  }
  return 0;
}

// "0", "0-2", "0,3" -> the CPUs named; an error says what was wrong.
Result<std::vector<int>> cpu_list(std::string_view text) {
  std::vector<int> out;
  if (text.empty()) return Error{"found '', expected CPU numbers such as \"0\", \"0-1\" or \"0,2\""};
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto dash = item.find('-');
    auto first = whole_number(item.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : whole_number(item.substr(dash + 1));
    if (!first || !last || *last < *first) {
      return Error{"found '" + std::string(text) + "', expected CPU numbers such as \"0\", \"0-1\" or \"0,2\""};
    }
    for (auto c = *first; c <= *last; ++c) out.push_back(static_cast<int>(c));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string seconds_of(Duration d) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  return std::to_string(std::max<long long>(1, (ms + 999) / 1000)) + "s";
}

std::string mib_text(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// ---- stress-ng, started recorded and stopped by its identity -----------------------------------

// Stops a recorded stress-ng and everything of its process group, and removes the folder it worked
// in (io_stress): the revert and the undo both.
Status stop_and_clean(const targets::ProcessId& tool, const std::string& work_dir) {
  if (tool.pid > 0) {
    if (auto s = targets::stop_group(tool, kStopGrace); !s) {
      return Error{"stress-ng (pid " + std::to_string(tool.pid) + ") cannot be stopped: " + s.error()};
    }
  }
  if (!work_dir.empty()) {
    const std::filesystem::path dir(work_dir);
    if (!dir.filename().string().starts_with(kWorkPrefix)) {
      return Error{"the record names " + work_dir + " as io_stress's folder, which io_stress never makes; left alone"};
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    if (ec) return Error{"cannot remove " + work_dir + ": " + ec.message()};
  }
  return ok_status();
}

// cpu, memory (host) and io_stress: one stress-ng.
class StressFault final : public Fault {
 public:
  struct Plan {
    std::string kind;
    std::string summary;
    std::string target;
    std::vector<std::string> argv;         // argv[0] = the stress-ng found on this host
    std::vector<std::string> cgroup_dirs;  // groups it joins before it runs (cpu scope: target)
    std::string work_dir;                  // io_stress's folder, made on inject; "" = none
    std::string log;                       // its output; "" = /dev/null
  };
  explicit StressFault(Plan plan) : plan_(std::move(plan)) {}

  std::string kind() const override { return plan_.kind; }
  std::string summary() const override { return plan_.summary; }
  std::string record() const override {
    return nlohmann::json{{"target", plan_.target},     {"argv", plan_.argv},    {"cgroups", plan_.cgroup_dirs},
                          {"work_dir", plan_.work_dir}, {"tool_pid", tool_.pid}, {"tool_start_time", tool_.start_time}}
        .dump();
  }

  Status inject(HaltSwitch& halt) override {
    if (!plan_.work_dir.empty() && ::mkdir(plan_.work_dir.c_str(), 0700) != 0) {
      return Error{"cannot make " + plan_.work_dir + ": " + std::strerror(errno)};
    }
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const int out = plan_.log.empty() ? ::open("/dev/null", O_WRONLY | O_CLOEXEC)
                                      : ::open(plan_.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (in < 0 || out < 0) {
      if (in >= 0) ::close(in);
      if (out >= 0) ::close(out);
      return Error{"cannot open stress-ng's output " + (plan_.log.empty() ? std::string("/dev/null") : plan_.log)};
    }
    targets::ChildPlan child;
    child.path = plan_.argv.front();
    child.argv = plan_.argv;
    child.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"};
    child.stdin_fd = in;
    child.stdout_fd = out;
    child.stderr_fd = out;
    // Recorded first, then put in the target's groups while it waits at the gate: the workers it
    // forks are born there.
    auto started = targets::start_gated(child, [this](const targets::ProcessId& id) -> Status {
      tool_ = id;
      if (auto s = record_changed(); !s) return s;
      for (const auto& dir : plan_.cgroup_dirs) {
        if (auto s = cgroups::add_process(dir, id.pid); !s) return s;
      }
      return ok_status();
    });
    ::close(in);
    ::close(out);
    if (!started) return Error{"cannot start stress-ng: " + started.error()};
    // It is on once it has forked its workers; an option it refuses makes it exit at once.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (targets::group_members(tool_.pid).size() < 2) {
      if (!targets::is_alive(tool_)) {
        return Error{"stress-ng exited at once (" + describe_command(plan_.argv) + ")" +
                     (plan_.log.empty() ? std::string() : "; its output is in " + plan_.log)};
      }
      if (std::chrono::steady_clock::now() > deadline) return Error{"stress-ng started no workers within 10s"};
      if (halt.wait_for(20ms)) return Error{"halted while stress-ng was starting"};
    }
    return ok_status();
  }

  Status revert(HaltSwitch&) override { return stop_and_clean(tool_, plan_.work_dir); }

 private:
  Plan plan_;
  targets::ProcessId tool_;
};

Status undo_stress(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  const targets::ProcessId tool{r.value("tool_pid", 0), r.value("tool_start_time", 0ULL)};
  return stop_and_clean(tool, r.value("work_dir", std::string()));
}

// ---- memory scope: target: the limit of the target's own cgroup ---------------------------------

struct LimitPlace {
  std::string dir;
  std::string file;  // memory.max, memory.high (v2); memory.limit_in_bytes, memory.soft_limit_in_bytes (v1)
};

// Writes `original` back if the group is still there, then reads it to check. A group that is gone
// took its limit with it.
Status restore_limit(const LimitPlace& at, const std::string& original) {
  if (!std::filesystem::exists(at.dir)) return ok_status();
  if (auto now = cgroups::read_value(at.dir, at.file); now && *now == original) return ok_status();
  if (auto s = cgroups::write_value(at.dir, at.file, original); !s) {
    return std::filesystem::exists(at.dir) ? s : ok_status();
  }
  auto now = cgroups::read_value(at.dir, at.file);
  if (!now) return std::filesystem::exists(at.dir) ? Status(Error{now.error()}) : ok_status();
  if (*now != original) {
    return Error{at.dir + "/" + at.file + " reads '" + *now + "' after revert, not '" + original + "'"};
  }
  return ok_status();
}

class MemoryLimitFault final : public Fault {
 public:
  MemoryLimitFault(std::string target, targets::ProcessId process, cgroups::Version version, LimitPlace at,
                   std::string original, std::uint64_t value)
      : target_(std::move(target)),
        process_(process),
        version_(version),
        at_(std::move(at)),
        original_(std::move(original)),
        value_(value) {}

  std::string kind() const override { return std::string(kLimitKind); }
  std::string summary() const override {
    return "memory limit of " + target_ + " (pid " + std::to_string(process_.pid) + ", cgroup " +
           std::string(cgroups::version_name(version_)) + " " + at_.dir + ") " + at_.file + " " + mib_text(value_) +
           ", was " + original_;
  }
  std::string record() const override {
    return nlohmann::json{{"target", target_},
                          {"pid", process_.pid},
                          {"start_time", process_.start_time},
                          {"version", cgroups::version_name(version_)},
                          {"dir", at_.dir},
                          {"file", at_.file},
                          {"original", original_},
                          {"value", value_}}
        .dump();
  }
  Status inject(HaltSwitch&) override { return cgroups::write_value(at_.dir, at_.file, std::to_string(value_)); }
  Status revert(HaltSwitch&) override { return restore_limit(at_, original_); }

 private:
  std::string target_;
  targets::ProcessId process_;
  cgroups::Version version_;
  LimitPlace at_;
  std::string original_;
  std::uint64_t value_;
};

Status undo_limit(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  return restore_limit({r.at("dir").get<std::string>(), r.at("file").get<std::string>()},
                       r.at("original").get<std::string>());
}

// ---- the types ----------------------------------------------------------------------------------

constexpr std::array<std::string_view, 2> kScopes{"host", "target"};
constexpr std::array<std::string_view, 2> kLimits{"max", "high"};
constexpr std::array<std::string_view, 2> kIoMethods{"hdd", "iomix"};

// clang-format off
constexpr std::array<spec::FaultParam, 4> kCpuParams{{
    {"cores", spec::ParamKind::text, "1", false, {},
     "how many CPU workers to run, from 1 to the machine's CPU count"},
    {"load", spec::ParamKind::share, "100%", false, {},
     "how busy each worker keeps its core, e.g. 50%"},
    {"cpus", spec::ParamKind::text, "", false, {},
     "CPUs the workers are confined to (taskset), such as \"0\", \"0-1\" or \"0,2\"; default any"},
    {"scope", spec::ParamKind::choice, "host", false, kScopes,
     "host: the workers compete host-wide; target: they join the target process's CPU cgroup and compete inside its quota"},
}};
constexpr std::array<spec::FaultParam, 4> kMemoryParams{{
    {"size", spec::ParamKind::byte_size, "", false, {},
     "host: the memory to hold, e.g. 1GiB; target: the cgroup's new limit; give size or leave_free"},
    {"leave_free", spec::ParamKind::byte_size, "", false, {},
     "host: hold all but this much of the available memory; target: limit = the cgroup's usage + this"},
    {"scope", spec::ParamKind::choice, "host", false, kScopes,
     "host: a stress-ng holds the memory; target: the limit of the target process's own memory cgroup is lowered"},
    {"limit", spec::ParamKind::choice, "max", false, kLimits,
     "scope target: max (memory.max, v1 memory.limit_in_bytes) or high (memory.high, v1 memory.soft_limit_in_bytes)"},
}};
constexpr std::array<spec::FaultParam, 4> kIoParams{{
    {"path", spec::ParamKind::text, "", true, {},
     "an existing folder on the file system to stress; the fault works in a folder of its own under it"},
    {"size", spec::ParamKind::byte_size, "", false, {},
     "how much the workers write in all, default 256MiB (bounded: the folder is removed on revert)"},
    {"workers", spec::ParamKind::text, "1", false, {},
     "how many I/O workers, from 1 to 64"},
    {"method", spec::ParamKind::choice, "hdd", false, kIoMethods,
     "hdd: sequential and random writes and reads (stress-ng --hdd); iomix: a mix of I/O calls (--iomix)"},
}};
// clang-format on

std::optional<spec::ParamProblem> needs_length(const spec::Fault& fault) {
  if (fault.length) return std::nullopt;
  return spec::ParamProblem{"",
                            "missing 'for': the stressor is given the fault's length as its own time limit, "
                            "so it stops even if nobody reverts it"};
}

std::vector<spec::ParamProblem> check_cpu(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("cpu"), fault);
  if (!p) return {{"", p.error()}};
  std::vector<spec::ParamProblem> out;
  const auto cores = whole_number(p->text("cores"));
  if (!cores || *cores < 1 || *cores > static_cast<std::uint64_t>(online_cpus())) {
    out.push_back({"cores", "found '" + p->text("cores") + "', expected a whole number from 1 to " +
                                std::to_string(online_cpus()) + " (this machine's CPUs)"});
  }
  if (p->share("load") <= 0) out.push_back({"load", "found 0%, expected more than 0% (at most 100%)"});
  if (p->given("cpus")) {
    auto cpus = cpu_list(p->text("cpus"));
    if (!cpus) {
      out.push_back({"cpus", cpus.error()});
    } else {
      for (int c : *cpus) {
        if (c >= online_cpus()) {
          out.push_back({"cpus", "CPU " + std::to_string(c) + " does not exist, expected CPUs from 0 to " +
                                     std::to_string(online_cpus() - 1)});
          break;
        }
      }
    }
  }
  if (auto missing = needs_length(fault)) out.push_back(*missing);
  return out;
}

std::vector<spec::ParamProblem> check_memory(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("memory"), fault);
  if (!p) return {{"", p.error()}};
  std::vector<spec::ParamProblem> out;
  const std::uint64_t total = meminfo("MemTotal");
  if (p->given("size") == p->given("leave_free")) {
    out.push_back({p->given("size") ? "leave_free" : "", "give size or leave_free, expected exactly one"});
  } else if (p->given("size") && (p->bytes("size") == 0 || p->bytes("size") > total)) {
    out.push_back({"size", "found " + std::to_string(p->bytes("size")) + " bytes, expected from 1 byte to " +
                               std::to_string(total) + " (this machine's memory)"});
  } else if (p->given("leave_free") && p->bytes("leave_free") >= total) {
    out.push_back({"leave_free", "found " + std::to_string(p->bytes("leave_free")) + " bytes, expected less than " +
                                     std::to_string(total) + " (this machine's memory)"});
  }
  if (p->text("scope") == "host" && fault.params.count("limit") && fault.params.at("limit") != "max") {
    out.push_back({"limit", "a cgroup limit needs scope: target"});
  }
  if (auto missing = needs_length(fault); missing && p->text("scope") == "host") out.push_back(*missing);
  return out;
}

std::vector<spec::ParamProblem> check_io(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("io_stress"), fault);
  if (!p) return {{"", p.error()}};
  std::vector<spec::ParamProblem> out;
  const std::string& path = p->text("path");
  std::error_code ec;
  if (!path.starts_with('/')) {
    out.push_back({"path", "found '" + path + "', expected an absolute path"});
  } else if (!std::filesystem::is_directory(path, ec)) {
    out.push_back({"path", "found '" + path + "', which " +
                               (std::filesystem::exists(path, ec) ? "is not a folder" : "does not exist") +
                               ", expected an existing folder"});
  }
  const auto workers = whole_number(p->text("workers"));
  if (!workers || *workers < 1 || *workers > 64) {
    out.push_back({"workers", "found '" + p->text("workers") + "', expected a whole number from 1 to 64"});
  }
  if (p->given("size") && p->bytes("size") == 0) out.push_back({"size", "found 0 bytes, expected at least 1MiB"});
  if (auto missing = needs_length(fault)) out.push_back(*missing);
  return out;
}

const std::array<spec::FaultType, 3>& types() {
  static const std::array<spec::FaultType, 3> kTypes{{
      {"cpu", spec::Capability::any, kCpuParams,
       "burn CPU: cores busy to a share, host-wide, on chosen CPUs or inside the target's CPU cgroup (stress-ng)",
       false, check_cpu},
      {"memory", spec::Capability::any, kMemoryParams,
       "hold memory host-wide (stress-ng), or lower the memory limit of the target's own cgroup", false, check_memory},
      {"io_stress", spec::Capability::any, kIoParams,
       "stress the file system holding a folder with writes and reads (stress-ng), in a folder of its own", false,
       check_io},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 4> kKinds{kCpuKind, kMemoryKind, kIoKind, kLimitKind};

// ---- building the faults ------------------------------------------------------------------------

std::string stress_ng() { return find_tool("stress-ng"); }

// Beside the target's own log (the run's logs folder).
std::string log_path(const TargetHandle& target, const spec::Fault& fault) {
  if (target.log_path().empty()) return "";
  const auto dir = std::filesystem::path(target.log_path()).parent_path();
  return (dir / ("stress-ng-" + fault.type + "-line" + std::to_string(fault.mark.line) + ".log")).string();
}

Result<targets::ProcessId> target_process(const TargetHandle& target, const spec::Fault& fault) {
  auto id = target.process();
  if (!id || !targets::is_alive(*id)) {
    return Error{"fault '" + fault.type + "' with scope: target: target '" + target.name() +
                 "' has no running process"};
  }
  return *id;
}

Result<std::unique_ptr<Fault>> make_cpu(const spec::FaultParams& p, const spec::Fault& fault, TargetHandle& target,
                                        const std::string& tool) {
  StressFault::Plan plan;
  plan.kind = kCpuKind;
  plan.target = target.name();
  const std::string load = std::to_string(static_cast<int>(p.share("load") * 100 + 0.5));
  plan.argv = {tool, "--cpu", p.text("cores"), "--cpu-load", load, "--timeout", seconds_of(*fault.length)};
  if (p.given("cpus")) {
    plan.argv.push_back("--taskset");
    plan.argv.push_back(p.text("cpus"));
  }
  plan.summary = "cpu burn " + p.text("cores") + " core(s) at " + load + "%";
  if (p.given("cpus")) plan.summary += " on CPUs " + p.text("cpus");
  if (p.text("scope") == "target") {
    auto id = target_process(target, fault);
    if (!id) return Error{id.error()};
    // cpu (the quota) is needed; cpuacct and cpuset follow the target where they are mounted.
    for (std::string_view controller : {"cpu", "cpuacct", "cpuset"}) {
      auto place = cgroups::of_process(id->pid, controller);
      if (!place) {
        if (controller == "cpu") return Error{"fault 'cpu' on '" + target.name() + "': " + place.error()};
        continue;
      }
      if (std::find(plan.cgroup_dirs.begin(), plan.cgroup_dirs.end(), place->dir()) == plan.cgroup_dirs.end()) {
        plan.cgroup_dirs.push_back(place->dir());
      }
    }
    plan.summary += " inside the CPU cgroup of " + target.name() + " (" + plan.cgroup_dirs.front() + ")";
  } else {
    plan.summary += " host-wide";
  }
  plan.log = log_path(target, fault);
  return std::unique_ptr<Fault>(std::make_unique<StressFault>(std::move(plan)));
}

Result<std::unique_ptr<Fault>> make_memory_limit(const spec::FaultParams& p, const spec::Fault& fault,
                                                 TargetHandle& target) {
  auto id = target_process(target, fault);
  if (!id) return Error{id.error()};
  const std::string who = "fault 'memory' on '" + target.name() + "'";
  auto place = cgroups::of_process(id->pid, "memory");
  if (!place) return Error{who + ": " + place.error()};
  // A limit on a group the target shares with others would hit them all: the root group is the
  // whole host, and a group chaosplus itself is in holds the runner too.
  auto ours = cgroups::of_process(static_cast<int>(::getpid()), "memory");
  if (place->root() || (ours && *ours == *place)) {
    return Error{who + ": its memory cgroup " + place->dir() + " is " +
                 (place->root() ? "the root group (the whole host)" : "also chaosplus's own") +
                 "; a limit there would hit everything in it. Start the target in a cgroup of its own "
                 "(a systemd service, systemd-run --scope, or a group it moves itself into)"};
  }
  const bool v1 = place->version == cgroups::Version::v1;
  const bool high = p.text("limit") == "high";
  LimitPlace at{place->dir(), v1 ? (high ? "memory.soft_limit_in_bytes" : "memory.limit_in_bytes")
                                 : (high ? "memory.high" : "memory.max")};
  auto original = cgroups::read_value(at.dir, at.file);
  if (!original) return Error{who + ": " + original.error()};
  std::uint64_t value = 0;
  if (p.given("size")) {
    value = p.bytes("size");
  } else {
    auto usage = cgroups::read_value(at.dir, v1 ? "memory.usage_in_bytes" : "memory.current");
    if (!usage) return Error{who + ": " + usage.error()};
    value = std::stoull(*usage) + p.bytes("leave_free");
  }
  return std::unique_ptr<Fault>(
      std::make_unique<MemoryLimitFault>(target.name(), *id, place->version, std::move(at), *original, value));
}

Result<std::unique_ptr<Fault>> make_memory(const spec::FaultParams& p, const spec::Fault& fault, TargetHandle& target,
                                           const std::string& tool) {
  std::uint64_t bytes = p.given("size") ? p.bytes("size") : 0;
  if (!p.given("size")) {
    const std::uint64_t available = meminfo("MemAvailable");
    if (available <= p.bytes("leave_free")) {
      return Error{"fault 'memory': only " + mib_text(available) + " is available, already less than leave_free (" +
                   mib_text(p.bytes("leave_free")) + ")"};
    }
    bytes = available - p.bytes("leave_free");
  }
  StressFault::Plan plan;
  plan.kind = kMemoryKind;
  plan.target = target.name();
  // One worker maps the whole amount, touches every page once (--vm-populate) and then sleeps with
  // it (--vm-keep, --vm-hang 0): the memory stays resident without burning CPU.
  plan.argv = {tool,
               "--vm",
               "1",
               "--vm-bytes",
               std::to_string(bytes),
               "--vm-keep",
               "--vm-populate",
               "--vm-hang",
               "0",
               "--timeout",
               seconds_of(*fault.length)};
  plan.summary = "memory hold of " + mib_text(bytes) + " host-wide";
  plan.log = log_path(target, fault);
  return std::unique_ptr<Fault>(std::make_unique<StressFault>(std::move(plan)));
}

Result<std::unique_ptr<Fault>> make_io(const spec::FaultParams& p, const spec::Fault& fault, TargetHandle& target,
                                       const std::string& tool) {
  const std::string& path = p.text("path");
  if (!std::filesystem::is_directory(path)) return Error{"fault 'io_stress': " + path + " is not an existing folder"};
  std::random_device random;
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
  StressFault::Plan plan;
  plan.kind = kIoKind;
  plan.target = target.name();
  plan.work_dir = (std::filesystem::path(path) / (std::string(kWorkPrefix) + suffix)).string();
  const std::string method = p.text("method");
  const std::uint64_t workers = *whole_number(p.text("workers"));
  const std::uint64_t total = p.given("size") ? p.bytes("size") : kDefaultIoSize;
  const std::uint64_t each = std::max<std::uint64_t>(1024 * 1024, total / workers);
  plan.argv = {tool,          "--" + method, p.text("workers"), "--" + method + "-bytes", std::to_string(each),
               "--temp-path", plan.work_dir, "--timeout",       seconds_of(*fault.length)};
  plan.summary = "io_stress (" + method + ", " + p.text("workers") + " worker(s), " + mib_text(each * workers) +
                 ") in " + plan.work_dir;
  plan.log = log_path(target, fault);
  return std::unique_ptr<Fault>(std::make_unique<StressFault>(std::move(plan)));
}

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  auto p = spec::FaultParams::read(*spec::find_fault_type(fault.type), fault);
  if (!p) return Error{p.error()};
  if (fault.type == "memory" && p->text("scope") == "target") return make_memory_limit(*p, fault, target);
  if (!fault.length) return Error{"fault '" + fault.type + "' needs 'for' (stress-ng's own time limit)"};
  const std::string tool = stress_ng();
  if (tool.empty())
    return Error{"fault '" + fault.type + "' needs stress-ng, which is not installed (Debian package stress-ng)"};
  if (fault.type == "cpu") return make_cpu(*p, fault, target, tool);
  if (fault.type == "memory") return make_memory(*p, fault, target, tool);
  return make_io(*p, fault, target, tool);
}

Status undo(std::string_view kind, std::string_view record) {
  if (kind == kLimitKind) return undo_limit(kind, record);
  return undo_stress(kind, record);
}

}  // namespace

FaultFamily stress_fault_family() { return {"stress", types(), kKinds, make, undo}; }

}  // namespace chaosplus::faults
