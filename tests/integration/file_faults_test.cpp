// The file faults through `chaosplus run` on a tmpfs the test mounts (never the root file system):
// while they are on, a process of another user cannot read the revoked file and root cannot write
// it (immutable), a write runs into ENOSPC, the hidden file is missing and the replaced one holds
// other bytes; afterwards mode, owner, ACL bytes, every xattr, inode flags, inode, mtime and content
// are exactly what they were, and the free space is back within 1 %. The same after kill -9 of the
// run and `chaosplus recover`; `chaosplus leftovers` lists what is left in between. A file the owner
// wrote at a replaced credential's path meanwhile is kept, and so is the original.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "faults/disk_fill.h"
#include "faults/file_pages.h"
#include "faults/file_state.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/loader.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;

constexpr std::uint64_t kMiB = 1024 * 1024;

int count_events(const std::string& journal, const std::string& type) {
  int n = 0;
  for (const auto& line : testing::read_lines(journal)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("type", "") == type) ++n;
  }
  return n;
}

// Everything the faults may change about a file, and must give back.
struct Seen {
  faults::FileState state;
  std::string sha256;
  std::int64_t mtime_ns = 0;
};

Seen seen(const std::string& path) {
  Seen s;
  auto state = faults::snapshot(path);
  EXPECT_TRUE(state.ok()) << state.error();
  if (state) s.state = *state;
  auto hash = faults::file_sha256(path);
  if (hash) s.sha256 = *hash;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) s.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
  return s;
}

void expect_same(const Seen& before, const std::string& path) {
  const Seen after = seen(path);
  EXPECT_EQ(faults::compare(before.state, after.state), "") << path;
  EXPECT_EQ(after.sha256, before.sha256) << path;
  EXPECT_EQ(after.mtime_ns, before.mtime_ns) << path;
}

// Whether a process of user nobody can read `path`.
bool nobody_reads(const std::string& path) {
  Child cat({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "cat", path});
  return cat.wait(30s) == 0;
}

// Writes up to `limit` bytes to a new file; the errno that stopped it (0 if none). Removes the file.
int write_until_error(const std::string& path, std::uint64_t limit) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return errno;
  std::vector<char> block(kMiB, 'x');
  int error = 0;
  for (std::uint64_t done = 0; done < limit;) {
    const ssize_t n = ::write(fd, block.data(), block.size());  // a short write is followed by the error
    if (n < 0) {
      error = errno;
      break;
    }
    done += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  ::unlink(path.c_str());
  return error;
}

std::uint64_t free_space(const std::string& path) {
  auto fs = faults::fs_space(path);
  EXPECT_TRUE(fs.ok());
  return fs ? fs->free : 0;
}

