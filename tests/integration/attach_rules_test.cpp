// A kill's ledger record keeps the target's attach rule, so a revert (or `recover`, in a new
// process) can ask the rule again whether a supervisor brought the target back. These tests cover
// the rules that ask something else for the pid: a command and an HTTP endpoint.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faults/fault.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "net/http_server.h"
#include "support/support.h"
#include "targets/attach.h"
#include "targets/launch.h"

namespace chaosplus::faults {
namespace {

spec::Fault kill_of(const std::string& target) {
  spec::Fault f;
  f.type = "kill";
  f.target = target;
  return f;
}

// `sleep 600` processes standing in for a supervised service; the last one started is "the" service.
struct Service {
  testing::TempDir dir;
  std::vector<targets::ProcessId> started;
  std::atomic<int> current{0};

  targets::ProcessId start() {
    spec::ProcessLaunch launch;
    launch.command = {"sleep", "600"};
    auto id = targets::spawn(launch, dir.file("sleep.log"));
    EXPECT_TRUE(id.ok()) << id.error();
    started.push_back(*id);
    current = id->pid;
    testing::write_file(dir.file("service.pid"), std::to_string(id->pid) + "\n");
    return *id;
  }
  ~Service() {
    for (const auto& id : started) (void)targets::stop(id);
  }
};

// Kill the service, check the record keeps the rule, then play the supervisor and check that both
// the record (as `recover` reads it) and the fault itself see the target back.
void kill_and_come_back(Service& service, const spec::ProcessAttach& attach, const nlohmann::json& expected_rule) {
  spec::Target t;
  t.name = "supervised";
  t.attach = attach;
  TargetHandle handle(t, service.dir.file("supervised.log"));
  handle.set_process(service.start());
  HaltSwitch halt;
  auto fault = make_fault(kill_of("supervised"), handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();
  EXPECT_EQ(nlohmann::json::parse(record).at("attach"), expected_rule) << record;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_FALSE(undo((*fault)->kind(), record).ok()) << "still down, and nothing can start it";
  const targets::ProcessId back = service.start();
  EXPECT_TRUE(undo((*fault)->kind(), record).ok()) << "recover sees it back through the rule";
  ASSERT_TRUE((*fault)->revert(halt).ok());
  ASSERT_TRUE(handle.process().has_value());
  EXPECT_EQ(*handle.process(), back);
}

TEST(KillOfAnAttachedTarget, FoundByAPidCommandIsSeenBackFromItsRecord) {
  Service service;
  spec::ProcessAttach attach;
  attach.pid_command = {"cat", service.dir.file("service.pid")};
  kill_and_come_back(service, attach, {{"pid_command", attach.pid_command}});
}

TEST(KillOfAnAttachedTarget, FoundByAPidUrlIsSeenBackFromItsRecord) {
  Service service;
  net::HttpServer server({}, [&](const net::Request&) {
    return net::Response::json(200, nlohmann::json{{"state", "running"}, {"pid", service.current.load()}}.dump());
  });
  ASSERT_TRUE(server.start().ok());
  spec::ProcessAttach attach;
  attach.pid_url = "http://127.0.0.1:" + std::to_string(server.port()) + "/patroni";
  attach.pid_field = "pid";
  kill_and_come_back(service, attach, {{"pid_url", attach.pid_url}, {"pid_field", "pid"}});
}

}  // namespace
}  // namespace chaosplus::faults
