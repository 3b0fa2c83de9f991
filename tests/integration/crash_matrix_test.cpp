// The crash test matrix: `chaosplus run` of an experiment with a paused attached process, a
// started service behind the fault proxy with a latency toxic, a kernel reject, a tbf bandwidth
// limit, a corrupt of two pages of a file, the host faults (cpu, memory, disk_fill, revoke, credential, lock_account;
// clock, dns and io_error on the started service) and two rollbacks, killed with SIGKILL at start-up (the first 30 ms),
// right after events (each fault.injected and fault.reverted, inside and between the rollbacks, ...) and at random;
// after one `chaosplus recover` nothing may be left (processes, listeners, nft tables, qdiscs, a stopped process, a
// flipped byte or the copy of the file, space still filled, a file's mode/ACL/xattrs/flags or place changed, the
// account's shadow line changed, a clock setting not "+0 x1", a resolver rule, a FUSE mount, a rollback not run) and
// the ledger must say so. The driver is tests/support/crash_matrix.h;
// bench/crash_matrix.sh plays the long version (200+ points).
//
// Needs root and nft, tc, ip; without them it FAILS, on purpose, as kernel_faults_test.cpp.
// CHAOSPLUS_CRASH_SEED picks the random points (printed); CHAOSPLUS_CRASH_POINTS sizes the long run;
// CHAOSPLUS_CRASH_ONLY=text plays only the points whose label contains it (to repeat one).
// Runs alone among the tests that start stress-ng (tests/CMakeLists.txt: a CTest resource lock).
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <random>

#include "support/crash_matrix.h"
#include "support/kernel.h"
#include "support/support.h"

namespace chaosplus {
namespace {

std::uint64_t seed_from_environment() {
  const char* s = std::getenv("CHAOSPLUS_CRASH_SEED");
  if (s != nullptr && *s != '\0') return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

void play_matrix(int count) {
  if (auto why = testing::needs_root("nftables, tc, network namespaces"); !why.empty()) GTEST_SKIP() << why;
  const std::string missing = testing::missing_for_kernel_faults();
  ASSERT_TRUE(missing.empty()) << "the crash matrix needs root and the nft, tc and ip tools; missing:" << missing;
  testing::CrashMatrix matrix;
  testing::RunTimeline timeline;
  const auto baseline = matrix.run_to_end(&timeline);
  std::cout << "[ baseline ] a whole run took " << timeline.length.count() << "ms, its start-up "
            << timeline.startup.count() << "ms; first events after the fork: " << timeline.text << "\n"
            << "[ baseline ] " << baseline.describe() << "\n";
  ASSERT_TRUE(baseline.left.empty()) << baseline.describe();
  const std::uint64_t seed = seed_from_environment();
  std::cout << "[ seed     ] CHAOSPLUS_CRASH_SEED=" << seed << "\n";
  std::vector<testing::PointOutcome> outcomes;
  const char* only = std::getenv("CHAOSPLUS_CRASH_ONLY");
  for (const auto& point : testing::matrix_points(count, seed, timeline)) {
    if (only != nullptr && point.label().find(only) == std::string::npos) continue;
    outcomes.push_back(matrix.run_point(point));
    const auto& o = outcomes.back();
    const std::string line = o.describe();
    std::cout << "[ point " << outcomes.size() << " ] " << line.substr(0, line.find('\n')) << std::endl;
    EXPECT_TRUE(o.reached) << "the run never reached the event of " << o.point.label();
    EXPECT_TRUE(o.left.empty()) << o.describe();
  }
  std::cout << "[ summary  ]\n" << testing::summarize(outcomes);
}

// Every event point once (45), eight start-up points and two random ones: about a minute (32 s for
// 32 points before the host faults; 58-75 s for 55 with them, on the shared 2-core machine).
TEST(CrashMatrix, EveryKillPointIsFollowedByARecoverThatLeavesNothing) {
  play_matrix(static_cast<int>(testing::event_points().size()) + 10);
}

// The long version, for bench/crash_matrix.sh: CHAOSPLUS_CRASH_POINTS points (200 by default).
TEST(CrashMatrix, DISABLED_Long) {
  const char* n = std::getenv("CHAOSPLUS_CRASH_POINTS");
  play_matrix(n != nullptr && *n != '\0' ? std::atoi(n) : 200);
}

}  // namespace
}  // namespace chaosplus