// A 256 MiB tmpfs with the files the faults act on: a token readable by nobody through an ACL entry,
// with xattrs of its own; a key to hide; an API token to replace; a folder to fill.
class FileFaults : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::needs_root("mount, chown, chattr"); !why.empty()) GTEST_SKIP() << why;
    ::chmod(dir_.path().c_str(), 0755);  // user nobody must reach the token
    ASSERT_EQ(::mkdir(mnt_.c_str(), 0755), 0);
    ASSERT_EQ(::mount("tmpfs", mnt_.c_str(), "tmpfs", 0, "size=256m,mode=0755"), 0) << std::strerror(errno);
    mounted_ = true;
    testing::write_file(token_, "secret-token\n");
    testing::write_file(key_, "-----BEGIN KEY-----\nabc\n");
    testing::write_file(api_, "api-token-1234567890\n");
    ASSERT_EQ(::chmod(token_.c_str(), 0640), 0);
    ASSERT_EQ(::chmod(api_.c_str(), 0600), 0);
    ASSERT_EQ(::chown(api_.c_str(), 65534, 65534), 0);
    ASSERT_EQ(Child({"setfacl", "-m", "u:nobody:r", token_}).wait(30s), 0);
    ASSERT_EQ(::setxattr(token_.c_str(), "user.tag", "hello", 5, 0), 0) << std::strerror(errno);
    ASSERT_EQ(::setxattr(key_.c_str(), "trusted.owner", "ops", 3, 0), 0) << std::strerror(errno);
    ASSERT_EQ(::mkdir(data_.c_str(), 0750), 0);
    for (const auto& p : {token_, key_, api_, data_}) before_[p] = seen(p);
    free_before_ = free_space(data_);
    ASSERT_TRUE(nobody_reads(token_)) << "the ACL entry lets nobody read the token before the fault";
    testing::write_file(experiment_, R"(name: file-faults
targets:
  app: { process: { command: [sleep, "600"] } }
phases:
  - name: on
    duration: "${PHASE:-5s}"
    faults:
      - disk_fill: { target: app, path: )" +
                                         data_ + R"(, leave_free: 100MiB }
      - revoke: { target: app, path: )" + token_ +
                                         R"(, access: read, immutable: true }
      - credential: { target: app, path: )" +
                                         key_ + R"(, action: hide }
      - credential: { target: app, path: )" +
                                         api_ + R"(, action: replace }
)");
  }
  void TearDown() override {
    if (!mounted_) return;
    for (const auto& p : {token_, key_, api_}) (void)faults::write_flags(p, 0);  // a failed test may leave +i
    ::umount2(mnt_.c_str(), MNT_DETACH);
  }

  std::unique_ptr<Child> start(const std::string& phase) {
    return std::make_unique<Child>(std::vector<std::string>{bin("chaosplus"), "run", experiment_, "--plain",
                                                            "--state-dir", state_, "--journal", journal_},
                                   std::map<std::string, std::string>{{"PHASE", phase}});
  }

  // What the faults do while they are on, seen from outside.
  void expect_faults_on() {
    EXPECT_FALSE(nobody_reads(token_)) << "read is revoked";
    const int fd = ::open(token_.c_str(), O_WRONLY);
    EXPECT_LT(fd, 0) << "immutable: not even root may write";
    EXPECT_EQ(errno, EPERM);
    if (fd >= 0) ::close(fd);
    const std::uint64_t left = free_space(data_);
    EXPECT_GE(left, 95 * kMiB);
    EXPECT_LE(left, 105 * kMiB);
    EXPECT_EQ(write_until_error(mnt_ + "/probe.bin", 200 * kMiB), ENOSPC);
    struct stat st {};
    EXPECT_NE(::lstat(key_.c_str(), &st), 0) << "the key is hidden";
    const Seen replaced = seen(api_);
    EXPECT_NE(replaced.sha256, before_[api_].sha256) << "other content";
    EXPECT_NE(replaced.state.inode, before_[api_].state.inode);
    EXPECT_EQ(replaced.state.mode, before_[api_].state.mode) << "same mode and owner, so the application reads it";
    EXPECT_EQ(replaced.state.uid, 65534u);
  }

  void expect_all_back() {
    for (const auto& [path, before] : before_) {
      if (path != data_) expect_same(before, path);
    }
    EXPECT_EQ(faults::compare(before_[data_].state, seen(data_).state), "");
    const std::uint64_t after = free_space(data_);
    const double gap = std::abs(static_cast<double>(after) - static_cast<double>(free_before_));
    EXPECT_LE(gap, 0.01 * static_cast<double>(free_before_)) << after << " free after, " << free_before_ << " before";
    EXPECT_TRUE(std::filesystem::is_empty(data_)) << "the fill folder is gone";
    for (const auto& e : std::filesystem::directory_iterator(mnt_)) {
      EXPECT_FALSE(e.path().filename().string().starts_with(".chaosplus-aside")) << e.path();
    }
    EXPECT_TRUE(nobody_reads(token_));
  }

  testing::TempDir dir_;
  std::string mnt_ = dir_.file("mnt");
  std::string token_ = mnt_ + "/token";
  std::string key_ = mnt_ + "/key.pem";
  std::string api_ = mnt_ + "/api-token";
  std::string data_ = mnt_ + "/data";
  std::string experiment_ = dir_.file("file-faults.yaml");
  std::string state_ = dir_.file("state");
  std::string journal_ = dir_.file("journal.jsonl");
  std::map<std::string, Seen> before_;
  std::uint64_t free_before_ = 0;
  bool mounted_ = false;
};

