// A damaged ledger never makes recover say "nothing to do" while faults are on. A real run pauses a
// real process and rejects a loopback port in the kernel (nftables); it is killed with -9; then its
// ledger is damaged as a disk or a careless hand can: the write-ahead log deleted, cut in half, or
// overwritten with 4 KiB of garbage, or the checkpointed database truncated to nothing. Each time
// `chaosplus recover` (and the next `chaosplus run`) must refuse with a message that says what
// cannot be trusted and what to check, and `chaosplus leftovers` must list the real leftovers: the
// nft table and the stopped process. The test then cleans up by hand, as the message tells a user.
//
// Needs root and nft (as kernel_faults_test.cpp); holds the kernel lock while its table exists.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "faults/netns.h"
#include "faults/system_tool.h"
#include "faults/veth_lab.h"
#include "runner/ledger.h"
#include "support/kernel.h"
#include "support/support.h"
#include "targets/process.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;

enum class Damage { wal_deleted, wal_cut_in_half, wal_overwritten_with_garbage, checkpointed_and_truncated };

std::string damage_name(const ::testing::TestParamInfo<Damage>& info) {
  switch (info.param) {
    case Damage::wal_deleted: return "WalDeleted";
    case Damage::wal_cut_in_half: return "WalCutInHalf";
    case Damage::wal_overwritten_with_garbage: return "WalOverwrittenWithGarbage";
    case Damage::checkpointed_and_truncated: return "CheckpointedAndTruncatedToZero";
  }
  return "?";
}

class DamagedLedger : public ::testing::TestWithParam<Damage> {
 protected:
  void SetUp() override {
    if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
    const std::string missing = testing::missing_for_kernel_faults();
    ASSERT_TRUE(missing.empty()) << "needs root and the nft, tc and ip tools; missing:" << missing;
    turn_ = std::make_unique<testing::KernelTurn>();
    ASSERT_TRUE(turn_->held()) << "another kernel fault test held the lock for 5 minutes";
    ruleset_before_ = testing::nft_ruleset();
  }

  void TearDown() override {
    // By hand, as the refusal tells a user: resume the process, remove the table.
    if (sleeper_) ::kill(sleeper_->pid(), SIGCONT);
    for (const std::string& table : tables_) (void)faults::run_tool({"nft", "delete", "table", "inet", table});
    if (turn_ && turn_->held()) {
      EXPECT_EQ(testing::nft_ruleset(), ruleset_before_) << "the rule set changed";
    }
  }

  std::string chaosplus(const std::vector<std::string>& args, int* code) {
    std::vector<std::string> argv{testing::bin("chaosplus")};
    argv.insert(argv.end(), args.begin(), args.end());
    Child c(argv);
    auto rc = c.wait(60s);
    *code = rc.value_or(-1);
    return c.output();
  }

  int injected() const {
    int n = 0;
    for (const auto& line : testing::read_lines(dir_.file("journal.jsonl"))) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      n += !j.is_discarded() && j.value("type", "") == "fault.injected" ? 1 : 0;
    }
    return n;
  }

  std::unique_ptr<testing::KernelTurn> turn_;
  std::string ruleset_before_;
  testing::TempDir dir_;
  std::string state_ = dir_.file("state");
  std::string ledger_ = state_ + "/ledger.db";
  std::unique_ptr<Child> sleeper_;
  std::vector<std::string> tables_;
};

void overwrite(const std::string& path, std::uintmax_t offset, std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + 17) % 251);
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

