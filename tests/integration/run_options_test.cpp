// The options of `chaosplus run` and `validate` that shape a run without being in the file:
// --var (values for ${VAR}), --dry-run (look, touch nothing), and the provenance run.started keeps.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/support.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;
using testing::bin;
using testing::Child;
using testing::TempDir;

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string sha256_hex(const std::string& bytes) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  std::string hex;
  for (unsigned char b : digest) {
    std::array<char, 3> pair{};
    std::snprintf(pair.data(), pair.size(), "%02x", b);
    hex += pair.data();
  }
  return hex;
}

// Runs chaosplus to its end; returns its exit code (-1 when it did not end in time).
int run(const std::vector<std::string>& args, std::string& output, const std::map<std::string, std::string>& env = {},
        const std::string& cwd = {}) {
  std::vector<std::string> argv{bin("chaosplus")};
  argv.insert(argv.end(), args.begin(), args.end());
  Child child(argv, env, cwd);
  const auto code = child.wait(60s);
  output = child.output();
  return code.value_or(-1);
}

TEST(RunDryRun, ResolvesAndPrintsTheTimelineButTouchesNothing) {
  TempDir dir;
  // A real process the experiment pauses; the dry run must leave it running.
  Child victim({"sleep", "600"});
  ASSERT_TRUE(testing::wait_until([&] { return testing::process_state(victim.pid()) != 0; }));
  const std::string marker = dir.file("started-marker");
  const std::string file = dir.file("pause.yaml");
  testing::write_file(file,
                      "name: dry\n"
                      "targets:\n"
                      "  victim: { attach: { pid: " +
                          std::to_string(victim.pid()) +
                          " } }\n"
                          "  starter: { process: { command: [sh, -c, \"touch " +
                          marker +
                          "; sleep 600\"] } }\n"
                          "phases:\n"
                          "  - name: calm\n    duration: 2s\n"
                          "  - name: frozen\n    duration: 3s\n"
                          "    faults:\n      - pause: { target: victim, at: 500ms, for: 1s }\n"
                          "      - kill: { target: starter }\n");
  std::string output;
  const int code =
      run({"run", "--dry-run", file, "--plain", "--state-dir", dir.file("state"), "--runs-dir", dir.file("runs")},
          output, {}, dir.path());
  EXPECT_EQ(code, 0) << output;
  EXPECT_TRUE(contains(output, "victim: attached to pid " + std::to_string(victim.pid()) + " (sleep)")) << output;
  EXPECT_TRUE(contains(output, "starter: would start sh -c")) << output;
  EXPECT_TRUE(contains(output, "phase 'frozen' at 2s for 3s:")) << output;
  EXPECT_TRUE(contains(output, "at 2.5s for 1s: pause victim (pid " + std::to_string(victim.pid()) + ")")) << output;
  EXPECT_TRUE(contains(output, "at 2s for 3s: kill starter")) << output;

  const char state = testing::process_state(victim.pid());
  EXPECT_NE(state, 'T') << "the dry run paused the process";
  EXPECT_NE(state, 0) << "the dry run ended the process";
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the dry run started a target";
  EXPECT_FALSE(std::filesystem::exists(dir.file("runs"))) << "the dry run wrote a journal";
  EXPECT_FALSE(std::filesystem::exists(dir.file("state"))) << "the dry run opened the ledger";
}

TEST(RunDryRun, SaysWhatARunCouldNotFindAndFails) {
  TempDir dir;
  const std::string file = dir.file("gone.yaml");
  testing::write_file(file,
                      "name: gone\n"
                      "targets:\n"
                      "  ghost: { attach: { pidfile: " +
                          dir.file("ghost.pid") +
                          " } }\n"
                          "  typo: { process: { command: [chaosplus-no-such-program] } }\n"
                          "phases:\n  - name: a\n    duration: 1s\n    faults: [pause: { target: ghost }]\n");
  std::string output;
  EXPECT_EQ(run({"run", "--dry-run", file, "--state-dir", dir.file("state"), "--runs-dir", dir.file("runs")}, output),
            3)
      << output;
  EXPECT_TRUE(contains(output, "ghost: cannot attach: cannot read pidfile " + dir.file("ghost.pid"))) << output;
  EXPECT_TRUE(contains(output, "cannot start 'chaosplus-no-such-program': not found")) << output;
  EXPECT_TRUE(contains(output, "dry run: a run would fail")) << output;
  EXPECT_FALSE(std::filesystem::exists(dir.file("state")));
}

