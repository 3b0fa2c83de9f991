// Targets and probes together, against a real HTTP server in another process: start it, wait until
// it is ready, probe it, pause and resume it, find it again from a pidfile as a restarted runner
// would, and stop it.
//
// The target is this very binary: started with CHAOSPLUS_TP_SERVE_PORT set, it serves HTTP on that
// port instead of running tests (see ServeIfAsked below).
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "net/http_server.h"
#include "probes/probe.h"
#include "support/support.h"
#include "targets/attach.h"
#include "targets/launch.h"
#include "targets/process.h"

namespace chaosplus {
namespace {

using chaosplus::testing::free_port;
using chaosplus::testing::TempDir;
using chaosplus::testing::wait_until;

// Target mode: serve /health until SIGTERM, writing our pid to $CHAOSPLUS_TP_PIDFILE once listening.
[[noreturn]] void serve(int port) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &term, nullptr);  // before the server's threads start, so they inherit it
  net::HttpServer::Options options;
  options.port = port;
  net::HttpServer server(options, [](const net::Request& request) {
    if (request.path() == "/health") return net::Response::text(200, "ok");
    return net::Response::text(404, "not found");
  });
  if (auto started = server.start(); !started) {
    std::fprintf(stderr, "target: %s\n", started.error().c_str());
    std::_Exit(3);
  }
  std::printf("target: listening on %d\n", server.port());
  std::fflush(stdout);
  if (const char* pidfile = std::getenv("CHAOSPLUS_TP_PIDFILE"); pidfile != nullptr) {
    const std::string tmp = std::string(pidfile) + ".tmp";
    std::ofstream(tmp) << ::getpid() << "\n";
    std::filesystem::rename(tmp, pidfile);
  }
  int signal = 0;
  ::sigwait(&term, &signal);
  server.stop();
  std::_Exit(0);
}

// Runs before any test, once every static object of the program is initialized.
class ServeIfAsked : public ::testing::Environment {
 public:
  void SetUp() override {
    if (const char* port = std::getenv("CHAOSPLUS_TP_SERVE_PORT"); port != nullptr) serve(std::atoi(port));
  }
};
[[maybe_unused]] ::testing::Environment* const serve_if_asked =
    ::testing::AddGlobalTestEnvironment(new ServeIfAsked);  // gtest owns it

std::string self_path() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

class TargetsProbes : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = free_port();
    launch_.command = {self_path()};
    launch_.env["CHAOSPLUS_TP_SERVE_PORT"] = std::to_string(port_);
    launch_.env["CHAOSPLUS_TP_PIDFILE"] = dir_.file("target.pid");
    check_.http_url = url("/health");
    check_.timeout = std::chrono::seconds(20);
  }

  void TearDown() override {
    for (const auto& id : started_) (void)targets::stop(id, std::chrono::seconds(1));
  }

  std::string url(const std::string& target) const { return "http://127.0.0.1:" + std::to_string(port_) + target; }

  // Starts the target and waits until it is ready.
  targets::ProcessId start_ready() {
    auto id = targets::spawn(launch_, log());
    EXPECT_TRUE(id.ok()) << id.error();
    if (!id.ok()) return {};
    started_.push_back(*id);
    HaltSwitch halt;
    auto ready = targets::wait_ready(check_, *id, log(), halt);
    EXPECT_TRUE(ready.ok()) << ready.error();
    return *id;
  }

  spec::Probe health_probe(Duration timeout = std::chrono::seconds(5)) const {
    spec::HttpProbe http;
    http.url = url("/health");
    http.timeout = timeout;
    spec::Probe probe;
    probe.name = "health";
    probe.kind = http;
    probe.expect.body_contains = "ok";
    return probe;
  }

  std::string log() const { return dir_.file("target.log"); }

  TempDir dir_;
  int port_ = 0;
  spec::ProcessLaunch launch_;
  spec::ReadyCheck check_;
  std::vector<targets::ProcessId> started_;
};

TEST_F(TargetsProbes, AStartedTargetBecomesReadyAndPassesEveryKindOfProbe) {
  const auto id = start_ready();
  ASSERT_TRUE(targets::is_alive(id));

  const probes::ProbeResult http = probes::run(health_probe());
  EXPECT_TRUE(http.ok) << http.detail;
  EXPECT_EQ(http.status, 200);

  spec::Probe tcp;
  tcp.kind = spec::TcpProbe{{"127.0.0.1", port_}, std::chrono::seconds(2)};
  const probes::ProbeResult connected = probes::run(tcp);
  EXPECT_TRUE(connected.ok) << connected.detail;

  spec::Probe command;
  command.kind = spec::CommandProbe{{"kill", "-0", std::to_string(id.pid)}, std::chrono::seconds(5)};
  const probes::ProbeResult exists = probes::run(command);
  EXPECT_TRUE(exists.ok) << exists.detail;
}

