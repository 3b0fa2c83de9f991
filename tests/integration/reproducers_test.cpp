// The bar of issue 11 that joins the fuzzer, the security probes and replay: every finding's
// reproducer, replayed, reproduces it, and the minimized request is no larger than the one first
// found. Against the real demo shop (demo/README.md) with its deterministic seeded bugs on: the
// fuzzer and the scanner write their findings files, `chaosplus replay` re-sends every finding.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fuzz/finding_output.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::Child;

bool healthy(int port) { return testing::http_request("GET", "127.0.0.1", port, "/health", {}, 1s).status == 200; }

// The bugs whose trigger is a request (not a crash, a hang or memory over time).
constexpr const char* kBugs =
    "boundary-500,stack-leak,schema-drift,use-after-delete,sql-injection,template-injection,path-traversal,"
    "reflected-xss,cors,accept-invalid";

class Reproducers : public ::testing::Test {
 protected:
  void SetUp() override {
    tokens_ = std::make_unique<Child>(
        std::vector<std::string>{testing::bin("demo-token-service"), "--port", std::to_string(tokens_port_)});
    ASSERT_TRUE(testing::wait_until([&] { return healthy(tokens_port_); })) << tokens_->output();
    shop_ = std::make_unique<Child>(std::vector<std::string>{
        testing::bin("demo-shop-api"), "--port", std::to_string(shop_port_), "--tokens",
        "127.0.0.1:" + std::to_string(tokens_port_), "--files", files_.path(), "--bug", kBugs});
    ASSERT_TRUE(testing::wait_until([&] { return healthy(shop_port_); })) << shop_->output();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(shop_port_); }

  // Replays every finding of `file`: exit 0 means each one reproduced.
  void expect_all_replay(const std::string& file) {
    Child replay({testing::bin("chaosplus"), "replay", file});
    auto code = replay.wait(120s);
    ASSERT_TRUE(code);
    EXPECT_EQ(*code, 0) << replay.output();
  }

  testing::TempDir dir_;
  testing::TempDir files_;
  int tokens_port_ = testing::free_port();
  int shop_port_ = testing::free_port();
  std::unique_ptr<Child> tokens_;
  std::unique_ptr<Child> shop_;
};

TEST_F(Reproducers, EveryFuzzFindingReplaysAndIsNoLargerThanFirstFound) {
  const std::string findings = dir_.file("fuzz.json");
  Child fuzz({testing::bin("chaosplus"), "fuzz", "--openapi", testing::source_path("demo/shop-api.openapi.yaml"),
              "--base-url", url(), "--duration", "8s", "--seed", "11", "--header", "Authorization: Bearer demo-alice",
              "--findings", findings, "-q"});
  auto code = fuzz.wait(120s);
  ASSERT_TRUE(code);
  ASSERT_EQ(*code, 1) << fuzz.output();
  auto file = fuzz::read_findings_file(findings);
  ASSERT_TRUE(file) << file.error();
  ASSERT_GE(file->findings.size(), 4u) << fuzz.output();
  for (const fuzz::Finding& f : file->findings) {
    EXPECT_LE(f.raw_request.size(), f.original_bytes) << f.id() << " " << f.title;
  }
  expect_all_replay(findings);
}

TEST_F(Reproducers, EverySecurityFindingOfTheRequestChecksReplays) {
  const std::string findings = dir_.file("scan.json");
  Child scan({testing::bin("chaosplus"), "scan", "--openapi", testing::source_path("demo/shop-api.openapi.yaml"),
              "--base-url", url(), "--user", "alice=Authorization: Bearer demo-alice", "--user",
              "bob=Authorization: Bearer demo-bob", "--checks", "injection,headers", "--findings", findings, "-q"});
  auto code = scan.wait(120s);
  ASSERT_TRUE(code);
  ASSERT_EQ(*code, 1) << scan.output();
  auto file = fuzz::read_findings_file(findings);
  ASSERT_TRUE(file) << file.error();
  ASSERT_GE(file->findings.size(), 4u) << scan.output();
  expect_all_replay(findings);
}

}  // namespace
}  // namespace chaosplus
