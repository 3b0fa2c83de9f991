#include "faults/process_faults.h"

#include <unistd.h>

#include <array>
#include <csignal>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

#include "faults/registry.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/loader.h"
#include "targets/attach.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

// "primary node2" for a `patroni` target (the member chosen when the fault was built), else its name.
std::string who(const TargetHandle& target) {
  const auto member = target.member();
  return member ? target.name() + " " + member->name : target.name();
}

// "pid 4242", "postgres pid 4242" for a `patroni` target.
std::string pid_text(const TargetHandle& target, const std::optional<targets::ProcessId>& id) {
  const std::string process = target.member() ? target.spec().patroni->process + " " : "";
  return id ? process + "pid " + std::to_string(id->pid) : "no " + (process.empty() ? "process " : process) + "running";
}

// The member of a `patroni` target, as chosen: what the ledger and the journal say it was.
void add_member(const TargetHandle& target, nlohmann::json& r) {
  const auto m = target.member();
  if (!m) return;
  r["member"] = {{"name", m->name},
                 {"role", m->role},
                 {"asked", m->asked},
                 {"host", m->host},
                 {"port", m->port},
                 {"api", m->api},
                 {"process", target.spec().patroni->process},
                 {"candidates", m->candidates},
                 {"answered_by", m->answered_by}};
}

Result<targets::ProcessId> running_process(TargetHandle& target) {
  auto id = target.process();
  if (!id || !targets::is_alive(*id)) {
    return Error{"target '" + target.name() + "' has no running process"};
  }
  return *id;
}

// Polls `condition` every 20 ms for up to `timeout`; the halt switch does not cut this short, because
// the caller is usually reverting *because* of a halt.
bool wait_for_state(const std::function<bool()>& condition, Duration timeout) {
  HaltSwitch never;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    never.wait_for(20ms);
  }
  return true;
}

// The parent pid of `pid` from /proc/<pid>/stat (the field after the state), 0 if unknown.
int parent_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the name may hold spaces and parentheses
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  char state = 0;
  int ppid = 0;
  rest >> state >> ppid;
  return ppid;
}

// The ancestors of `pid` below init that run now (not stopped), up to a few levels: those a pause
// can stop by job control. This process (the runner) is never one of them.
std::vector<targets::ProcessId> running_parents(int pid) {
  std::vector<targets::ProcessId> out;
  for (int p = parent_of(pid), depth = 0; p > 1 && p != ::getpid() && depth < 8; p = parent_of(p), ++depth) {
    const char state = targets::process_state(p);
    if (state == 'T' || state == 't' || state == 0) continue;
    if (auto id = targets::identify(p)) out.push_back(*id);
  }
  return out;
}

bool terminates(int signal) {
  return signal == SIGKILL || signal == SIGTERM || signal == SIGINT || signal == SIGQUIT || signal == SIGABRT ||
         signal == SIGSEGV;
}

// How long a revert waits for a supervisor to bring an attached target back before it gives up (no
// restart_command) or runs the restart_command (kReturnGrace): a supervisor restarting the process
// is what the system does by itself, and starting a second copy beside it would be wrong.
constexpr Duration kComeBackDeadline = 30s;
constexpr Duration kReturnGrace = 1s;

// Waits until an attached target brought back passes its `ready:` check; nothing to wait for
// without one. A `process` target's check was waited for by start_again: only the time is taken.
Status await_ready(TargetHandle& target, std::optional<Duration>& took, std::chrono::steady_clock::time_point since) {
  const auto attach = target.attach();
  auto id = target.process();
  if (const auto& process = target.spec().process; process && process->ready) {
    took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - since);  // start_again waited
    return ok_status();
  }
  if (!attach || !attach->ready || !id) return ok_status();
  HaltSwitch never;  // a revert is what a halt asks for: it is not cut short
  if (auto s = targets::wait_ready(*attach->ready, *id, target.log_path(), never); !s) {
    return Error{"target '" + target.name() + "' is back (pid " + std::to_string(id->pid) +
                 ") but not ready: " + s.error()};
  }
  took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - since);
  return ok_status();
}