TEST_F(FileFaults, EachFaultActsWhileOnAndEverythingIsExactlyBackAfterTheRun) {
  auto run = start("8s");
  ASSERT_TRUE(testing::wait_until([&] { return count_events(journal_, "fault.injected") == 4; }, 30s)) << run->output();
  expect_faults_on();
  ASSERT_TRUE(run->wait(60s).has_value()) << run->output();
  EXPECT_NE(run->output().find("faults: 4 injected, 4 reverted"), std::string::npos) << run->output();
  expect_all_back();
}

TEST_F(FileFaults, AfterKillNineLeftoversListsThemAndRecoverPutsEverythingBack) {
  auto run = start("120s");
  ASSERT_TRUE(testing::wait_until([&] { return count_events(journal_, "fault.injected") == 4; }, 30s)) << run->output();
  expect_faults_on();
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);

  Child leftovers({bin("chaosplus"), "leftovers", "--state-dir", state_});
  EXPECT_EQ(leftovers.wait(60s), 1) << leftovers.output();
  for (const char* what : {"disk fill folder", "credential set aside", "revoked access"}) {
    EXPECT_NE(leftovers.output().find(what), std::string::npos) << what << "\n" << leftovers.output();
  }

  Child recover({bin("chaosplus"), "recover", "--state-dir", state_});
  ASSERT_EQ(recover.wait(60s), 0) << recover.output();
  for (const char* kind : {"file.disk_fill", "file.revoke", "file.credential"}) {
    EXPECT_NE(recover.output().find(std::string("reverted ") + kind), std::string::npos) << recover.output();
  }
  expect_all_back();

  Child again({bin("chaosplus"), "leftovers", "--state-dir", state_});
  again.wait(60s);
  for (const char* what : {"disk fill folder", "credential set aside", "revoked access"}) {
    EXPECT_EQ(again.output().find(what), std::string::npos) << what << "\n" << again.output();
  }
}

// The owner wrote a new token while the run was down: recover keeps it and the original, and says so.
TEST_F(FileFaults, RecoverKeepsBothWhenTheOwnerWroteANewFileMeanwhile) {
  auto run = start("120s");
  ASSERT_TRUE(testing::wait_until([&] { return count_events(journal_, "fault.injected") == 4; }, 30s)) << run->output();
  run->signal(SIGKILL);
  ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
  ASSERT_EQ(::unlink(api_.c_str()), 0);
  testing::write_file(api_, "a token the owner wrote meanwhile\n");

  Child recover({bin("chaosplus"), "recover", "--state-dir", state_});
  EXPECT_NE(recover.wait(60s), 0) << recover.output();
  EXPECT_NE(recover.output().find("both are kept"), std::string::npos) << recover.output();
  EXPECT_EQ(testing::read_file(api_), "a token the owner wrote meanwhile\n");
  std::string aside;
  for (const auto& e : std::filesystem::directory_iterator(mnt_)) {
    if (e.path().filename().string().starts_with(".chaosplus-aside")) {
      if (std::filesystem::exists(e.path() / "original")) aside = (e.path() / "original").string();
    }
  }
  ASSERT_FALSE(aside.empty()) << "the original is still aside";
  expect_same(before_[api_], aside.empty() ? api_ : aside);  // the same inode, content and metadata
  // Everything else came back.
  for (const auto& p : {token_, key_}) expect_same(before_[p], p);
  EXPECT_TRUE(std::filesystem::is_empty(data_));
}

}  // namespace
}  // namespace chaosplus

