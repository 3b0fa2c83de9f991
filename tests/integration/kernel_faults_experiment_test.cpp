// Kernel-level faults written in an experiment, played by the real `chaosplus run` against the demo
// token service: the fault acts on the service's port in the kernel (nftables), the steady-state
// probe sees it, and after the run the host's rule set reads byte for byte as before. The revert on
// every other way a run can end is in runner_safety_test.cpp (its kernel variant).
//
// Needs root and nft, tc, ip. Without them the tests FAIL, on purpose, as kernel_faults_test.cpp.
#include <gtest/gtest.h>

#include <csignal>

#include "faults/system_tool.h"
#include "faults/veth_lab.h"
#include "support/kernel.h"
#include "support/token_experiment.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

class KernelFaultsInExperiments : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
    const std::string missing = testing::missing_for_kernel_faults();
    ASSERT_TRUE(missing.empty()) << "kernel fault tests need root and the nft, tc and ip tools (scripts/setup.sh "
                                    "installs nftables and iproute2); missing:"
                                 << missing;
    turn_ = std::make_unique<testing::KernelTurn>();
    ASSERT_TRUE(turn_->held()) << "another kernel fault test held the lock for 5 minutes";
    before_ = testing::nft_ruleset();
  }

  void TearDown() override {
    if (turn_ && turn_->held()) {
      EXPECT_EQ(testing::nft_ruleset(), before_) << "the rule set changed";
    }
  }

  std::unique_ptr<testing::KernelTurn> turn_;
  std::string before_;
};

TEST_F(KernelFaultsInExperiments, RejectOnTheTokenPortFailsTheProbeWhileOnAndItPassesAgainAfter) {
  testing::TokenServiceExperiment s;
  std::string out;
  // The probe goes through the fault proxy, whose connections to the service's port are refused.
  EXPECT_EQ(s.run("reject: { target: tokens, at: 300ms, for: 900ms }", &out, "2500ms"), 1) << out;
  const auto injected = s.event("fault.injected");
  EXPECT_NE(injected.value("summary", "").find("reject 127.0.0.1:" + std::to_string(s.port)), std::string::npos)
      << injected.dump();
  auto during = s.results_under_fault();
  ASSERT_GE(during.size(), 4u) << out;
  for (const auto& r : during) EXPECT_FALSE(r["ok"].get<bool>()) << r.dump();
  auto later = s.results_after_revert();
  ASSERT_GE(later.size(), 4u) << out;
  for (const auto& r : later) EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  auto after = s.probe_results("after");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_TRUE(after[0]["ok"].get<bool>()) << after[0].dump();
  EXPECT_TRUE(s.event("fault.reverted").value("ok", false)) << out;
}

TEST_F(KernelFaultsInExperiments, PacketLossOfNoPacketsLeavesTheProbeAloneAndIsGoneAfterTheRun) {
  testing::TokenServiceExperiment s;
  std::string out;
  EXPECT_EQ(s.run("packet_loss: { target: tokens, share: 0% }", &out), 0) << out;
  EXPECT_NE(s.event("fault.injected").value("summary", "").find("packet_loss"), std::string::npos) << out;
  EXPECT_TRUE(s.event("fault.reverted").value("ok", false)) << out;
  ASSERT_GE(s.probe_results("during").size(), 5u) << out;
  for (const auto& r : s.probe_results("during")) EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
}

TEST_F(KernelFaultsInExperiments, ABandwidthLimitLeftByAKilledRunIsTakenOffByRecover) {
  auto lab = faults::VethLab::create("kx");
  ASSERT_TRUE(lab.ok()) << lab.error();
  const auto& b = (*lab)->b();
  auto qdiscs = [&] {
    auto out = faults::run_tool_checked({"tc", "-n", b.netns, "qdisc", "show"});
    return out ? *out : "<" + out.error() + ">";
  };
  const std::string before = qdiscs();
  testing::TempDir dir;
  testing::write_file(dir.file("e.yaml"),
                      "name: lab-bandwidth\ntargets:\n  lab: { endpoint: \"127.0.0.1:9\" }\n"
                      "phases:\n  - name: slow\n    duration: 60s\n    faults:\n"
                      "      - bandwidth_limit: { target: lab, namespace: " +
                          b.netns + ", interface: " + b.interface + ", rate: 1MB/s }\n");
  testing::Child run({testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir", dir.file("state"),
                      "--journal", dir.file("journal.jsonl")});
  ASSERT_TRUE(testing::wait_until([&] { return qdiscs().find("qdisc tbf") != std::string::npos; }, 30s))
      << run.output();
  run.signal(SIGKILL);
  ASSERT_TRUE(run.wait(10s).has_value());
  EXPECT_NE(qdiscs().find("qdisc tbf"), std::string::npos) << "nothing reverted itself";
  testing::Child recover({testing::bin("chaosplus"), "recover", "--state-dir", dir.file("state")});
  auto code = recover.wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << recover.output();
  EXPECT_NE(recover.output().find("reverted kernel.tbf_qdisc"), std::string::npos) << recover.output();
  EXPECT_EQ(qdiscs(), before);
  EXPECT_TRUE((*lab)->remove().ok());
}

}  // namespace
}  // namespace chaosplus
