// The I/O fault family: `io_error` fails and `io_latency` holds the file calls a started target
// makes under a folder (Chaos Mesh's IOChaos). The target is started in a mount namespace of its
// own (prepare_launch); inject starts `chaosplus iofs` (recorded before it runs), which joins that
// namespace, opens the folder and mounts a FUSE pass-through file system over it there: the target
// sees the folder's files through it, with the rule's errors and delays; nothing else on the host
// sees the mount. Revert (and `recover` from the record alone) detaches the mount in the target's
// namespace and stops the daemon, so /proc/PID/mountinfo of the target reads as before.
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "faults/registry.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "iofs/mounts.h"
#include "iofs/rules.h"
#include "targets/launch.h"
#include "targets/process.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKind = "io.fuse";
constexpr Duration kMountTimeout = 10s;  // the daemon mounts within this, or inject fails
constexpr Duration kExitGrace = 2s;      // after the unmount, files the target still holds open are served this long

// What revert needs, all in the record before the daemon runs.
struct Record {
  std::string target;
  targets::ProcessId process;       // the target
  unsigned long long mount_ns = 0;  // the inode of its mount namespace
  std::string path;                 // the folder mounted over
  std::string rules_file;
  std::string log_file;
  std::string stats_file;     // the daemon's counts, written when it ends
  targets::ProcessId daemon;  // 0 until it is started
  std::string rule_text;      // for people: "EIO on write, fsync (50%)"

  nlohmann::json json() const {
    return {{"target", target},     {"pid", process.pid},     {"start_time", process.start_time},
            {"mount_ns", mount_ns}, {"path", path},           {"rules_file", rules_file},
            {"log_file", log_file}, {"tool_pid", daemon.pid}, {"tool_start_time", daemon.start_time},
            {"rule", rule_text}};
  }
  static Result<Record> parse(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return Error{"unreadable ledger record: " + std::string(text)};
    try {
      Record r;
      r.target = j.value("target", "");
      r.process = {j.at("pid").get<int>(), j.at("start_time").get<unsigned long long>()};
      r.mount_ns = j.at("mount_ns").get<unsigned long long>();
      r.path = j.at("path").get<std::string>();
      r.rules_file = j.value("rules_file", "");
      r.log_file = j.value("log_file", "");
      r.stats_file = j.value("stats_file", "");
      r.daemon = {j.value("tool_pid", 0), j.value("tool_start_time", 0ULL)};
      return r;
    } catch (const nlohmann::json::exception& e) {
      return Error{"ledger record of an I/O fault: " + std::string(e.what())};
    }
  }
};

// A live process in the fault's mount namespace, to reach the mount through: the target, else
// the daemon (which joined it). 0 when neither is left: the namespace and its mount are gone.
int process_in_namespace(const Record& r) {
  for (const auto& id : {r.process, r.daemon}) {
    if (id.pid > 0 && targets::is_alive(id) && iofs::mount_namespace(id.pid) == r.mount_ns) return id.pid;
  }
  return 0;
}

