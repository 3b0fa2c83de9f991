// lock_account on a throwaway account made with useradd (and deleted by a guard): while the fault is
// on, passwd -S reports it locked, su refuses it as expired and a process running as it (started with
// runuser) has been ended; after revert, and after `chaosplus recover` following a kill -9 of
// `chaosplus run`, its /etc/shadow and /etc/passwd lines are byte for byte what they were.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "faults/fault.h"
#include "faults/shadow_entry.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;
using testing::Child;

// Runs a program to its end; its exit code (output in `out`).
int run(const std::vector<std::string>& argv, std::string* out = nullptr) {
  Child child(argv);
  const auto code = child.wait(60s);
  if (out != nullptr) *out = child.output();
  return code.value_or(-1);
}

std::string line_of(const std::string& file, const std::string& user) {
  auto line = account_line(file, user);
  return line ? *line : "(none: " + line.error() + ")";
}

// A local account of its own for one test: made with useradd, a password set (so its shadow entry
// holds a real hash) and a last-change day in the past; deleted again however the test ends.
class ThrowawayUser {
 public:
  explicit ThrowawayUser(bool with_password = true)
      : name_("cpx-acct-" + std::to_string(::getpid()) + "-" + std::to_string(next_++)) {
    std::string out;
    created_ = run({"useradd", "-M", "-s", "/bin/sh", name_}, &out) == 0;
    EXPECT_TRUE(created_) << out;
    if (created_ && with_password) {
      Child chpasswd({"sh", "-c", "echo \"$0:Secret-$$-42\" | chpasswd && chage -d 2020-02-02 \"$0\"", name_});
      EXPECT_EQ(chpasswd.wait(60s), 0) << chpasswd.output();
    }
    if (const passwd* entry = ::getpwnam(name_.c_str())) uid_ = entry->pw_uid;
  }
  ~ThrowawayUser() {
    if (!created_) return;
    // -f: a session the test started may still be on its way out (its Child is SIGKILLed first).
    std::string out;
    EXPECT_EQ(run({"userdel", "-f", name_}, &out), 0) << out;
  }
  ThrowawayUser(const ThrowawayUser&) = delete;
  ThrowawayUser& operator=(const ThrowawayUser&) = delete;

  const std::string& name() const { return name_; }
  uid_t uid() const { return uid_; }
  std::string shadow() const { return line_of("/etc/shadow", name_); }
  std::string passwd_line() const { return line_of("/etc/passwd", name_); }
  // "L", "P" or "NP": the second word of passwd -S.
  std::string status() const {
    std::string out;
    run({"passwd", "-S", name_}, &out);
    std::istringstream words(out);
    std::string user, state;
    words >> user >> state;
    return state;
  }
  // su refuses an expired account even to root (PAM's account check).
  bool su_works() const { return run({"su", "-s", "/bin/sh", "-c", "true", name_}) == 0; }

 private:
  static inline int next_ = 0;
  std::string name_;
  uid_t uid_ = 0;
  bool created_ = false;
};

// A process running as `user` (runuser, as a session would), until the fault ends it.
struct Session {
  explicit Session(const std::string& user) : child({"runuser", "-u", user, "--", "sleep", "600"}) {}
  Child child;
};

bool has_process_of(uid_t uid) {
  Child pgrep({"pgrep", "-U", std::to_string(uid)});
  return pgrep.wait(10s) == 0;
}

spec::Fault loaded(const std::string& settings) {
  const std::string text =
      "name: accounts\ntargets:\n  people: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - lock_account: { target: people, " +
      settings + " }\n";
  auto result = spec::load_experiment_text(text, "accounts.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.ok() ? result.experiment->phases[0].faults[0] : spec::Fault{};
}

TargetHandle people(const testing::TempDir& dir) {
  spec::Target t;
  t.name = "people";
  spec::ProcessLaunch launch;
  launch.command = {"sleep", "600"};
  t.process = launch;
  return TargetHandle(t, dir.file("people.log"));
}

class AccountFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::needs_root("useradd, /etc/shadow"); !why.empty()) GTEST_SKIP() << why;
  }
  testing::TempDir dir;
};