class KillFault final : public Fault {
 public:
  KillFault(TargetHandle& target, int signal) : target_(target), signal_(signal), victim_(target.process()) {}

  bool brings_back() const override { return terminates(signal_); }
  bool back() override {
    auto current = target_.process();
    if (current && targets::is_alive(*current)) return true;
    const auto attach = target_.attach();
    return attach && back_by_itself(*attach, victim_).has_value();
  }
  Duration return_grace() const override {
    const auto attach = target_.attach();
    if (!attach || attach->pid) return Duration::zero();  // we start it, or a pid rule cannot see it return
    return attach->restart_command.empty() ? kComeBackDeadline : kReturnGrace;
  }
  std::optional<Duration> ready_took() const override { return ready_took_; }

  std::string kind() const override { return std::string(kinds::process_killed); }
  std::string summary() const override {
    return "kill " + who(target_) + " with " + signal_name(signal_) + " (" + pid_text(target_, victim_) + ")";
  }
  std::string record() const override {
    nlohmann::json r{{"target", target_.name()}, {"signal", signal_}};
    if (victim_) r["pid"] = victim_->pid, r["start_time"] = victim_->start_time;
    add_member(target_, r);
    if (const auto attach = target_.attach()) {
      // How a new process finds the target again after a crash (faults/undo.cpp, bring_back).
      nlohmann::json rule = nlohmann::json::object();
      if (attach->pid) rule["pid"] = *attach->pid;
      if (!attach->pidfile.empty()) rule["pidfile"] = attach->pidfile;
      if (!attach->name.empty()) rule["name"] = attach->name;
      if (!attach->pid_command.empty()) rule["pid_command"] = attach->pid_command;
      if (!attach->pid_url.empty()) rule["pid_url"] = attach->pid_url;
      if (!attach->pid_field.empty()) rule["pid_field"] = attach->pid_field;
      if (attach->listen) rule["listen"] = attach->listen->to_string();
      r["attach"] = std::move(rule);
      r["restart_command"] = attach->restart_command;
    }
    return r.dump();
  }

  Status inject(HaltSwitch&) override {
    if (!victim_ || !targets::is_alive(*victim_)) {
      return Error{"target '" + target_.name() + "' has no running process"};
    }
    const targets::ProcessId id = *victim_;
    if (auto s = targets::send_signal(id, signal_); !s) return s;
    if (terminates(signal_)) {
      if (!wait_for_state([&] { return !targets::is_alive(id); }, 5s)) {
        return Error{"sent " + signal_name(signal_) + " to " + target_.name() + " (pid " + std::to_string(id.pid) +
                     ") but it is still running after 5s"};
      }
      target_.set_process(std::nullopt);
    }
    return ok_status();
  }

  Status revert(HaltSwitch& halt) override {
    const auto since = std::chrono::steady_clock::now();
    auto current = target_.process();
    if (current && targets::is_alive(*current)) return ok_status();
    if (const auto attach = target_.attach()) {
      // A supervisor (systemd, Patroni, a restart loop) may have brought it back already.
      if (auto found = back_by_itself(*attach, victim_)) {
        target_.set_process(*found);
        return await_ready(target_, ready_took_, since);
      }
    }
    if (auto s = start_again(target_, halt); !s) return s;
    return await_ready(target_, ready_took_, since);
  }

 private:
  TargetHandle& target_;
  int signal_;
  std::optional<targets::ProcessId> victim_;
  std::optional<Duration> ready_took_;
};