TEST(RunVariables, VarValuesTakePrecedenceOverTheEnvironment) {
  TempDir dir;
  const std::string file = dir.file("vars.yaml");
  testing::write_file(file,
                      "name: vars\ntargets:\n  api: { endpoint: \"127.0.0.1:${CP_TEST_PORT}\" }\n"
                      "phases:\n  - name: a\n    duration: ${CP_TEST_LENGTH}\n");
  std::string output;
  // From the environment alone: a port that is no port.
  EXPECT_EQ(run({"validate", file}, output, {{"CP_TEST_PORT", "http"}, {"CP_TEST_LENGTH", "1s"}}), 3) << output;
  EXPECT_TRUE(contains(output, "127.0.0.1:http")) << output;
  // --var wins; the environment still fills what --var does not give.
  EXPECT_EQ(run({"validate", "--var", "CP_TEST_PORT=8080", file}, output,
                {{"CP_TEST_PORT", "http"}, {"CP_TEST_LENGTH", "1s"}}),
            0)
      << output;
  // Neither: the error names both ways to give it.
  EXPECT_EQ(run({"validate", file, "--var", "CP_TEST_PORT=8080"}, output), 3) << output;
  EXPECT_TRUE(contains(output, "'CP_TEST_LENGTH' is not set")) << output;
  EXPECT_TRUE(contains(output, "--var CP_TEST_LENGTH=")) << output;
}

TEST(RunVariables, ABadVarIsAnErrorBeforeAnythingRuns) {
  TempDir dir;
  std::string output;
  for (const std::string bad : {"NOEQUALS", "=1", "9LIVES=1", "A-B=1"}) {
    EXPECT_EQ(run({"run", "--var", bad, dir.file("absent.yaml"), "--state-dir", dir.file("state")}, output), 3)
        << output;
    EXPECT_TRUE(contains(output, "--var '" + bad + "': expected KEY=VALUE")) << output;
    EXPECT_EQ(run({"validate", "--var", bad, dir.file("absent.yaml")}, output), 3) << output;
    EXPECT_TRUE(contains(output, "expected KEY=VALUE")) << output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("state")));
}

TEST(RunProvenance, RunStartedSaysWhichBuildRanWhichFileWhereAndHow) {
  TempDir dir;
  const std::string yaml = "name: provenance\nphases:\n  - name: short\n    duration: ${CP_TEST_LENGTH}\n";
  testing::write_file(dir.file("prov.yaml"), yaml);
  const std::string journal = dir.file("journal.jsonl");
  std::string output;
  // A relative file name, from the folder it is in: the journal keeps the absolute path.
  run({"run", "prov.yaml", "--plain", "--state-dir", dir.file("state"), "--journal", journal, "--var",
       "CP_TEST_LENGTH=100ms", "--var", "API_TOKEN=hunter2", "--var=DB_PASSWORD=swordfish", "--var", "SSH_KEY=k3y"},
      output, {}, dir.path());
  const auto lines = testing::read_lines(journal);
  ASSERT_FALSE(lines.empty()) << output;
  const nlohmann::json started = nlohmann::json::parse(lines.front());
  ASSERT_EQ(started.value("type", ""), "run.started") << lines.front();
  EXPECT_EQ(started.value("version", ""), "0.1.0") << lines.front();
  std::string version;
  EXPECT_EQ(run({"--version"}, version), 0);
  EXPECT_TRUE(contains(version, "chaosplus " + started.value("version", "?"))) << version;  // one version everywhere
  EXPECT_EQ(started.value("file", ""), std::filesystem::path(dir.file("prov.yaml")).lexically_normal().string())
      << lines.front();
  EXPECT_EQ(started.value("file_sha256", ""), sha256_hex(yaml)) << lines.front();
  std::array<char, 256> host{};
  ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
  EXPECT_EQ(started.value("host", ""), std::string(host.data())) << lines.front();
  EXPECT_EQ(started.value("user", -1), static_cast<int>(::getuid())) << lines.front();
  const std::string command = started.value("command_line", "");
  EXPECT_EQ(command, bin("chaosplus") + " run prov.yaml --plain --state-dir " + dir.file("state") + " --journal " +
                         journal + " --var CP_TEST_LENGTH=100ms --var API_TOKEN=<redacted>" +
                         " --var=DB_PASSWORD=<redacted> --var SSH_KEY=<redacted>");
  for (const char* secret : {"hunter2", "swordfish", "k3y"}) {
    EXPECT_FALSE(contains(testing::read_file(journal), secret)) << secret << " leaked into the journal";
  }
}

}  // namespace
}  // namespace chaosplus
