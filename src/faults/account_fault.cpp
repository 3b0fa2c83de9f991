// lock_account: a local account stops working, as when someone leaves or is locked out during an
// incident ("people disappear" on a game day). usermod -L puts "!" before its password hash, so no
// password logs in; with `expire: true` usermod -e 1 also sets its expiry date in the past
// (1970-01-02), which PAM's account check refuses for every way in (keys too); with
// `end_sessions: true` its running processes are ended (loginctl terminate-user when logind runs,
// then SIGTERM, and SIGKILL after `grace`), each recorded by pid and start time before it is signalled.
//
// The record holds the exact /etc/shadow fields and /etc/passwd line before anything changes, and
// the password and expiry fields the fault will write. Revert (and undo after a crash) gives back each
// field the fault changed that still holds the fault's value, under lckpwdf() with an atomic rewrite
// of /etc/shadow (faults/shadow_entry.h): the line is then byte for byte what it was. A field someone
// else changed while the fault was on is theirs and is left. Ended processes stay ended.
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "faults/registry.h"
#include "faults/shadow_entry.h"
#include "faults/system_tool.h"
#include "faults/target_handle.h"
#include "targets/process.h"

namespace chaosplus::faults {
namespace {

constexpr std::string_view kKind = "account.locked";
constexpr const char* kShadow = "/etc/shadow";
constexpr const char* kPasswd = "/etc/passwd";
// Accounts below this uid, and nobody, are the system's own (daemons, services): locking one takes
// allow_system: true. 1000 is UID_MIN of login.defs on Debian, Ubuntu, Fedora and Arch.
constexpr uid_t kFirstPersonUid = 1000;
constexpr uid_t kNobodyUid = 65534;
// The expiry usermod -e 1 writes: 1970-01-02, long past.
constexpr std::string_view kExpiredDay = "1";
// Processes that keep appearing (a supervisor restarting a session) are signalled this many rounds.
constexpr int kEndRounds = 4;

// clang-format off
constexpr std::array<spec::FaultParam, 5> kParams{{
    {"user", spec::ParamKind::text, "", true, {},
     "the local account to lock (a name in /etc/passwd); never root or the account chaosplus runs as"},
    {"expire", spec::ParamKind::boolean, "false", false, {},
     "true: also set its expiry date in the past (usermod -e 1), which refuses key logins too"},
    {"end_sessions", spec::ParamKind::boolean, "false", false, {},
     "true: also end its running processes (loginctl terminate-user, SIGTERM, SIGKILL after grace)"},
    {"grace", spec::ParamKind::duration, "5s", false, {},
     "with end_sessions: how long its processes have after SIGTERM before SIGKILL"},
    {"allow_system", spec::ParamKind::boolean, "false", false, {},
     "true: allow an account below uid 1000 or nobody (a service's account); refused otherwise"},
}};
// clang-format on

struct Account {
  std::string name;
  uid_t uid = 0;
};

// Whether `user` may be locked at all; the problem for its `user` (or allow_system) parameter.
std::optional<spec::ParamProblem> refusal(const std::string& user, bool allow_system, Account* account = nullptr) {
  const passwd* entry = ::getpwnam(user.c_str());
  if (entry == nullptr) {
    return spec::ParamProblem{"user", "found '" + user + "', expected a local account (none of that name in " +
                                          std::string(kPasswd) + " or the passwd database)"};
  }
  if (entry->pw_uid == 0) return spec::ParamProblem{"user", "found '" + user + "': uid 0 (root) is never locked"};
  if (entry->pw_uid == ::geteuid() || entry->pw_uid == ::getuid()) {
    return spec::ParamProblem{"user", "found '" + user + "': the account chaosplus runs as is never locked"};
  }
  if (const char* sudo_user = std::getenv("SUDO_USER"); sudo_user != nullptr && user == sudo_user) {
    return spec::ParamProblem{"user",
                              "found '" + user + "': the account that started chaosplus (sudo) is never locked"};
  }
  if (!allow_system && (entry->pw_uid < kFirstPersonUid || entry->pw_uid == kNobodyUid)) {
    return spec::ParamProblem{"user", "found '" + user + "' (uid " + std::to_string(entry->pw_uid) +
                                          "): a system account; set allow_system: true to lock it"};
  }
  if (account != nullptr) *account = {entry->pw_name, entry->pw_uid};
  return std::nullopt;
}

std::vector<spec::ParamProblem> check(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("lock_account"), fault);
  if (!p) return {{"", p.error()}};
  if (p->text("user").empty()) return {{"user", "found '', expected the name of a local account"}};
  std::vector<spec::ParamProblem> problems;
  if (auto why = refusal(p->text("user"), p->flag("allow_system"))) problems.push_back(*why);
  if (p->given("grace") && p->duration("grace") <= Duration::zero()) {
    problems.push_back({"grace", "found " + format_duration(p->duration("grace")) + ", expected a positive duration"});
  }
  return problems;
}

// Live processes whose real or effective uid is `uid`, chaosplus itself left out.
std::vector<targets::ProcessId> processes_of(uid_t uid) {
  std::vector<targets::ProcessId> found;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::atoi(name.c_str());
    if (pid == ::getpid()) continue;
    std::ifstream status(entry.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (!line.starts_with("Uid:")) continue;
      std::istringstream ids(line.substr(4));
      uid_t real = 0, effective = 0;
      if ((ids >> real >> effective) && (real == uid || effective == uid)) {
        if (auto id = targets::identify(pid); id && targets::process_state(pid) != 'Z') found.push_back(*id);
      }
      break;
    }
  }
  return found;
}

