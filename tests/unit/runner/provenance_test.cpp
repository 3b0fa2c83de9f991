#include "runner/provenance.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/support.h"

namespace chaosplus::runner {
namespace {

TEST(Provenance, HashesTheFileBytesWithSha256) {
  testing::TempDir dir;
  testing::write_file(dir.file("abc"), "abc");
  auto digest = file_sha256(dir.file("abc"));
  ASSERT_TRUE(digest.ok()) << digest.error();
  // FIPS 180-2, appendix B.1.
  EXPECT_EQ(*digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  testing::write_file(dir.file("empty"), "");
  EXPECT_EQ(file_sha256(dir.file("empty")).value(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_FALSE(file_sha256(dir.file("absent")).ok());
}

// Matching is by substring, so MONKEY is hidden too: hiding a harmless value costs less than a leak.
TEST(Provenance, RedactsTheValuesOfSecretLookingVariablesOnly) {
  const std::vector<std::string> argv{"chaosplus", "run",           "x.yaml",        "--var",
                                      "PORT=8080", "--var",         "API_TOKEN=t0k", "--var=Db_Password=pw",
                                      "--var",     "ssh_key=k",     "--var",         "CLIENT_SECRET=s",
                                      "--var",     "MONKEY=banana", "PLAIN=notavar"};
  EXPECT_EQ(redacted_command_line(argv),
            "chaosplus run x.yaml --var PORT=8080 --var API_TOKEN=<redacted> --var=Db_Password=<redacted> "
            "--var ssh_key=<redacted> --var CLIENT_SECRET=<redacted> --var MONKEY=<redacted> PLAIN=notavar");
}

TEST(Provenance, NamesTheVersionOfTheBuild) { EXPECT_FALSE(chaosplus_version().empty()); }

}  // namespace
}  // namespace chaosplus::runner
