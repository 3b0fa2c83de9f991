#include "core/config_file.h"

#include <gtest/gtest.h>

#include "core/allowed_hosts.h"
#include "support/support.h"

namespace chaosplus {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(ConfigFile, ReadsStoreAllowAndEtcdFromOneFile) {
  TempDir dir;
  const std::string path = dir.file("config.yaml");
  write_file(path,
             "store: results.db\n"
             "allow: [10.77.0.0/24, 192.168.1.5]\n"
             "etcd:\n"
             "  endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379]\n"
             "  ca_file: ca.pem\n"
             "  cert_file: /etc/chaosplus/client.pem\n"
             "  key_file: client-key.pem\n"
             "  user: chaosplus\n"
             "  password_file: pw\n"
             "  lease_ttl: 3s\n");
  auto config = read_config_file(path);
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->store, dir.file("results.db"));
  EXPECT_EQ(config->allow, (std::vector<std::string>{"10.77.0.0/24", "192.168.1.5"}));
  EXPECT_EQ(config->allow_where[1], path + ":2");
  EXPECT_EQ(config->etcd.endpoints, (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.2:2379"}));
  EXPECT_EQ(config->etcd.ca_file, dir.file("ca.pem"));
  EXPECT_EQ(config->etcd.cert_file, "/etc/chaosplus/client.pem");
  EXPECT_EQ(config->etcd.key_file, dir.file("client-key.pem"));
  EXPECT_EQ(config->etcd.user, "chaosplus");
  EXPECT_EQ(config->etcd.password_file, dir.file("pw"));
  ASSERT_TRUE(config->etcd.lease_ttl);
  EXPECT_EQ(*config->etcd.lease_ttl, std::chrono::seconds(3));
}

TEST(ConfigFile, AcceptsOneEndpointWrittenAsText) {
  TempDir dir;
  write_file(dir.file("c.yaml"), "etcd:\n  endpoints: http://127.0.0.1:2379\n");
  auto config = read_config_file(dir.file("c.yaml"));
  ASSERT_TRUE(config) << config.error();
  EXPECT_EQ(config->etcd.endpoints, std::vector<std::string>{"http://127.0.0.1:2379"});
}

// Each bad setting is reported at its own line.
TEST(ConfigFile, PointsAtTheLineOfAWrongSetting) {
  TempDir dir;
  const std::string path = dir.file("config.yaml");
  struct Case {
    std::string text;
    std::string line;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {"store: x.db\nallow:\n  - 10.0.0.0/8\n  - db.example.com\n", ":4", "db.example.com"},
           {"allow: 10.0.0.0/8\n", ":1", "expected a list"},
           {"etcd:\n  endpoints: [127.0.0.1:2379]\n", ":2", "expected an http:// or https:// URL"},
           {"etcd:\n  endpoints: [http://127.0.0.1:2379]\n  lease: 5s\n", ":3", "unknown setting 'lease'"},
           {"etcd:\n  lease_ttl: 10\n", ":2", "lease_ttl"},
           {"etcd: [a]\n", ":1", "expected a map"},
       }) {
    write_file(path, c.text);
    auto config = read_config_file(path);
    ASSERT_FALSE(config) << c.text;
    EXPECT_NE(config.error().find(path + c.line + ":"), std::string::npos) << config.error();
    EXPECT_NE(config.error().find(c.says), std::string::npos) << config.error();
  }
}

TEST(ConfigFile, AnEmptyFileHasNoSettings) {
  TempDir dir;
  write_file(dir.file("c.yaml"), "");
  auto config = read_config_file(dir.file("c.yaml"));
  ASSERT_TRUE(config) << config.error();
  EXPECT_TRUE(config->store.empty());
  EXPECT_TRUE(config->allow.empty());
  EXPECT_TRUE(config->etcd.endpoints.empty());
}

TEST(ConfigFile, TheAllowListTakesTheConfigAndTheEnvironment) {
  allowed_hosts().clear();
  ConfigFile config;
  config.allow = {"10.77.0.0/24"};
  config.allow_where = {"config.yaml:2"};
  ::setenv("CHAOSPLUS_ALLOW", "192.168.9.9, fd00::/8", 1);
  ASSERT_TRUE(apply_allow_list(config));
  ::unsetenv("CHAOSPLUS_ALLOW");
  EXPECT_TRUE(allowed_hosts().allows_host("10.77.0.5"));
  EXPECT_TRUE(allowed_hosts().allows_host("192.168.9.9"));
  EXPECT_TRUE(allowed_hosts().allows_host("[fd00::5]"));
  EXPECT_FALSE(allowed_hosts().allows_host("192.168.9.8"));
  allowed_hosts().clear();
}

TEST(ConfigFile, AWrongEnvironmentListIsAnErrorNamingTheVariable) {
  allowed_hosts().clear();
  ::setenv("CHAOSPLUS_ALLOW", "10.0.0.0/8,example.com", 1);
  auto applied = apply_allow_list(ConfigFile{});
  ::unsetenv("CHAOSPLUS_ALLOW");
  ASSERT_FALSE(applied);
  EXPECT_NE(applied.error().find("$CHAOSPLUS_ALLOW"), std::string::npos) << applied.error();
  allowed_hosts().clear();
}

}  // namespace
}  // namespace chaosplus