TEST_P(DamagedLedger, RecoverRefusesAndLeftoversListsTheRealLeftovers) {
  sleeper_ = std::make_unique<Child>(std::vector<std::string>{"sleep", "600"});
  ASSERT_TRUE(testing::wait_until([&] { return targets::process_name(sleeper_->pid()) == "sleep"; }, 10s));
  testing::Listener spare;
  testing::write_file(dir_.file("e.yaml"), R"(name: damaged-ledger
targets:
  sleeper: { attach: { pid: )" + std::to_string(sleeper_->pid()) +
                                               R"( } }
  spare: { endpoint: "127.0.0.1:)" + std::to_string(spare.port()) +
                                               R"(" }
phases:
  - name: chaos
    duration: 60s
    faults:
      - pause: { target: sleeper }
      - reject: { target: spare }
)");
  Child run({testing::bin("chaosplus"), "run", dir_.file("e.yaml"), "--plain", "--state-dir", state_, "--journal",
             dir_.file("journal.jsonl")});
  ASSERT_TRUE(testing::wait_until([&] { return injected() >= 2; }, 30s)) << run.output();
  run.signal(SIGKILL);
  ASSERT_TRUE(run.wait(10s).has_value());
  tables_ = testing::fault_tables_of(run.pid());
  ASSERT_EQ(tables_.size(), 1u) << "the reject fault's table is left, as after any kill -9";
  ASSERT_EQ(testing::process_state(sleeper_->pid()), 'T');
  ASSERT_TRUE(std::filesystem::exists(ledger_ + "-wal"));

  switch (GetParam()) {
    case Damage::wal_deleted: std::filesystem::remove(ledger_ + "-wal"); break;
    case Damage::wal_cut_in_half:
      std::filesystem::resize_file(ledger_ + "-wal", std::filesystem::file_size(ledger_ + "-wal") / 2);
      break;
    case Damage::wal_overwritten_with_garbage:
      overwrite(ledger_ + "-wal", std::filesystem::file_size(ledger_ + "-wal") / 2, 4096);
      break;
    case Damage::checkpointed_and_truncated:
      // Whole until here: opened (and checked) and closed again, which checkpoints it into the file.
      ASSERT_TRUE(runner::Ledger::open(ledger_).ok());
      ASSERT_FALSE(std::filesystem::exists(ledger_ + "-wal"));
      std::filesystem::resize_file(ledger_, 0);
      break;
  }

  int code = -1;
  for (int attempt = 0; attempt < 2; ++attempt) {  // and again: a refusal does not heal the ledger
    std::string out = chaosplus({"recover", "--state-dir", state_}, &code);
    EXPECT_EQ(code, 5) << out;
    EXPECT_NE(out.find("cannot be trusted"), std::string::npos) << out;
    EXPECT_NE(out.find("chaosplus leftovers --state-dir " + state_), std::string::npos) << out;
    EXPECT_EQ(out.find("change(s) reverted"), std::string::npos) << "reported as if it had recovered:\n" << out;
    if (attempt == 0) std::cout << "[ recover ] exit " << code << "\n" << out;
  }
  // Nor does the next run go ahead as if nothing were on.
  testing::write_file(dir_.file("quiet.yaml"), "name: quiet\nphases:\n  - name: p\n    duration: 100ms\n");
  std::string out = chaosplus(
      {"run", dir_.file("quiet.yaml"), "--plain", "--state-dir", state_, "--journal", dir_.file("quiet.jsonl")}, &code);
  EXPECT_EQ(code, 3) << out;
  EXPECT_NE(out.find("cannot be trusted"), std::string::npos) << out;
  EXPECT_EQ(testing::process_state(sleeper_->pid()), 'T') << "nothing was touched";

  out = chaosplus({"leftovers", "--state-dir", state_}, &code);
  std::cout << "[ leftovers ] exit " << code << "\n" << out;
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("nft table: inet " + tables_[0] + " (host)"), std::string::npos) << out;
  EXPECT_NE(out.find("nft delete table inet " + tables_[0]), std::string::npos) << out;
  EXPECT_NE(out.find("pid " + std::to_string(sleeper_->pid()) + " (sleep)"), std::string::npos) << out;
  EXPECT_NE(out.find("kill -CONT " + std::to_string(sleeper_->pid())), std::string::npos) << out;
}

// Kernel leftovers inside the namespaces chaosplus creates are found too: an nft table, a tbf root
// qdisc, and the namespaces themselves.
TEST(LeftoversInNamespaces, TablesAndQdiscsInProjectNamespacesAreListed) {
  if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
  const std::string missing = testing::missing_for_kernel_faults();
  ASSERT_TRUE(missing.empty()) << "needs root and the nft, tc and ip tools; missing:" << missing;
  testing::KernelTurn turn;
  ASSERT_TRUE(turn.held());
  auto lab = faults::VethLab::create("left");
  ASSERT_TRUE(lab.ok()) << lab.error();
  const auto& b = (*lab)->b();
  const std::string table = "chaosplus_1_1_0000beef";
  ASSERT_TRUE(faults::run_tool_checked(faults::in_namespace(b.netns, {"nft", "add", "table", "inet", table})).ok());
  ASSERT_TRUE(faults::run_tool_checked({"tc", "-n", b.netns, "qdisc", "add", "dev", b.interface, "root", "handle",
                                        "1a2b:", "tbf", "rate", "1mbit", "burst", "32kb", "latency", "300ms"})
                  .ok());
  testing::TempDir dir;
  Child leftovers({testing::bin("chaosplus"), "leftovers", "--state-dir", dir.file("state")});
  ASSERT_EQ(leftovers.wait(60s), std::optional<int>(1)) << leftovers.output();
  const std::string out = leftovers.output();
  EXPECT_TRUE((*lab)->remove().ok());
  EXPECT_NE(out.find("nft table: inet " + table + " (netns " + b.netns + ")"), std::string::npos) << out;
  EXPECT_NE(out.find("ip netns exec " + b.netns + " nft delete table inet " + table), std::string::npos) << out;
  EXPECT_NE(out.find("tbf qdisc: 1a2b: on " + b.interface + " in netns " + b.netns), std::string::npos) << out;
  EXPECT_NE(out.find("tc -n " + b.netns + " qdisc del dev " + b.interface + " root"), std::string::npos) << out;
  EXPECT_NE(out.find("network namespace: " + (*lab)->a().netns), std::string::npos) << out;
}

INSTANTIATE_TEST_SUITE_P(Cases, DamagedLedger,
                         ::testing::Values(Damage::wal_deleted, Damage::wal_cut_in_half,
                                           Damage::wal_overwritten_with_garbage, Damage::checkpointed_and_truncated),
                         damage_name);

}  // namespace
}  // namespace chaosplus
