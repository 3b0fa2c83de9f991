// experiments/shop-host-faults.yaml through `chaosplus run`, as written: the demo shop (orders in
// SQLite) under load through a CPU burn, a memory hold, I/O errors under its database folder and its
// token service's name gone from its resolver. The hypothesis holds: every checkout got a 201 or a
// 503 saying why, the shop stayed up, and the recovered phase took orders again. While the I/O fault
// was on the shop said "storage: ..." and while the DNS fault was on it could not reach its token
// service; the host saw neither (its folder and its own resolution stayed as they were).
// Runs alone among the tests that start stress-ng (tests/CMakeLists.txt: a CTest resource lock).
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "support/journal.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using testing::journal_events;

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
using testing::source_path;

// When the fault of `type` was on, in the run's elapsed milliseconds.
std::pair<double, double> fault_window(const std::string& journal, const std::string& type) {
  double on = -1;
  double off = -1;
  for (const auto& e : journal_events(journal, "fault.injected")) {
    if (e.value("fault", "") == type) on = e.value("elapsed_ms", -1.0);
  }
  for (const auto& e : journal_events(journal, "fault.reverted")) {
    if (e.value("fault", "") == type) off = e.value("elapsed_ms", -1.0);
  }
  return {on, off};
}

TEST(ShopHostFaultsExperiment, TheShopFailsSafeThroughEveryFaultAndTakesOrdersAgain) {
  if (auto why = testing::needs_root("the run's resolver listens on port 53; FUSE mounts"); !why.empty()) {
    GTEST_SKIP() << why;
  }
  testing::TempDir dir;
  const std::string data = dir.file("shop-data");
  const std::string journal = dir.file("journal.jsonl");
  Child run({bin("chaosplus"), "run", source_path("experiments/shop-host-faults.yaml"), "--plain", "--state-dir",
             dir.file("state"), "--journal", journal},
            {{"SHOP_DATA", data},
             {"SHOP_PORT", std::to_string(testing::free_port())},
             {"TOKENS_PORT", std::to_string(testing::free_port())},
             {"DEGRADED", "30s"}});
  const auto code = run.wait(240s);
  ASSERT_TRUE(code.has_value()) << run.output();
  EXPECT_EQ(*code, 0) << "the hypothesis holds\n" << run.output();

  const auto injected = journal_events(journal, "fault.injected");
  const auto reverted = journal_events(journal, "fault.reverted");
  EXPECT_EQ(injected.size(), 4u) << run.output();
  ASSERT_EQ(reverted.size(), 4u) << run.output();
  for (const auto& r : reverted) EXPECT_TRUE(r.value("ok", false)) << r.dump();

  // What the checkout probe saw while each storage or name fault was on, and after the phases.
  const auto [io_on, io_off] = fault_window(journal, "io_error");
  const auto [dns_on, dns_off] = fault_window(journal, "dns");
  ASSERT_GT(io_on, 0);
  ASSERT_GT(dns_on, io_off);
  int storage_refusals = 0;
  int name_refusals = 0;
  int taken_after = 0;
  for (const auto& p : journal_events(journal, "probe.result")) {
    if (p.value("probe", "") != "checkout-fails-safe") continue;
    EXPECT_TRUE(p.value("ok", false)) << "201 or a 503 saying why: " << p.dump();
    const double at = p.value("elapsed_ms", 0.0);
    const int status = p.value("status", 0);
    if (status == 503 && at > io_on && at < io_off) ++storage_refusals;
    if (status == 503 && at > dns_on && at < dns_off) ++name_refusals;
    if (status == 201 && p.value("stage", "") == "after") ++taken_after;
  }
  std::cout << "[ figures ] checkout probe: " << storage_refusals << " refusal(s) while io_error was on, "
            << name_refusals << " while dns was on, " << taken_after << " order(s) taken after\n";
  EXPECT_GT(storage_refusals, 0) << "the shop refused orders it could not store";
  EXPECT_GT(name_refusals, 0) << "the shop refused callers it could not authenticate";
  EXPECT_GT(taken_after, 0) << "orders are taken again after the reverts";

  // The host never saw the I/O fault: its folder holds the shop's database, readable from here.
  EXPECT_TRUE(std::filesystem::exists(data + "/shop.db"));
  Child count({"sqlite3", data + "/shop.db", "SELECT count(*) > 0 FROM orders"});
  EXPECT_EQ(count.wait(30s), 0) << count.output();
  EXPECT_EQ(count.output(), "1\n") << count.output();
}

}  // namespace
}  // namespace chaosplus