// The pid is taken when the fault is built, just before the runner writes record() to the ledger,
// so a crash between SIGSTOP and the ledger write cannot leave an unrecorded stopped process.
class PauseFault final : public Fault {
 public:
  explicit PauseFault(TargetHandle& target) : target_(target), paused_(target.process()) {
    if (paused_) {
      parents_ = running_parents(paused_->pid);
      // What SIGSTOP to its process group stops: a postmaster leads its group, so the whole
      // PostgreSQL (postmaster and backends) stops, not the postmaster alone.
      for (int pid : targets::group_members(paused_->pid)) {
        if (auto id = targets::identify(pid)) members_.push_back(*id);
      }
    }
  }
  std::string kind() const override { return std::string(kinds::process_paused); }
  std::string summary() const override {
    std::string text = "pause " + who(target_) + " (" + pid_text(target_, paused_);
    if (members_.size() > 1) text += " and " + std::to_string(members_.size() - 1) + " more in its process group";
    return text + ")";
  }
  std::string record() const override {
    nlohmann::json r{{"target", target_.name()}};
    if (paused_) r["pid"] = paused_->pid, r["start_time"] = paused_->start_time;
    add_member(target_, r);
    nlohmann::json group = nlohmann::json::array();
    for (const auto& p : members_) group.push_back({{"pid", p.pid}, {"start_time", p.start_time}});
    r["group"] = std::move(group);
    // Its parents that were not stopped before the pause: a `su`/`runuser` wrapper stops itself
    // when its child stops (job control), and is resumed with it (faults/undo.cpp, resume).
    nlohmann::json parents = nlohmann::json::array();
    for (const auto& p : parents_) parents.push_back({{"pid", p.pid}, {"start_time", p.start_time}});
    r["parents"] = std::move(parents);
    return r.dump();
  }
  Status inject(HaltSwitch&) override {
    if (!paused_ || !targets::is_alive(*paused_))
      return Error{"target '" + target_.name() + "' has no running process"};
    if (auto s = targets::send_signal(*paused_, SIGSTOP); !s) return s;
    if (!wait_for_state([&] { return targets::process_state(paused_->pid) == 'T'; }, 2s)) {
      return Error{"sent SIGSTOP to " + target_.name() + " but it did not stop within 2s"};
    }
    return ok_status();
  }
  Status revert(HaltSwitch&) override {
    if (!paused_) return ok_status();
    return undo(kinds::process_paused, record());
  }

 private:
  TargetHandle& target_;
  std::optional<targets::ProcessId> paused_;
  std::vector<targets::ProcessId> parents_;
  std::vector<targets::ProcessId> members_;  // its process group when the pause was built
};

class RestartFault final : public Fault {
 public:
  explicit RestartFault(TargetHandle& target) : target_(target) {}
  bool brings_back() const override { return true; }
  bool back() override {
    auto current = target_.process();
    return current && targets::is_alive(*current);
  }
  std::optional<Duration> ready_took() const override { return ready_took_; }
  std::string kind() const override { return std::string(kinds::process_restarted); }
  std::string summary() const override { return "restart " + who(target_); }
  std::string record() const override {
    nlohmann::json r{{"target", target_.name()}};
    add_member(target_, r);
    return r.dump();
  }

  Status inject(HaltSwitch& halt) override {
    auto id = running_process(target_);
    if (!id) return Error{id.error()};
    if (auto s = targets::stop(*id); !s) return s;
    target_.set_process(std::nullopt);
    const auto since = std::chrono::steady_clock::now();
    if (auto s = start_again(target_, halt); !s) return s;
    return await_ready(target_, ready_took_, since);
  }
  // A restart leaves the target as it was (running); revert only makes sure it runs and is ready.
  Status revert(HaltSwitch& halt) override {
    const auto since = std::chrono::steady_clock::now();
    auto current = target_.process();
    if (!current || !targets::is_alive(*current)) {
      if (auto s = start_again(target_, halt); !s) return s;
    }
    return await_ready(target_, ready_took_, since);
  }

 private:
  TargetHandle& target_;
  std::optional<Duration> ready_took_;
};

}  // namespace