bool logind_runs() { return std::filesystem::exists("/run/systemd/system") && !find_tool("loginctl").empty(); }

struct Settings {
  Account account;
  bool expire = false;
  bool end_sessions = false;
  Duration grace = std::chrono::seconds(5);
};

// What the fault writes into the entry, from the original line: the lock ("!" before the hash, as
// usermod -L does; an entry locked already stays as it is) and, with expire, the expiry day.
struct Plan {
  std::string shadow_line;  // before anything changed
  std::string passwd_line;
  std::string password;  // the original password field
  std::string locked_password;
  std::string expiry;   // the original expiry field
  std::string expired;  // what it will hold (the original when expire is false)
};

Result<Plan> plan_for(const Settings& s) {
  auto shadow = account_line(kShadow, s.account.name);
  if (!shadow) {
    // not_found: an account of LDAP or SSSD, known through NSS, that /etc/shadow does not hold.
    return Error{shadow.code() == ErrorCode::not_found ? shadow.error() + " (only local accounts can be locked)"
                                                       : shadow.error() + " (reading it needs root)"};
  }
  auto passwd = account_line(kPasswd, s.account.name);
  if (!passwd) return Error{passwd.error()};
  const auto fields = split_fields(*shadow);
  if (fields.size() != 9) {
    return Error{std::string(kShadow) + ": the entry of '" + s.account.name + "' has " + std::to_string(fields.size()) +
                 " fields, expected 9 (shadow(5))"};
  }
  Plan plan{*shadow, *passwd, fields[kShadowPassword], "", fields[kShadowExpire], ""};
  plan.locked_password = plan.password.starts_with("!") ? plan.password : "!" + plan.password;
  plan.expired = s.expire ? std::string(kExpiredDay) : plan.expiry;
  return plan;
}

std::string line_after_fault(const Plan& plan) {
  auto fields = split_fields(plan.shadow_line);
  fields[kShadowPassword] = plan.locked_password;
  fields[kShadowExpire] = plan.expired;
  return join_fields(fields);
}