TEST_F(TargetsProbes, APausedTargetTimesProbesOutUntilItIsResumed) {
  const auto id = start_ready();
  ASSERT_TRUE(targets::send_signal(id, SIGSTOP).ok());
  ASSERT_TRUE(wait_until([&] { return targets::process_state(id.pid) == 'T'; }));

  const probes::ProbeResult paused = probes::run(health_probe(std::chrono::milliseconds(300)));
  EXPECT_FALSE(paused.ok);
  EXPECT_NE(paused.detail.find("timed out after 300ms"), std::string::npos) << paused.detail;

  ASSERT_TRUE(targets::send_signal(id, SIGCONT).ok());
  EXPECT_TRUE(wait_until([&] { return probes::run(health_probe()).ok; }));
}

TEST_F(TargetsProbes, AStoppedTargetIsGoneAndRefusesProbes) {
  const auto id = start_ready();
  auto stopped = targets::stop(id);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(targets::is_alive(id));
  const probes::ProbeResult refused = probes::run(health_probe());
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.detail.find("refused"), std::string::npos) << refused.detail;
}

TEST_F(TargetsProbes, APausedTargetIsStoppedToo) {
  const auto id = start_ready();
  ASSERT_TRUE(targets::send_signal(id, SIGSTOP).ok());
  ASSERT_TRUE(wait_until([&] { return targets::process_state(id.pid) == 'T'; }));
  auto stopped = targets::stop(id);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(targets::is_alive(id));
}

TEST_F(TargetsProbes, ATargetFromAnEarlierRunIsFoundByPidfileAndStopped) {
  // A shell starts the server in the background and exits: the server is not our child, as after a
  // restart of the runner.
  spec::ProcessLaunch shell;
  shell.command = {"sh", "-c", "\"$0\" &", self_path()};
  shell.env = launch_.env;
  auto sh = targets::spawn(shell, log());
  ASSERT_TRUE(sh.ok()) << sh.error();
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(dir_.file("target.pid")); }));

  spec::ProcessAttach attach;
  attach.pidfile = dir_.file("target.pid");
  auto id = targets::resolve(attach);
  ASSERT_TRUE(id.ok()) << id.error();
  started_.push_back(*id);
  HaltSwitch halt;
  auto ready = targets::wait_ready(check_, *id, log(), halt);
  ASSERT_TRUE(ready.ok()) << ready.error();
  EXPECT_TRUE(probes::run(health_probe()).ok);

  auto stopped = targets::stop(*id);
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_FALSE(targets::is_alive(*id));
  EXPECT_FALSE(probes::run(health_probe()).ok);
}

TEST_F(TargetsProbes, ABareCommandNameIsFoundInTheChaosplusFolder) {
  launch_.command = {std::filesystem::path(self_path()).filename().string()};
  auto id = targets::spawn(launch_, log(), CHAOSPLUS_BIN_DIR);
  ASSERT_TRUE(id.ok()) << id.error();
  started_.push_back(*id);
  HaltSwitch halt;
  auto ready = targets::wait_ready(check_, *id, log(), halt);
  EXPECT_TRUE(ready.ok()) << ready.error();
}

TEST_F(TargetsProbes, ATargetThatCannotListenFailsReadinessWithItsOwnWords) {
  net::HttpServer::Options options;
  options.port = port_;
  net::HttpServer occupant(options, [](const net::Request&) { return net::Response::text(200, "x"); });
  ASSERT_TRUE(occupant.start().ok());
  auto id = targets::spawn(launch_, log());
  ASSERT_TRUE(id.ok()) << id.error();
  started_.push_back(*id);
  check_.http_url.clear();
  check_.tcp = spec::Endpoint{"127.0.0.1", free_port()};  // a check the occupant cannot satisfy
  HaltSwitch halt;
  auto ready = targets::wait_ready(check_, *id, log(), halt);
  ASSERT_FALSE(ready.ok());
  EXPECT_NE(ready.error().find("exited with code 3"), std::string::npos) << ready.error();
  EXPECT_NE(ready.error().find("target: "), std::string::npos) << ready.error();
}

}  // namespace
}  // namespace chaosplus