namespace chaosplus::faults {
namespace {

// The fault as the loader reads it from an experiment file.
spec::Fault loaded(const std::string& settings) {
  const std::string text =
      "name: files\ntargets:\n  app: { endpoint: \"127.0.0.1:1\" }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - " +
      settings + "\n";
  auto result = spec::load_experiment_text(text, "files.yaml");
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  return result.ok() ? result.experiment->phases[0].faults[0] : spec::Fault{};
}

class FileFaultUndo : public FileFaults {};

spec::Target app_target() {
  spec::Target t;
  t.name = "app";
  return t;
}

// revoke on a folder, recursive, from the group, with a new owner: a set-uid file (chown clears the
// bit), a default ACL on the folder, an immutable file (chmod needs the flag off first); undo from
// the record alone gives every entry back exactly, twice.
TEST_F(FileFaultUndo, RecursiveRevokeWithOwnerComesBackExactlyFromTheRecord) {
  const std::string tool = data_ + "/tool";
  const std::string locked = data_ + "/locked";
  testing::write_file(tool, "#!/bin/sh\n");
  testing::write_file(locked, "frozen\n");
  ASSERT_EQ(::chmod(tool.c_str(), 04750), 0);
  ASSERT_EQ(Child({"setfacl", "-d", "-m", "g:nogroup:rx", data_}).wait(30s), 0);
  ASSERT_EQ(::setxattr(tool.c_str(), "trusted.build", "42", 2, 0), 0);
  ASSERT_TRUE(write_flags(locked, FS_IMMUTABLE_FL).ok());
  std::map<std::string, Seen> before;
  for (const auto& p : {data_, tool, locked}) before[p] = seen(p);

  TargetHandle target(app_target(), dir_.file("app.log"));
  auto fault = make_fault(
      loaded("revoke: { target: app, path: " + data_ + ", access: rx, who: group, owner: nobody, recursive: true }"),
      target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();  // what the runner writes before inject
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  struct stat st {};
  ASSERT_EQ(::stat(tool.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u) << "set-uid gone with the chown, group r-x revoked";
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_NE(compare(before[locked].state, seen(locked).state), "");

  const auto undone = undo((*fault)->kind(), record);
  ASSERT_TRUE(undone.ok()) << undone.error();
  for (const auto& [path, b] : before) expect_same(b, path);
  EXPECT_TRUE(undo((*fault)->kind(), record).ok()) << "undo is idempotent";
  for (const auto& [path, b] : before) expect_same(b, path);
  (void)write_flags(locked, 0);
}

// The runner crashed after writing the record and before (or while) the fill: undo removes what
// the record names, and nothing else the folder holds.
TEST_F(FileFaultUndo, DiskFillUndoRemovesOnlyWhatItsRecordNames) {
  TargetHandle target(app_target(), dir_.file("app.log"));
  auto fault = make_fault(loaded("disk_fill: { target: app, path: " + data_ + ", fill: 64MiB }"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  EXPECT_TRUE(undo((*fault)->kind(), (*fault)->record()).ok()) << "nothing made yet: nothing to undo";
  std::string record;
  (*fault)->set_record_sink([&](const std::string& r) {
    record = r;
    return ok_status();
  });
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  const auto r = nlohmann::json::parse(record);
  const std::string folder = r.at("folder");
  EXPECT_EQ(r.at("files").size(), 1u) << record;
  const std::uint64_t during = free_space(data_);
  EXPECT_NEAR(static_cast<double>(free_before_ - during), 64.0 * kMiB, 1.0 * kMiB);
  testing::write_file(folder + "/someone-elses", "keep me\n");
  const auto undone = undo((*fault)->kind(), record);
  EXPECT_FALSE(undone.ok());
  EXPECT_NE(undone.error().find("did not make"), std::string::npos) << undone.error();
  EXPECT_EQ(testing::read_file(folder + "/someone-elses"), "keep me\n");
  EXPECT_FALSE(std::filesystem::exists(folder + "/fill-0000"));
  std::filesystem::remove(folder + "/someone-elses");
  EXPECT_TRUE(undo((*fault)->kind(), record).ok());
  EXPECT_FALSE(std::filesystem::exists(folder));
}

// kill -9 of the run at random moments from its start (the sleep is the behaviour under test), each
// followed by `chaosplus recover`: everything is back every time.
TEST_F(FileFaults, KillNineAtRandomMomentsThenRecoverLeavesEverythingExact) {
  std::mt19937 random{std::random_device{}()};
  for (int point = 0; point < 5; ++point) {
    const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 600)(random));
    std::filesystem::remove(journal_);
    std::filesystem::remove_all(journal_.substr(0, journal_.size() - 6) + ".logs");
    auto run = start("120s");
    std::this_thread::sleep_for(delay);  // the kill's random moment is the behaviour under test
    run->signal(SIGKILL);
    ASSERT_EQ(run->wait(30s), 128 + SIGKILL);
    Child recover({bin("chaosplus"), "recover", "--state-dir", state_});
    ASSERT_EQ(recover.wait(60s), 0) << "point " << point << " (" << delay.count() << " ms)\n" << recover.output();
    SCOPED_TRACE("kill after " + std::to_string(delay.count()) + " ms");
    expect_all_back();
  }
}

}  // namespace
}  // namespace chaosplus::faults