// Gives back each field the fault changed that still holds the fault's value; the line afterwards.
Result<std::string> restore(const std::string& user, const Plan& plan) {
  auto line = edit_shadow_entry(kShadow, user, [&](std::vector<std::string>& fields) {
    if (fields.size() <= kShadowExpire) return;
    if (fields[kShadowPassword] == plan.locked_password) fields[kShadowPassword] = plan.password;
    if (fields[kShadowExpire] == plan.expired) fields[kShadowExpire] = plan.expiry;
  });
  if (!line && line.code() == ErrorCode::not_found) return std::string();  // the account was deleted meanwhile
  return line;
}

class LockAccountFault final : public Fault {
 public:
  LockAccountFault(std::string target, Settings settings, Plan plan)
      : target_(std::move(target)), settings_(std::move(settings)), plan_(std::move(plan)) {}

  std::string kind() const override { return std::string(kKind); }
  std::string summary() const override {
    return "lock account " + settings_.account.name + " (uid " + std::to_string(settings_.account.uid) + ")" +
           (settings_.expire ? ", expired" : "") + (settings_.end_sessions ? ", sessions ended" : "") + " for " +
           target_;
  }
  // The shadow entry's fields exactly, the hash only under keys that name a password, so what
  // prints records (recover, leftovers, the ledger's witness) shows it redacted. The ledger itself is
  // readable by its owner only (0600), like /etc/shadow.
  std::string record() const override {
    nlohmann::json ended = nlohmann::json::array();
    for (const auto& id : ended_) ended.push_back({{"pid", id.pid}, {"start_time", id.start_time}});
    nlohmann::json shadow_fields = nlohmann::json::array();
    for (const auto& field : split_fields(plan_.shadow_line)) shadow_fields.push_back(field);
    shadow_fields[kShadowPassword] = nullptr;  // = "password"
    return nlohmann::json{{"target", target_},
                          {"user", settings_.account.name},
                          {"uid", settings_.account.uid},
                          {"shadow_fields", std::move(shadow_fields)},
                          {"passwd_line", plan_.passwd_line},
                          {"password", plan_.password},
                          {"locked_password", plan_.locked_password},
                          {"expiry", plan_.expiry},
                          {"expired", plan_.expired},
                          {"end_sessions", settings_.end_sessions},
                          {"tool_pid", tool_.pid},
                          {"tool_start_time", tool_.start_time},
                          {"ended", std::move(ended)}}
        .dump();
  }
  std::map<std::string, std::int64_t> reach() const override {
    if (!settings_.end_sessions) return {};
    return {{"processes_ended", static_cast<std::int64_t>(ended_.size())}};
  }

  Status inject(HaltSwitch& halt) override {
    std::vector<std::string> argv{"usermod", "-L"};
    if (settings_.expire) argv.insert(argv.end(), {"-e", std::string(kExpiredDay)});
    argv.push_back(settings_.account.name);
    auto ran = run_tool_checked(argv, {}, std::chrono::seconds(30), [this](const targets::ProcessId& id) {
      tool_ = id;
      return record_changed();
    });
    if (!ran) return Error{ran.failure()};
    auto now = account_line(kShadow, settings_.account.name);
    if (!now) return Error{now.failure()};
    if (const std::string expected = line_after_fault(plan_); *now != expected) {
      return Error{"after '" + describe_command(argv) + "' the shadow entry of " + settings_.account.name +
                   " differs from the expected one in more than its password and expiry fields"};
    }
    return settings_.end_sessions ? end_sessions(halt) : ok_status();
  }

  Status revert(HaltSwitch&) override {
    if (auto s = stop_recorded_tool(tool_.pid, tool_.start_time); !s) return s;
    auto line = restore(settings_.account.name, plan_);
    if (!line) return Error{line.failure()};
    return ok_status();
  }