std::optional<targets::ProcessId> back_by_itself(const spec::ProcessAttach& attach,
                                                 const std::optional<targets::ProcessId>& victim) {
  if (attach.pid) return std::nullopt;
  auto found = targets::resolve(attach);
  if (!found) return std::nullopt;
  if (victim && found->pid == victim->pid) return std::nullopt;
  return *found;
}

Status start_again(TargetHandle& target, HaltSwitch& halt) {
  const spec::Target& spec = target.spec();
  const auto attach = target.attach();
  spec::ProcessLaunch launch;
  if (spec.process) {
    launch = *spec.process;
  } else if (attach && !attach->restart_command.empty()) {
    launch.command = attach->restart_command;
  } else {
    return Error{"cannot bring target '" + target.name() +
                 "' back: it was not started by chaosplus and has no attach.restart_command"};
  }
  if (attach) {
    auto id = targets::spawn(launch, target.log_path());
    if (!id) return Error{"restarting " + target.name() + ": " + id.error()};
    // Not recorded as started by the run: the target ran before the run and must run after it, so
    // the end of the run does not stop what the restart command brought back.
    // The restart command may daemonise: the target is whatever the attach rule finds next.
    std::optional<targets::ProcessId> found;
    wait_for_state(
        [&] {
          auto r = targets::resolve(*attach);
          if (r) found = *r;
          return found.has_value();
        },
        10s);
    if (!found) return Error{"restarted " + target.name() + " but its process cannot be found again"};
    target.set_process(found);
    return ok_status();
  }
  auto id = target.start_recorded ? target.start_recorded(launch) : targets::spawn(launch, target.log_path());
  if (!id) return Error{"restarting " + target.name() + ": " + id.error()};
  target.set_process(*id);
  if (launch.ready) {
    if (auto s = targets::wait_ready(*launch.ready, *id, target.log_path(), halt); !s) {
      return Error{"restarted " + target.name() + " but it did not become ready: " + s.error()};
    }
  }
  return ok_status();
}

// ---- the family -------------------------------------------------------------------------------

