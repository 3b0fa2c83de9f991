// Toxiproxy compatibility, proven with a real published client: the npm package
// toxiproxy-node-client (pinned in toxiproxy_client/package-lock.json) drives `chaosplus proxy`
// through create / add toxic / remove toxic / reset / update / delete and its error paths.
// The scenario itself is toxiproxy_client/compat.test.js (node's built-in test runner); this test
// installs the pinned client into a temporary copy with `npm ci` and runs it. Needs node >= 18 and
// npm (Debian: apt-get install nodejs npm) and the npm registry (or a warm npm cache).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;
using testing::TempDir;

constexpr int kNotFound = 127;  // Child's exit code when the program cannot be executed

TEST(ToxiproxyClient, PublishedNodeClientDrivesTheProxyUnchanged) {
  TempDir work;
  for (const char* name : {"package.json", "package-lock.json", "compat.test.js"}) {
    std::filesystem::copy_file(testing::source_path(std::string("tests/integration/toxiproxy_client/") + name),
                               work.file(name));
  }
  const std::map<std::string, std::string> quiet_npm = {
      {"npm_config_update_notifier", "false"}, {"npm_config_fund", "false"}, {"npm_config_audit", "false"}};

  Child install({"npm", "ci", "--no-audit", "--no-fund"}, quiet_npm, work.path());
  auto installed = install.wait(300s);
  ASSERT_NE(installed, kNotFound) << "npm is not installed (Debian: apt-get install nodejs npm)";
  ASSERT_EQ(installed, 0) << "npm ci failed (is the npm registry reachable?):\n" << install.output();

  Child run({"node", "--test", "compat.test.js"}, {{"CHAOSPLUS_BIN", testing::bin("chaosplus")}}, work.path());
  auto finished = run.wait(300s);
  ASSERT_NE(finished, kNotFound) << "node is not installed (Debian: apt-get install nodejs npm)";
  EXPECT_EQ(finished, 0) << run.output();
}

}  // namespace
}  // namespace chaosplus