// Detaches the mount in the target's namespace, lets the daemon end by itself (it does once the
// kernel drops the connection), stops it if it has not, and checks the mount is gone.
Status take_off(const Record& r) {
  const int in_ns = process_in_namespace(r);
  if (in_ns != 0) {
    if (auto s = iofs::unmount_iofs(in_ns, r.path); !s) return s;
  }
  if (r.daemon.pid > 0) {
    const auto deadline = std::chrono::steady_clock::now() + kExitGrace;
    while (targets::is_alive(r.daemon) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    if (auto s = stop_recorded_tool(r.daemon.pid, r.daemon.start_time); !s) return s;
    // A daemon caught between its start and its mount (a runner killed during the inject) may have
    // mounted since the first look: its mount, now without a daemon, goes too.
    if (in_ns != 0 && targets::is_alive(r.process)) {
      if (auto s = iofs::unmount_iofs(r.process.pid, r.path); !s) return s;
    }
  }
  if (in_ns != 0 && targets::is_alive(r.process) && iofs::iofs_on_top(r.process.pid, r.path)) {
    return Error{"the I/O fault's file system is still mounted over " + r.path + " for target '" + r.target +
                 "' (pid " + std::to_string(r.process.pid) + ")"};
  }
  return ok_status();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string describe_rule(const iofs::Rule& rule, const std::string& ops, double share) {
  std::string what;
  if (rule.error != 0) {
    for (auto name : iofs::errno_names()) {
      if (iofs::errno_from_name(name) == rule.error) what = std::string(name);
    }
  }
  if (rule.delay.count() > 0) what += (what.empty() ? "" : " after ") + format_duration(rule.delay);
  return what + " on " + ops + " (" + std::to_string(static_cast<int>(share * 100 + 0.5)) + "% of calls" +
         (rule.files.empty() ? "" : ", files " + rule.files) + ")";
}

class IoFault final : public Fault {
 public:
  IoFault(Record record, iofs::Rule rule) : r_(std::move(record)), rule_(std::move(rule)) {}

  std::string kind() const override { return std::string(kKind); }
  std::string summary() const override {
    return r_.rule_text + " under " + r_.path + " for " + r_.target + " (pid " + std::to_string(r_.process.pid) + ")";
  }
  std::string record() const override { return r_.json().dump(); }

  Status inject(HaltSwitch& halt) override {
    if (!targets::is_alive(r_.process)) return Error{"target '" + r_.target + "' has no running process"};
    {
      std::ofstream out(r_.rules_file, std::ios::trunc);
      out << iofs::to_json(rule_);
      if (!out.flush()) return Error{"cannot write " + r_.rules_file};
    }
    spec::ProcessLaunch launch;
    launch.command = {"chaosplus",    "iofs",
                      "--pid",        std::to_string(r_.process.pid),
                      "--start-time", std::to_string(r_.process.start_time),
                      "--dir",        r_.path,
                      "--rules",      r_.rules_file,
                      "--stats",      r_.stats_file};
    auto daemon =
        targets::spawn(launch, r_.log_file, targets::default_search_dir(), [this](const targets::ProcessId& id) {
          r_.daemon = id;
          return record_changed();
        });
    if (!daemon) return Error{"starting the I/O fault's file system: " + daemon.error()};
    const auto deadline = std::chrono::steady_clock::now() + kMountTimeout;
    while (!iofs::iofs_on_top(r_.process.pid, r_.path)) {
      std::string why;
      if (!targets::is_alive(r_.daemon)) {
        why = ": " + targets::log_tail(r_.log_file, 5);
      } else if (std::chrono::steady_clock::now() >= deadline || halt.triggered()) {
        why = " within " + format_duration(kMountTimeout);
      }
      if (!why.empty()) {
        (void)take_off(r_);  // a daemon that mounts late is stopped, and its mount taken off
        return Error{"the I/O fault's file system did not mount over " + r_.path + why};
      }
      std::this_thread::sleep_for(10ms);
    }
    return ok_status();
  }
  Status revert(HaltSwitch&) override {
    auto s = take_off(r_);
    // The daemon writes its counts when it ends (it has by now, unless it had to be killed).
    auto j = nlohmann::json::parse(read_text(r_.stats_file), nullptr, false);
    if (j.is_object()) {
      reach_ = {{"calls", j.value("calls", std::int64_t{0})},
                {rule_.error != 0 ? "calls_failed" : "calls_delayed", j.value("faulted", std::int64_t{0})}};
    }
    return s;
  }
  std::map<std::string, std::int64_t> reach() const override { return reach_; }

 private:
  Record r_;
  iofs::Rule rule_;
  std::map<std::string, std::int64_t> reach_;
};

// clang-format off
const std::array<spec::FaultParam, 5>& error_params() {
  static const std::array<spec::FaultParam, 5> params{{
      {"path", spec::ParamKind::text, "", true, {},
       "the absolute folder whose files fail: the target sees it through the fault's file system"},
      {"errno", spec::ParamKind::choice, "EIO", false, iofs::errno_names(), "the error the chosen calls return"},
      {"operations", spec::ParamKind::text, "read,write,fsync", false, {},
       "the calls that fail, comma-separated: open (and create), read, write, fsync, flush (close), truncate, "
       "unlink, rename, mkdir, getattr (stat), readdir, statfs"},
      {"share", spec::ParamKind::share, "100%", false, {}, "the share of those calls that fail, e.g. 50%"},
      {"files", spec::ParamKind::text, "", false, {},
       "only the files whose name matches this glob (e.g. *.db; with a '/', the path under the folder); default all"},
  }};
  return params;
}

const std::array<spec::FaultParam, 5>& latency_params() {
  static const std::array<spec::FaultParam, 5> params{{
      {"path", spec::ParamKind::text, "", true, {},
       "the absolute folder whose files are slow: the target sees it through the fault's file system"},
      {"delay", spec::ParamKind::duration, "", true, {}, "how long each chosen call is held, e.g. 100ms"},
      {"operations", spec::ParamKind::text, "read,write,fsync", false, {},
       "the calls that are held, comma-separated: open (and create), read, write, fsync, flush (close), truncate, "
       "unlink, rename, mkdir, getattr (stat), readdir, statfs"},
      {"share", spec::ParamKind::share, "100%", false, {}, "the share of those calls that are held, e.g. 50%"},
      {"files", spec::ParamKind::text, "", false, {},
       "only the files whose name matches this glob (e.g. *.db; with a '/', the path under the folder); default all"},
  }};
  return params;
}
// clang-format on

// A folder the mount table names the same way: absolute, no '.', '..', empty parts or trailing '/'.
bool plain_absolute(const std::string& path) {
  if (path.size() < 2 || path.front() != '/' || path.back() == '/') return false;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto end = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::vector<spec::ParamProblem> check_common(const spec::FaultParams& p) {
  std::vector<spec::ParamProblem> problems;
  const std::string& path = p.text("path");
  if (!plain_absolute(path)) {
    problems.push_back(
        {"path", "found '" + path +
                     "', expected an absolute folder such as /srv/data (not /, no . or .. parts, no trailing /)"});
  }
  if (auto ops = iofs::parse_ops(p.text("operations")); !ops) problems.push_back({"operations", ops.error()});
  const double share = p.share("share");
  if (share <= 0 || share > 1) {
    char found[32];
    std::snprintf(found, sizeof found, "%g%%", share * 100);
    problems.push_back({"share", "found " + std::string(found) + ", expected more than 0% and at most 100%"});
  }
  return problems;
}

std::vector<spec::ParamProblem> check_error(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("io_error"), fault);
  if (!p) return {{"", p.error()}};
  return check_common(*p);
}

std::vector<spec::ParamProblem> check_latency(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("io_latency"), fault);
  if (!p) return {{"", p.error()}};
  auto problems = check_common(*p);
  if (p->duration("delay") <= Duration::zero()) problems.push_back({"delay", "expected a delay above 0, e.g. 100ms"});
  return problems;
}

const std::array<spec::FaultType, 2>& types() {
  static const std::array<spec::FaultType, 2> kTypes{{
      {"io_error", spec::Capability::started_process, error_params(),
       "fail the file calls (read, write, fsync, open, ...) a started target makes under a folder with an error "
       "such as EIO or ENOSPC (a FUSE file system only the target sees)",
       false, check_error},
      {"io_latency", spec::Capability::started_process, latency_params(),
       "hold the file calls (read, write, fsync, open, ...) a started target makes under a folder (a FUSE file "
       "system only the target sees)",
       false, check_latency},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kKind};

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  const bool error = fault.type == "io_error";
  auto p = spec::FaultParams::read(*spec::find_fault_type(fault.type), fault);
  if (!p) return Error{p.error()};
  const std::string where = "fault '" + fault.type + "' on '" + target.name() + "': ";
  auto id = target.process();
  if (!id || !targets::is_alive(*id)) return Error{where + "the target has no running process"};
  const unsigned long long ns = iofs::mount_namespace(id->pid);
  if (ns == 0 || ns == iofs::mount_namespace(0)) {
    return Error{where + "pid " + std::to_string(id->pid) +
                 " shares the host's mount namespace, so a mount for it would reach the whole host; only a target "
                 "the run starts (set apart for the fault) can take I/O faults"};
  }
  // As the mount table names it: with its symbolic links resolved (the target's namespace is a
  // copy of the host's, so they resolve the same way there).
  std::error_code ec;
  const std::string path = std::filesystem::canonical(p->text("path"), ec).string();
  if (ec) return Error{where + "'" + p->text("path") + "': " + ec.message()};
  struct stat st {};
  const std::string seen = "/proc/" + std::to_string(id->pid) + "/root" + path;
  if (::stat(seen.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Error{where + "'" + path + "' is not a folder the target can see"};
  }
  if (iofs::iofs_on_top(id->pid, path)) {
    return Error{where + "'" + path + "' already has an I/O fault on it; one I/O fault per folder at a time"};
  }
  iofs::Rule rule;
  rule.ops = *iofs::parse_ops(p->text("operations"));
  rule.share = p->share("share");
  rule.files = p->text("files");
  if (error) {
    rule.error = *iofs::errno_from_name(p->text("errno"));
  } else {
    rule.delay = p->duration("delay");
  }
  static std::atomic<int> counter{0};
  const std::string dir = target.state_dir.empty() ? std::string("/tmp") : target.state_dir;
  const std::string stem =
      dir + "/iofs-" + target.name() + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  Record r;
  r.target = target.name();
  r.process = *id;
  r.mount_ns = ns;
  r.path = path;
  r.rules_file = stem + ".json";
  r.log_file = stem + ".log";
  r.stats_file = stem + ".stats.json";
  std::string ops = p->text("operations");
  r.rule_text = describe_rule(rule, ops, rule.share);
  return std::unique_ptr<Fault>(std::make_unique<IoFault>(std::move(r), std::move(rule)));
}

Status undo_io(std::string_view, std::string_view record) {
  auto r = Record::parse(record);
  if (!r) return Error{r.error()};
  return take_off(*r);
}

Status prepare(const spec::Fault&, LaunchPrep& prep) {
  prep.sandbox.private_mounts = true;
  return ok_status();
}

}  // namespace

FaultFamily io_fault_family() { return {"io", types(), kKinds, make, undo_io, prepare}; }

}  // namespace chaosplus::faults