TEST_F(AccountFault, LocksExpiresEndsItsSessionsAndRevertsByteForByte) {
  ThrowawayUser user;
  const std::string shadow_before = user.shadow();
  const std::string passwd_before = user.passwd_line();
  ASSERT_EQ(user.status(), "P") << shadow_before;
  ASSERT_TRUE(user.su_works());
  Session session(user.name());
  ASSERT_TRUE(testing::wait_until([&] { return has_process_of(user.uid()); })) << session.child.output();

  auto target = people(dir);
  auto fault = make_fault(loaded("user: " + user.name() + ", expire: true, end_sessions: true, grace: 2s"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  EXPECT_EQ((*fault)->kind(), "account.locked");
  const auto record = nlohmann::json::parse((*fault)->record());
  auto recorded = record.at("shadow_fields").get<std::vector<nlohmann::json>>();
  std::vector<std::string> fields_before;
  for (const auto& field : recorded) fields_before.push_back(field.is_null() ? "" : field.get<std::string>());
  fields_before[kShadowPassword] = record.at("password").get<std::string>();
  EXPECT_EQ(join_fields(fields_before), shadow_before) << "the original entry is recorded before anything changes";
  EXPECT_TRUE(recorded[kShadowPassword].is_null()) << "the hash only under a key that names a password";
  EXPECT_EQ(record.at("passwd_line"), passwd_before);

  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(user.status(), "L");
  auto fields = split_fields(user.shadow());
  EXPECT_EQ(fields[kShadowPassword], "!" + split_fields(shadow_before)[kShadowPassword]);
  EXPECT_EQ(fields[kShadowExpire], "1");
  EXPECT_FALSE(user.su_works()) << "an expired account is refused";
  EXPECT_FALSE(has_process_of(user.uid())) << "its session was ended";
  EXPECT_TRUE(session.child.wait(10s).has_value());
  EXPECT_GE((*fault)->reach().at("processes_ended"), 1);
  const auto ended = nlohmann::json::parse((*fault)->record()).at("ended");
  ASSERT_FALSE(ended.empty());
  EXPECT_GT(ended[0].at("start_time").get<unsigned long long>(), 0u) << "recorded by pid and start time";

  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_EQ(user.shadow(), shadow_before);
  EXPECT_EQ(user.passwd_line(), passwd_before);
  EXPECT_EQ(user.status(), "P");
  EXPECT_TRUE(user.su_works());
  EXPECT_TRUE((*fault)->revert(halt).ok()) << "revert is idempotent";
  EXPECT_EQ(user.shadow(), shadow_before);
}

TEST_F(AccountFault, UndoFromTheRecordAloneRestoresTheEntry) {
  ThrowawayUser user;
  const std::string before = user.shadow();
  auto target = people(dir);
  auto fault = make_fault(loaded("user: " + user.name() + ", expire: true"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();  // what the runner writes before inject
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  ASSERT_NE(user.shadow(), before);
  ASSERT_TRUE(undo("account.locked", record).ok());
  EXPECT_EQ(user.shadow(), before);
  EXPECT_TRUE(undo("account.locked", record).ok()) << "undo is idempotent";
  EXPECT_EQ(user.shadow(), before);
}

TEST_F(AccountFault, AnAccountLockedBeforeStaysLockedAfterRevert) {
  ThrowawayUser user(/*with_password=*/false);  // useradd leaves the password field "!"
  const std::string before = user.shadow();
  ASSERT_EQ(user.status(), "L") << before;
  auto target = people(dir);
  auto fault = make_fault(loaded("user: " + user.name()), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(user.shadow(), before) << "locked already: nothing to change";
  ASSERT_TRUE((*fault)->revert(halt).ok());
  EXPECT_EQ(user.shadow(), before);
  EXPECT_EQ(user.status(), "L");
}

TEST_F(AccountFault, AChangeSomeoneElseMadeMeanwhileIsLeftAlone) {
  ThrowawayUser user;
  const std::string before = user.shadow();
  auto target = people(dir);
  auto fault = make_fault(loaded("user: " + user.name() + ", expire: true"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  std::string out;
  ASSERT_EQ(run({"usermod", "-e", "2099-01-01", user.name()}, &out), 0) << out;  // an admin's new expiry
  ASSERT_TRUE((*fault)->revert(halt).ok());
  auto fields = split_fields(user.shadow());
  EXPECT_EQ(fields[kShadowPassword], split_fields(before)[kShadowPassword]) << "the lock is taken off";
  EXPECT_NE(fields[kShadowExpire], split_fields(before)[kShadowExpire]) << "the admin's expiry stays";
  EXPECT_NE(fields[kShadowExpire], "1");
}

TEST_F(AccountFault, RefusesRootAndSystemAccountsWhenItIsBuilt) {
  auto target = people(dir);
  for (const char* settings : {"user: root", "user: daemon"}) {
    spec::Fault f;
    f.type = "lock_account";
    f.target = "people";
    f.params = {{"user", std::string(settings).substr(6)}};
    auto fault = make_fault(f, target);
    EXPECT_FALSE(fault.ok()) << settings;
  }
}

// kill -9 of `chaosplus run` while the account is locked: nothing put it back; `chaosplus recover`
// does, from the ledger alone, byte for byte.
TEST_F(AccountFault, RecoverAfterKillNineOfTheRunRestoresTheEntry) {
  ThrowawayUser user;
  const std::string shadow_before = user.shadow();
  const std::string passwd_before = user.passwd_line();
  Session session(user.name());
  ASSERT_TRUE(testing::wait_until([&] { return has_process_of(user.uid()); })) << session.child.output();
  const std::string experiment = dir.file("lock.yaml");
  testing::write_file(experiment,
                      "name: lock-account-crash\n"
                      "targets:\n  people: { process: { command: [sleep, \"600\"] } }\n"
                      "phases:\n  - name: locked\n    duration: 60s\n    faults:\n"
                      "      - lock_account: { target: people, user: " +
                          user.name() + ", expire: true, end_sessions: true, grace: 1s }\n");
  const std::string state = dir.file("state");
  auto run_child =
      std::make_unique<Child>(std::vector<std::string>{testing::bin("chaosplus"), "run", experiment, "--plain",
                                                       "--state-dir", state, "--journal", dir.file("journal.jsonl")});
  ASSERT_TRUE(testing::wait_until([&] { return user.status() == "L" && !has_process_of(user.uid()); }, 30s))
      << run_child->output();
  run_child->signal(SIGKILL);
  ASSERT_EQ(run_child->wait(30s), 128 + SIGKILL);
  EXPECT_EQ(user.status(), "L") << "nothing reverted itself";
  Child leftovers({testing::bin("chaosplus"), "leftovers", "--state-dir", state});
  leftovers.wait(60s);
  EXPECT_NE(leftovers.output().find(user.name() + " (expiry day 1, as lock_account writes; locked)"), std::string::npos)
      << leftovers.output();

  Child recover({testing::bin("chaosplus"), "recover", "--state-dir", state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_NE(recover.output().find("account.locked"), std::string::npos) << recover.output();
  const std::string hash = split_fields(shadow_before)[kShadowPassword];
  EXPECT_EQ(recover.output().find(hash), std::string::npos) << "the hash is redacted: " << recover.output();
  EXPECT_EQ(user.shadow(), shadow_before);
  EXPECT_EQ(user.passwd_line(), passwd_before);
  EXPECT_TRUE(user.su_works());
  Child again({testing::bin("chaosplus"), "recover", "--state-dir", state});
  EXPECT_EQ(again.wait(60s), 0) << again.output();
  EXPECT_EQ(user.shadow(), shadow_before);
}

// The record of the run's account.locked entry, as the ledger holds it now; null when there is none.
nlohmann::json recorded_lock(const std::string& state) {
  auto ledger = runner::Ledger::open_for_inspection(runner::ledger_path(state));
  if (!ledger) return nullptr;
  auto entries = (*ledger)->entries("");
  if (!entries) return nullptr;
  for (const auto& e : *entries) {
    if (e.kind == "account.locked") return nlohmann::json::parse(e.record, nullptr, false);
  }
  return nullptr;
}

// Another moment: killed while the fault waits out the grace of a session that ignores SIGTERM,
// after the lock and after the session was recorded, before its SIGKILL. The entry comes back
// exactly; the session the runner did not get to kill runs on (the test's guard ends it).
TEST_F(AccountFault, RecoverAfterKillNineDuringTheGraceRestoresTheEntry) {
  ThrowawayUser user;
  const std::string shadow_before = user.shadow();
  // An ignored signal stays ignored across exec: sleep ignores SIGTERM too.
  Child session({"runuser", "-u", user.name(), "--", "sh", "-c", "trap '' TERM; exec sleep 600"});
  ASSERT_TRUE(testing::wait_until([&] { return has_process_of(user.uid()); })) << session.output();
  const std::string experiment = dir.file("lock.yaml");
  testing::write_file(experiment,
                      "name: lock-account-grace\n"
                      "targets:\n  people: { process: { command: [sleep, \"600\"] } }\n"
                      "phases:\n  - name: locked\n    duration: 60s\n    faults:\n"
                      "      - lock_account: { target: people, user: " +
                          user.name() + ", end_sessions: true, grace: 50s }\n");
  const std::string state = dir.file("state");
  Child run_child({testing::bin("chaosplus"), "run", experiment, "--plain", "--state-dir", state, "--journal",
                   dir.file("journal.jsonl")});
  ASSERT_TRUE(testing::wait_until(
      [&] {
        const auto r = recorded_lock(state);
        return r.is_object() && r.contains("ended") && !r["ended"].empty();
      },
      30s))
      << run_child.output();
  ASSERT_EQ(user.status(), "L");
  ASSERT_TRUE(has_process_of(user.uid())) << "SIGTERM is ignored: the grace is running";
  run_child.signal(SIGKILL);
  ASSERT_EQ(run_child.wait(30s), 128 + SIGKILL);

  Child recover({testing::bin("chaosplus"), "recover", "--state-dir", state});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  EXPECT_EQ(user.shadow(), shadow_before);
  EXPECT_EQ(user.status(), "P");
}

}  // namespace
}  // namespace chaosplus::faults
