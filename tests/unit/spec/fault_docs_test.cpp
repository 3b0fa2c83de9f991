// docs/faults.md shows each fault type's parameters as the registry describes them: the tables are
// the registry's rendering (spec::fault_param_table), so docs and code cannot drift apart.
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "spec/fault_catalog.h"
#include "support/support.h"

namespace chaosplus::spec {
namespace {

TEST(FaultDocs, EveryFaultTypeHasItsGeneratedParameterTable) {
  const std::string docs = testing::read_file(testing::source_path("docs/faults.md"));
  for (const auto& type : fault_catalog()) {
    const std::string name(type.name);
    EXPECT_NE(docs.find("### `" + name + "`"), std::string::npos)
        << "docs/faults.md has no section ### `" << name << "`";
    const std::string table = fault_param_table(type);
    if (table.empty()) continue;
    EXPECT_NE(docs.find(table), std::string::npos)
        << "docs/faults.md does not hold the parameter table of '" << name
        << "' as the registry renders it (build/bin/chaosplus schema --markdown prints them all):\n"
        << table;
  }
}

TEST(FaultDocs, TablesSayRequiredDefaultOrNotGiven) {
  const FaultType* latency = find_fault_type("latency");
  ASSERT_NE(latency, nullptr);
  std::istringstream rows(fault_param_table(*latency));
  std::string header, rule, first, second;
  std::getline(rows, header);
  std::getline(rows, rule);
  std::getline(rows, first);
  std::getline(rows, second);
  EXPECT_EQ(header, "| parameter | kind | default | what |");
  EXPECT_EQ(first.rfind("| `latency` | duration | required | ", 0), 0u) << first;
  EXPECT_EQ(second.rfind("| `jitter` | duration | `0ms` | ", 0), 0u) << second;
  EXPECT_EQ(fault_param_table(*find_fault_type("pause")), "");
}

}  // namespace
}  // namespace chaosplus::spec
