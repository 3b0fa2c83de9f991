// One way to find the results store for every command: --store, $CHAOSPLUS_STORE, the config file,
// the state folder.
#include "store/location.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>

#include "support/support.h"

namespace chaosplus::store {
namespace {

using testing::TempDir;

// Sets (or clears, for "") an environment variable for one test and puts it back after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value.empty()) ::unsetenv(name);
    else ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) ::setenv(name_, old_->c_str(), 1);
    else ::unsetenv(name_);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class LocationTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_.file("xdg/chaosplus")); }
  TempDir dir_;
  ScopedEnv store_{"CHAOSPLUS_STORE", ""};
  ScopedEnv config_{"CHAOSPLUS_CONFIG", ""};
  ScopedEnv xdg_{"XDG_CONFIG_HOME", dir_.file("xdg")};
};

TEST_F(LocationTest, WithNothingConfiguredIsTheStateFolder) {
  auto where = resolve_location("", "/var/lib/chaos");
  ASSERT_TRUE(where.ok()) << where.error();
  EXPECT_EQ(*where, "/var/lib/chaos/results.db");
}

TEST_F(LocationTest, TheFlagComesFirst) {
  ScopedEnv env("CHAOSPLUS_STORE", "/from/env.db");
  testing::write_file(dir_.file("xdg/chaosplus/config.yaml"), "store: /from/config.db\n");
  auto where = resolve_location("postgresql://127.0.0.1/x", "/state");
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(*where, "postgresql://127.0.0.1/x");
}

TEST_F(LocationTest, TheEnvironmentComesBeforeTheConfigFile) {
  ScopedEnv env("CHAOSPLUS_STORE", "/from/env.db");
  testing::write_file(dir_.file("xdg/chaosplus/config.yaml"), "store: /from/config.db\n");
  auto where = resolve_location("", "/state");
  ASSERT_TRUE(where.ok());
  EXPECT_EQ(*where, "/from/env.db");
}

TEST_F(LocationTest, TheConfigFileUnderXdgConfigHome) {
  testing::write_file(dir_.file("xdg/chaosplus/config.yaml"),
                      "# results\nstore: postgresql://chaos@127.0.0.1:5432/results\n");
  auto where = resolve_location("", "/state");
  ASSERT_TRUE(where.ok()) << where.error();
  EXPECT_EQ(*where, "postgresql://chaos@127.0.0.1:5432/results");
}

TEST_F(LocationTest, ARelativePathInTheConfigFileIsTakenFromItsFolder) {
  testing::write_file(dir_.file("conf.yaml"), "store: data/results.db\n");
  ScopedEnv config("CHAOSPLUS_CONFIG", dir_.file("conf.yaml"));
  auto where = resolve_location("", "/state");
  ASSERT_TRUE(where.ok()) << where.error();
  EXPECT_EQ(*where, dir_.file("data/results.db"));
}

TEST_F(LocationTest, AConfigFileWithoutStoreFallsBackToTheStateFolder) {
  testing::write_file(dir_.file("conf.yaml"), "other: 1\n");
  ScopedEnv config("CHAOSPLUS_CONFIG", dir_.file("conf.yaml"));
  auto where = resolve_location("", "/state");
  ASSERT_TRUE(where.ok()) << where.error();
  EXPECT_EQ(*where, "/state/results.db");
}

TEST_F(LocationTest, ABadConfigFileIsAnErrorWithItsLine) {
  testing::write_file(dir_.file("conf.yaml"), "# settings\n\nstore:\n  - a\n  - b\n");
  ScopedEnv config("CHAOSPLUS_CONFIG", dir_.file("conf.yaml"));
  auto where = resolve_location("", "/state");
  ASSERT_FALSE(where.ok());
  EXPECT_NE(where.error().find(dir_.file("conf.yaml") + ":4"), std::string::npos) << where.error();
  EXPECT_NE(where.error().find("expected a postgresql:// URI or a file path"), std::string::npos) << where.error();
}

TEST_F(LocationTest, ConfigFileThatIsNotYamlIsAnErrorWithItsLine) {
  testing::write_file(dir_.file("conf.yaml"), "store: [unclosed\n");
  ScopedEnv config("CHAOSPLUS_CONFIG", dir_.file("conf.yaml"));
  auto where = resolve_location("", "/state");
  ASSERT_FALSE(where.ok());
  EXPECT_NE(where.error().find(dir_.file("conf.yaml") + ":"), std::string::npos) << where.error();
}

TEST_F(LocationTest, AMissingConfigFileNamedByTheEnvironmentIsAnError) {
  ScopedEnv config("CHAOSPLUS_CONFIG", dir_.file("absent.yaml"));
  auto where = resolve_location("", "/state");
  ASSERT_FALSE(where.ok());
  EXPECT_NE(where.error().find(dir_.file("absent.yaml")), std::string::npos) << where.error();
}

}  // namespace
}  // namespace chaosplus::store
