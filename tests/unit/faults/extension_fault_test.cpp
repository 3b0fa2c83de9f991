// A fault of an extension (faults/extension_fault.h) with the example chaosplus-ext-corrupt-file:
// its ledger record holds the extension's own record before the file changes, and a revert from
// that record alone (another process after a crash) puts the bytes back.
#include "faults/extension_fault.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "faults/target_handle.h"
#include "support/support.h"

namespace chaosplus::faults {
namespace {

using nlohmann::json;

struct CorruptFault {
  testing::TempDir dir;
  std::string data = dir.file("data.bin");
  spec::Fault spec;
  std::vector<Event> events;
  TargetHandle target{store(), "/dev/null"};

  static spec::Target store() {
    spec::Target t;
    t.name = "store";
    return t;
  }

  CorruptFault() {
    testing::write_file(data, "0123456789abcdef");
    spec.type = "extension";
    spec.target = "store";
    spec::ExtensionCall call;
    call.extension = "corrupt";
    call.operation = "corrupt";
    call.command.name = "corrupt";
    call.command.argv = {testing::bin("chaosplus-ext-corrupt-file")};
    call.params_json = json{{"path", data}, {"offset", 3}, {"bytes", 4}}.dump();  // as extension::resolve types them
    spec.extension = call;
    target.publish = [this](Event e) { events.push_back(std::move(e)); };
  }
};

TEST(ExtensionFault, TheLedgerHoldsTheExtensionsRecordBeforeTheFileChanges) {
  CorruptFault f;
  auto fault = make_fault(f.spec, f.target);
  ASSERT_TRUE(fault) << fault.error();
  EXPECT_EQ((*fault)->kind(), "extension.fault");
  std::vector<json> ledger;  // every record the runner would write, in order
  ledger.push_back(json::parse((*fault)->record()));
  (*fault)->set_record_sink([&](const std::string& record) {
    json r = json::parse(record);
    if (!r["record"].is_null()) {
      // The checkpoint: stored while the file still holds its original bytes.
      EXPECT_TRUE(ledger.back()["record"].is_object() || testing::read_file(f.data) == "0123456789abcdef");
    }
    ledger.push_back(std::move(r));
    return ok_status();
  });
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt));
  EXPECT_EQ(testing::read_file(f.data).substr(0, 3), "012");
  EXPECT_NE(testing::read_file(f.data), "0123456789abcdef");
  EXPECT_TRUE(ledger.front()["record"].is_null()) << "written before the extension ran";
  // Its pid before it ran, its checkpoint before it wrote, its reply after.
  ASSERT_GE(ledger.size(), 4u);
  EXPECT_TRUE(ledger[1].contains("extension_pid"));
  EXPECT_EQ(ledger[2]["record"]["original"], "33343536");  // "3456" in hex
  EXPECT_FALSE(ledger.back().contains("extension_pid")) << "it has exited: nothing to stop at undo";
  ASSERT_EQ(f.events.size(), 1u);
  EXPECT_EQ(f.events[0].type, "extension.event");
  EXPECT_EQ(f.events[0].text("event"), "corrupt_file.written");

  // Another process reverts it from the last record alone, twice (idempotent).
  ASSERT_TRUE(revert_extension_fault(ledger.back().dump()));
  EXPECT_EQ(testing::read_file(f.data), "0123456789abcdef");
  ASSERT_TRUE(revert_extension_fault(ledger.back().dump()));
  EXPECT_EQ(testing::read_file(f.data), "0123456789abcdef");
}

TEST(ExtensionFault, ARecordFromTheCheckpointAloneIsEnoughToRevert) {
  CorruptFault f;
  auto fault = make_fault(f.spec, f.target);
  ASSERT_TRUE(fault) << fault.error();
  std::string checkpointed;
  (*fault)->set_record_sink([&](const std::string& record) {
    if (checkpointed.empty() && !json::parse(record)["record"].is_null()) checkpointed = record;
    return ok_status();
  });
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt));
  ASSERT_FALSE(checkpointed.empty());
  // What a runner killed right after the checkpoint leaves: the extension's pid (gone now) and the record.
  ASSERT_TRUE(json::parse(checkpointed).contains("extension_pid"));
  ASSERT_TRUE(revert_extension_fault(checkpointed));
  EXPECT_EQ(testing::read_file(f.data), "0123456789abcdef");
}

TEST(ExtensionFault, AFileThatDoesNotExistIsRefusedAndNothingIsLeftToRevert) {
  CorruptFault f;
  f.spec.extension->params_json = json{{"path", f.dir.file("missing")}, {"offset", 0}, {"bytes", 1}}.dump();
  auto fault = make_fault(f.spec, f.target);
  ASSERT_TRUE(fault) << fault.error();
  HaltSwitch halt;
  Status s = (*fault)->inject(halt);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().find("does not exist"), std::string::npos) << s.error();
  EXPECT_TRUE((*fault)->revert(halt)) << "revert with a null record changes nothing";
}

TEST(ExtensionFault, UnresolvedParametersAreRefused) {
  CorruptFault f;
  f.spec.extension->params_json.clear();
  auto fault = make_fault(f.spec, f.target);
  ASSERT_FALSE(fault);
  EXPECT_NE(fault.error().find("were not checked"), std::string::npos) << fault.error();
}

}  // namespace
}  // namespace chaosplus::faults