namespace {

// clang-format off
constexpr std::array<spec::FaultParam, 1> kKillParams{{
    {"signal", spec::ParamKind::signal, "SIGKILL", false, {},
     "a signal such as SIGKILL, SIGTERM or 9: what is sent to the process"},
}};
// clang-format on

const std::array<spec::FaultType, 3>& types() {
  static const std::array<spec::FaultType, 3> kTypes{{
      {"kill", spec::Capability::signal_process, kKillParams,
       "send a signal (SIGKILL by default) to the target process"},
      {"pause", spec::Capability::signal_process, {}, "stop the process (SIGSTOP) and continue it (SIGCONT) on revert"},
      {"restart", spec::Capability::restart_process, {}, "stop the process and start it again"},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 3> kKinds{kinds::process_killed, kinds::process_paused,
                                                 kinds::process_restarted};

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  if (fault.type == "kill") {
    int signal = SIGKILL;
    if (auto it = fault.params.find("signal"); it != fault.params.end()) {
      if (auto s = parse_signal(it->second)) signal = *s;
    }
    return std::unique_ptr<Fault>(std::make_unique<KillFault>(target, signal));
  }
  if (fault.type == "pause") return std::unique_ptr<Fault>(std::make_unique<PauseFault>(target));
  if (fault.type == "restart") return std::unique_ptr<Fault>(std::make_unique<RestartFault>(target));
  return Error{"'" + fault.type + "' is not a process fault"};
}

std::optional<targets::ProcessId> process_in(const nlohmann::json& r) {
  if (!r.contains("pid")) return std::nullopt;
  return targets::ProcessId{r.at("pid").get<int>(), r.value("start_time", 0ULL)};
}

bool stopped(int pid) {
  const char state = targets::process_state(pid);
  return state == 'T' || state == 't';
}

Status continue_process(const targets::ProcessId& id, targets::SignalScope scope) {
  if (auto s = targets::send_signal(id, SIGCONT, scope); !s) return s;
  if (wait_for_state([&] { return !stopped(id.pid); }, 1s)) return ok_status();
  return Error{"sent SIGCONT to pid " + std::to_string(id.pid) + " but it is still stopped"};
}

// The paused process, then its parents that were running before the pause and are stopped now: a
// `su`/`runuser` wrapper stops itself by job control when its child stops, and nothing else would
// continue it. A parent stopped before the pause is left as it was.
Status resume(const nlohmann::json& r) {
  auto id = process_in(r);
  if (id && targets::is_alive(*id)) {
    if (auto s = continue_process(*id, targets::SignalScope::group); !s) return s;
  }
  // Every process of its group that was paused with it and is still stopped (one that left the group).
  if (const auto group = r.find("group"); group != r.end() && group->is_array()) {
    for (const auto& p : *group) {
      auto member = process_in(p);
      if (!member || !targets::is_alive(*member) || !stopped(member->pid)) continue;
      if (auto s = continue_process(*member, targets::SignalScope::process); !s) return s;
    }
  }
  if (const auto parents = r.find("parents"); parents != r.end() && parents->is_array()) {
    for (const auto& p : *parents) {
      auto parent = process_in(p);
      if (!parent || !targets::is_alive(*parent) || !stopped(parent->pid)) continue;
      if (auto s = continue_process(*parent, targets::SignalScope::process); !s) return s;
    }
  }
  return ok_status();
}

// The attach rule a kill recorded; none for a target the runner started.
std::optional<spec::ProcessAttach> attach_in(const nlohmann::json& r) {
  if (!r.contains("restart_command")) return std::nullopt;
  spec::ProcessAttach attach;
  attach.restart_command = r.at("restart_command").get<std::vector<std::string>>();
  if (const auto rule = r.find("attach"); rule != r.end()) {
    if (rule->contains("pid")) attach.pid = rule->at("pid").get<int>();
    attach.pidfile = rule->value("pidfile", std::string());
    attach.name = rule->value("name", std::string());
    attach.pid_command = rule->value("pid_command", std::vector<std::string>());
    attach.pid_url = rule->value("pid_url", std::string());
    attach.pid_field = rule->value("pid_field", std::string());
    if (rule->contains("listen")) {
      if (auto endpoint = spec::parse_endpoint(rule->at("listen").get<std::string>())) attach.listen = *endpoint;
    }
  }
  return attach;
}

Status bring_back(const nlohmann::json& r) {
  auto id = process_in(r);
  if (id && targets::is_alive(*id)) return ok_status();
  // A target the runner started is stopped by its own process.started entry; nothing to bring back.
  auto attach = attach_in(r);
  if (!attach) return ok_status();
  const bool has_rule = attach->pid || !attach->pidfile.empty() || !attach->name.empty() ||
                        !attach->pid_command.empty() || !attach->pid_url.empty() || attach->listen;
  if (has_rule && back_by_itself(*attach, id)) return ok_status();  // a supervisor restarted it
  const std::string target = r.value("target", std::string("?"));
  if (attach->restart_command.empty()) {
    return Error{"target '" + target +
                 "' was killed and is not running; it has no attach.restart_command, so "
                 "start it by hand (chaosplus recover checks again)"};
  }
  spec::ProcessLaunch launch;
  launch.command = attach->restart_command;
  auto started = targets::spawn(launch, "/dev/null");
  if (!started) return Error{"restart command of " + target + ": " + started.error()};
  return ok_status();
}

Status undo_process_fault(std::string_view kind, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  if (kind == kinds::process_paused) return resume(r);
  if (kind == kinds::process_killed) return bring_back(r);
  return ok_status();  // process.restarted: the restarted process is its own entry
}

}  // namespace

FaultFamily process_fault_family() { return {"process", types(), kKinds, make, undo_process_fault}; }

}  // namespace chaosplus::faults
