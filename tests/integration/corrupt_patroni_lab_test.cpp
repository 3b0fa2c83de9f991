// corrupt on a `patroni` target in the lab: the fault acts on the member that holds the role when
// it is built (a replica here), finds the table's file in that member's data folder through the
// member's own server (its host and port after the dsn's settings), leaves the primary's file alone,
// and the revert gives every byte back (SHA-256).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "faults/fault.h"
#include "faults/file_pages.h"
#include "faults/target_handle.h"
#include "support/pg_lab.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::PgLab;

class CorruptOnPatroni : public testing::PgLabTestBase<false> {
 protected:
};

std::string sql(const std::string& host, const std::string& query) {
  auto r = PgLab::run_sql(host, query, "postgres");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return r.output;
}

TEST_F(CorruptOnPatroni, ATablesFileIsCorruptedOnTheReplicaTheTargetNamesAndRestored) {
  const auto leader = lab_->leader();
  ASSERT_TRUE(leader.has_value());
  sql(*leader,
      "DROP TABLE IF EXISTS corrupt_lab; CREATE TABLE corrupt_lab (id int PRIMARY KEY, v text); "
      "INSERT INTO corrupt_lab SELECT g, 'row-' || g FROM generate_series(1, 1000) g");
  sql(*leader, "CHECKPOINT");
  const std::string primary_file =
      sql(*leader, "SHOW data_directory") + "/" + sql(*leader, "SELECT pg_relation_filepath('corrupt_lab')");
  const std::string primary_sha = *faults::file_sha256(primary_file);

  spec::Target t;
  t.name = "replica";
  spec::PatroniRole role;
  role.apis = PgLab::apis();
  role.role = "replica";
  t.patroni = role;
  faults::TargetHandle target(t, "/dev/null");
  testing::TempDir dir;
  target.state_dir = dir.file("state");
  spec::Fault f;
  f.type = "corrupt";
  f.target = "replica";
  f.params = {{"table", "corrupt_lab"},
              {"dsn", "user=postgres dbname=postgres"},
              {"page_numbers", "0"},
              {"region", "body"},
              {"seed", "12"}};
  // The replica has the table once it has replayed the primary's WAL.
  std::unique_ptr<faults::Fault> fault;
  std::string last_error;
  ASSERT_TRUE(testing::wait_until(
      [&] {
        auto made = faults::make_fault(f, target);
        if (!made) last_error = made.error();
        if (made) fault = std::move(made).value();
        return fault != nullptr;
      },
      30s))
      << last_error;
  const auto member = target.member();
  ASSERT_TRUE(member.has_value());
  EXPECT_NE(member->host, *leader);
  nlohmann::json record;
  fault->set_record_sink([&](const std::string& r) {
    record = nlohmann::json::parse(r);
    return ok_status();
  });
  HaltSwitch halt;
  ASSERT_TRUE(fault->inject(halt).ok());
  const auto& c = record.at("corruption");
  const std::string replica_dir = sql(member->host, "SHOW data_directory");
  EXPECT_EQ(c.at("path").get<std::string>().rfind(replica_dir + "/", 0), 0u)
      << c.at("path") << " is not in the replica's " << replica_dir;
  std::cout << "[ figures ] corrupted block 0 of " << c.at("path").get<std::string>() << " on " << member->name << " ("
            << member->role << ")\n";
  EXPECT_EQ(*faults::file_sha256(c.at("path").get<std::string>()), c.at("sha256_after"));
  EXPECT_EQ(*faults::file_sha256(primary_file), primary_sha) << "the primary's file is not touched";
  ASSERT_TRUE(fault->revert(halt).ok());
  EXPECT_EQ(*faults::file_sha256(c.at("path").get<std::string>()), c.at("sha256_before"));
  EXPECT_EQ(fault->reach().at("sha256_verified"), 1);
  sql(*leader, "DROP TABLE corrupt_lab");
}

}  // namespace
}  // namespace chaosplus