 private:
  // Every process of the account, recorded (pid + start time) before it is signalled: SIGTERM first,
  // then SIGKILL after the grace, for as long as new ones appear (a few rounds). A halted run stops
  // ending them: the lock comes off next.
  Status end_sessions(HaltSwitch& halt) {
    const std::string& user = settings_.account.name;
    if (auto first = processes_of(settings_.account.uid); !first.empty() && logind_runs()) {
      if (auto s = remember(first); !s) return s;
      (void)run_tool({"loginctl", "terminate-user", user});  // best effort: the signals below make sure
    }
    for (int round = 0; round < kEndRounds; ++round) {
      if (halt.triggered()) return ok_status();
      auto found = processes_of(settings_.account.uid);
      if (found.empty()) return ok_status();
      if (auto s = remember(found); !s) return s;
      const int signal = round == 0 ? SIGTERM : SIGKILL;
      for (const auto& id : found) {
        (void)targets::send_signal(id, signal, targets::SignalScope::process);
        if (signal == SIGTERM) (void)targets::send_signal(id, SIGCONT, targets::SignalScope::process);
      }
      const auto deadline =
          std::chrono::steady_clock::now() + (round == 0 ? settings_.grace : Duration(std::chrono::seconds(5)));
      auto all_gone = [&] {
        for (const auto& id : found) {
          if (targets::is_alive(id)) return false;
        }
        return true;
      };
      while (!all_gone() && !halt.triggered() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    const auto left = processes_of(settings_.account.uid);
    if (left.empty() || halt.triggered()) return ok_status();
    return Error{std::to_string(left.size()) + " process(es) of " + user + " still run after SIGKILL, e.g. " +
                 targets::describe(left.front())};
  }

  Status remember(const std::vector<targets::ProcessId>& found) {
    bool added = false;
    for (const auto& id : found) {
      if (std::find(ended_.begin(), ended_.end(), id) != ended_.end()) continue;
      ended_.push_back(id);
      added = true;
    }
    return added ? record_changed() : ok_status();
  }

  std::string target_;
  Settings settings_;
  Plan plan_;
  targets::ProcessId tool_;
  std::vector<targets::ProcessId> ended_;
};

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{
      {"lock_account", spec::Capability::any, kParams,
       "lock a local account (usermod -L), optionally expire it and end its sessions; its shadow entry is put "
       "back byte for byte",
       false, check},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kKind};

// The original entry is read here, before the runner writes the record and calls inject().
Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("lock_account"), fault);
  if (!p) return Error{p.error()};
  Settings settings;
  // Checked again: the account may have changed since the experiment was validated.
  if (auto why = refusal(p->text("user"), p->flag("allow_system"), &settings.account)) {
    return Error{"fault 'lock_account' on '" + target.name() + "': " + why->param + ": " + why->message};
  }
  settings.expire = p->flag("expire");
  settings.end_sessions = p->flag("end_sessions");
  settings.grace = p->duration("grace");
  auto plan = plan_for(settings);
  if (!plan) return Error{"fault 'lock_account' on '" + target.name() + "': " + plan.error()};
  return std::unique_ptr<Fault>(std::make_unique<LockAccountFault>(target.name(), std::move(settings), *plan));
}

Status undo_lock(std::string_view, std::string_view record) {
  const auto r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("user") || !r.contains("password")) {
    return Error{"unreadable ledger record: " + std::string(record)};
  }
  if (auto s = stop_recorded_tool(r.value("tool_pid", 0), r.value("tool_start_time", 0ULL)); !s) return s;
  // Restoring needs the fields the fault wrote and their originals; the rest of the entry is not
  // written (shadow_fields, passwd_line are for people and checks).
  Plan plan{"",
            r.value("passwd_line", ""),
            r.at("password").get<std::string>(),
            r.value("locked_password", ""),
            r.value("expiry", ""),
            r.value("expired", "")};
  auto line = restore(r.at("user").get<std::string>(), plan);
  if (!line) return Error{line.failure()};
  return ok_status();
}

}  // namespace

FaultFamily account_fault_family() { return {"account", types(), kKinds, make, undo_lock}; }

}  // namespace chaosplus::faults
