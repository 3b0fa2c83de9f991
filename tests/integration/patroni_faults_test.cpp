// Targets by role and the database faults against the real lab (3 etcd, 3 Patroni + PostgreSQL 15
// on 127.0.0.11-13): the member chosen is the one Patroni names, kill/crash/isolate/switchover do
// what they say to the cluster, and each ends healthy with nothing left (no nft table, no cgroup).
// One lab for the whole program; each failover costs ~15-30 s with the lab's ttl of 12 s.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/halt_switch.h"
#include "db/patroni.h"
#include "faults/database_faults.h"
#include "faults/fault.h"
#include "faults/registry.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "support/kernel.h"
#include "support/pg_lab.h"
#include "support/support.h"
#include "targets/sockets.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;
using chaosplus::testing::PgLab;
using Clock = std::chrono::steady_clock;

spec::Target patroni_target(const std::string& name, const std::string& role, const std::string& process,
                            const std::string& lab_dir) {
  spec::Target t;
  t.name = name;
  spec::PatroniRole p;
  p.apis = PgLab::apis();
  p.role = role;
  p.process = process;
  for (auto e : PgLab::etcd_endpoints()) {
    if (e.starts_with("http://")) e = e.substr(7);
    p.etcd.push_back(e);
  }
  // The test holds the lab lock; the script run by a revert must not wait for it.
  p.restart = {"env", "CHAOSPLUS_LAB_LOCKED=1", "LAB_DIR=" + lab_dir, PgLab::script(), "start-node", "{member}"};
  p.timeout = 3s;
  t.patroni = p;
  return t;
}

spec::Fault fault_spec(const std::string& type, const std::string& target,
                       std::map<std::string, std::string> params = {}) {
  spec::Fault f;
  f.type = type;
  f.target = target;
  // The loader fills in defaults; these tests build faults directly, so they give each parameter.
  for (const auto& p : spec::find_fault_type(type)->params) {
    if (!params.contains(std::string(p.name))) params[std::string(p.name)] = std::string(p.default_value);
  }
  f.params = std::move(params);
  return f;
}

std::string leader_name(PgLab& lab) {
  auto host = lab.leader();
  return host ? PgLab::name_of(*host) : std::string();
}

// Waits until `condition` or `timeout`; true when it held.
bool eventually(const std::function<bool()>& condition, Duration timeout) {
  return testing::wait_until(condition, std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
}

std::vector<std::string> isolate_cgroups() {
  std::vector<std::string> out;
  for (const char* root : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
      if (entry.path().filename().string().starts_with("chaosplus_")) out.push_back(entry.path().string());
    }
  }
  return out;
}

// Whether a process in cgroup `cgroup_dir` (a fresh child moved there) can connect to ip:port within 2 s:
// what a member's processes can reach while an isolate is on. 0 connected, 1 could not, 2 could not
// join the cgroup.
int connects_from_cgroup(const std::string& cgroup_dir, const std::string& ip, int port) {
  // Everything the child needs is made before the fork: after it, only async-signal-safe calls.
  const std::string procs_path = cgroup_dir + "/cgroup.procs";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  const pid_t child = ::fork();
  if (child == 0) {
    char pid_text[16];
    int n = 0;
    for (int p = static_cast<int>(::getpid()); p > 0 && n < 15; p /= 10)
      pid_text[n++] = static_cast<char>('0' + p % 10);
    for (int i = 0; i < n / 2; ++i) std::swap(pid_text[i], pid_text[n - 1 - i]);
    const int procs = ::open(procs_path.c_str(), O_WRONLY);
    if (procs < 0 || ::write(procs, pid_text, static_cast<std::size_t>(n)) != n) ::_exit(2);
    ::close(procs);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    ::_exit(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

class PatroniFaultsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    register_builtin_faults();
    if (!PgLab::missing().empty()) return;
    lab_ = std::make_unique<PgLab>();
    lab_error_ = lab_->up();
  }
  static void TearDownTestSuite() {
    if (lab_) (void)lab_->release();
    lab_.reset();
  }
  void SetUp() override {
    if (auto why = PgLab::missing(); !why.empty()) GTEST_SKIP() << why;
    ASSERT_EQ(lab_error_, "");
    ASSERT_TRUE(lab_->wait_healthy(90s)) << lab_->status();
  }
  // Every test leaves the cluster as it found it: healthy.
  void TearDown() override {
    if (lab_ && lab_error_.empty()) {
      EXPECT_TRUE(lab_->wait_healthy(90s)) << lab_->status();
    }
  }
  static inline std::unique_ptr<PgLab> lab_;
  static inline std::string lab_error_;
};

TEST_F(PatroniFaultsTest, ThePrimaryTargetIsTheLeadersPostmasterAndTheLedgerSaysSo) {
  const std::string leader = leader_name(*lab_);
  ASSERT_FALSE(leader.empty());
  TargetHandle target(patroni_target("primary", "primary", "postgres", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("kill", "primary"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const auto record = nlohmann::json::parse((*fault)->record());
  EXPECT_EQ(record["member"]["name"], leader);
  EXPECT_EQ(record["member"]["role"], "leader");
  const std::string host = record["member"]["host"];
  auto postmaster = targets::listening_process(host, PgLab::pg_port);
  ASSERT_TRUE(postmaster.ok()) << postmaster.error();
  EXPECT_EQ(record["pid"], postmaster->pid);
  EXPECT_EQ(record["attach"]["listen"], host + ":5432");
  EXPECT_EQ((*fault)->summary(),
            "kill primary " + leader + " with SIGKILL (postgres pid " + std::to_string(postmaster->pid) + ")");
}

TEST_F(PatroniFaultsTest, AReplicaTargetIsAStreamingReplicaChosenByNameAndItsPatroniIsFoundByItsApi) {
  const auto replicas = lab_->replicas();
  ASSERT_EQ(replicas.size(), 2u);
  TargetHandle target(patroni_target("replica", "replica", "patroni", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("pause", "replica"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const auto record = nlohmann::json::parse((*fault)->record());
  const std::string first = std::min(PgLab::name_of(replicas[0]), PgLab::name_of(replicas[1]));
  EXPECT_EQ(record["member"]["name"], first);
  EXPECT_EQ(record["member"]["candidates"].size(), 2u);
  const std::string api = record["member"]["api"];
  auto patroni = targets::listening_process(api.substr(0, api.find(':')), PgLab::api_port);
  ASSERT_TRUE(patroni.ok()) << patroni.error();
  EXPECT_EQ(record["pid"], patroni->pid);
}

TEST_F(PatroniFaultsTest, KillOfThePrimarysPostmasterIsUndoneByPatroniOnTheSameMember) {
  TargetHandle target(patroni_target("primary", "primary", "postgres", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("kill", "primary"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const auto record = nlohmann::json::parse((*fault)->record());
  const std::string host = record["member"]["host"];
  const int killed = record["pid"];
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  const auto since = Clock::now();
  ASSERT_TRUE((*fault)->brings_back());
  ASSERT_TRUE(eventually([&] { return (*fault)->back(); }, 60s)) << "Patroni did not start the postmaster again";
  auto s = (*fault)->revert(halt);
  ASSERT_TRUE(s.ok()) << s.error();
  std::printf("[ figure ] postmaster of %s back after %.1f s\n", host.c_str(),
              std::chrono::duration<double>(Clock::now() - since).count());
  auto postmaster = targets::listening_process(host, PgLab::pg_port);
  ASSERT_TRUE(postmaster.ok()) << postmaster.error();
  EXPECT_NE(postmaster->pid, killed);
  EXPECT_EQ(target.process()->pid, postmaster->pid);
}

TEST_F(PatroniFaultsTest, CrashNodeOfThePrimaryElectsAReplicaAndRecoverBringsTheOldNodeBackAsReplica) {
  const std::string old = leader_name(*lab_);
  TargetHandle target(patroni_target("primary", "primary", "postgres", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("crash_node", "primary"), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();
  EXPECT_EQ(nlohmann::json::parse(record)["member"]["name"], old);
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  const auto since = Clock::now();
  std::string fresh;
  ASSERT_TRUE(eventually(
      [&] {
        fresh = leader_name(*lab_);
        return !fresh.empty() && fresh != old;
      },
      90s))
      << lab_->status();
  std::printf("[ figure ] crash_node of leader %s: %s leads after %.1f s\n", old.c_str(), fresh.c_str(),
              std::chrono::duration<double>(Clock::now() - since).count());
  // As recover does after a crash of the runner: from the ledger record alone.
  auto s = undo(kinds::db_crash_node, record);
  ASSERT_TRUE(s.ok()) << s.error();
  ASSERT_TRUE(lab_->wait_healthy(90s)) << lab_->status();
  auto view = db::read_cluster(PgLab::apis(), 3s);
  ASSERT_TRUE(view.ok()) << view.error();
  ASSERT_NE(view->find(old), nullptr);
  EXPECT_NE(view->find(old)->role, db::MemberRole::leader);
}

TEST_F(PatroniFaultsTest, IsolateFromEtcdDemotesThePrimaryAndLeavesNothingBehind) {
  if (auto why = chaosplus::testing::missing_for_kernel_faults(); !why.empty()) GTEST_SKIP() << why;
  chaosplus::testing::KernelTurn turn;
  ASSERT_TRUE(turn.held());
  const std::string before = chaosplus::testing::nft_ruleset();
  const auto cgroups_before = isolate_cgroups();
  const std::string old = leader_name(*lab_);
  TargetHandle target(patroni_target("primary", "primary", "postgres", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("isolate", "primary", {{"from", "etcd"}}), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const auto record = nlohmann::json::parse((*fault)->record());
  const std::string old_api = record["member"]["api"];
  HaltSwitch halt;
  auto injected = (*fault)->inject(halt);
  ASSERT_TRUE(injected.ok()) << injected.error();
  const auto since = Clock::now();
  EXPECT_TRUE(eventually([&] { return !db::answers_primary(old_api, 2s); }, 60s))
      << "the old primary did not step down";
  const double demoted = std::chrono::duration<double>(Clock::now() - since).count();
  std::string fresh;
  EXPECT_TRUE(eventually(
      [&] {
        fresh = leader_name(*lab_);
        return !fresh.empty() && fresh != old;
      },
      60s))
      << lab_->status();
  std::printf("[ figure ] isolate %s from etcd: demoted after %.1f s, %s leads after %.1f s\n", old.c_str(), demoted,
              fresh.c_str(), std::chrono::duration<double>(Clock::now() - since).count());
  auto s = (*fault)->revert(halt);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(chaosplus::testing::nft_ruleset(), before);
  EXPECT_EQ(isolate_cgroups(), cgroups_before);
}

TEST_F(PatroniFaultsTest, IsolateFromPeersCutsAReplicaAndTheOthersOffFromEachOtherButNotFromClients) {
  if (auto why = chaosplus::testing::missing_for_kernel_faults(); !why.empty()) GTEST_SKIP() << why;
  chaosplus::testing::KernelTurn turn;
  ASSERT_TRUE(turn.held());
  const std::string before = chaosplus::testing::nft_ruleset();
  const auto cgroups_before = isolate_cgroups();
  const std::string leader_host = *lab_->leader();
  TargetHandle target(patroni_target("replica", "replica", "postgres", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("isolate", "replica", {{"from", "peers"}}), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const auto record = nlohmann::json::parse((*fault)->record());
  const std::string replica_host = record["member"]["host"];
  const std::string root = record["cgroup_root"];
  const std::string member_cgroup = root + "/" + record["cgroups"][0].get<std::string>();
  const std::string peers_cgroup = root + "/" + record["cgroups"][1].get<std::string>();
  HaltSwitch halt;
  auto injected = (*fault)->inject(halt);
  ASSERT_TRUE(injected.ok()) << injected.error();
  EXPECT_EQ(connects_from_cgroup(member_cgroup, leader_host, PgLab::pg_port), 1) << "the replica reaches the leader";
  EXPECT_EQ(connects_from_cgroup(peers_cgroup, replica_host, PgLab::api_port), 1) << "a peer reaches the replica";
  // The same from a cgroup the fault does not cut: the leader is reachable.
  EXPECT_EQ(connects_from_cgroup(root, leader_host, PgLab::pg_port), 0);
  // A client (not a member's process) still reaches the isolated member.
  EXPECT_EQ(PgLab::run_sql(replica_host, "select 1").exit_code, 0);
  auto s = (*fault)->revert(halt);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(chaosplus::testing::nft_ruleset(), before);
  EXPECT_EQ(isolate_cgroups(), cgroups_before);
}

TEST_F(PatroniFaultsTest, SwitchoverToAReplicaMakesItTheLeaderAndSwitchesBackOnRevert) {
  const std::string old = leader_name(*lab_);
  TargetHandle target(patroni_target("replica", "replica", "postgres", lab_->lab_dir()), "/dev/null");
  auto fault = make_fault(fault_spec("switchover", "replica", {{"switch_back", "true"}}), target);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const auto record = nlohmann::json::parse((*fault)->record());
  const std::string candidate = record["candidate"];
  EXPECT_EQ(record["leader"], old);
  HaltSwitch halt;
  const auto since = Clock::now();
  auto injected = (*fault)->inject(halt);
  ASSERT_TRUE(injected.ok()) << injected.error();
  std::printf("[ figure ] switchover %s -> %s took %.1f s\n", old.c_str(), candidate.c_str(),
              std::chrono::duration<double>(Clock::now() - since).count());
  EXPECT_EQ(leader_name(*lab_), candidate);
  auto s = (*fault)->revert(halt);
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(leader_name(*lab_), old);
}

// The runner killed with SIGKILL while a primary is cut off from etcd: `chaosplus recover` takes the
// fault off from the ledger alone (table deleted, processes moved back, cgroups removed) and waits
// until the cluster is healthy again.
TEST_F(PatroniFaultsTest, RecoverAfterTheRunnerIsKilledMidIsolateLeavesAHealthyClusterAndNothingBehind) {
  if (auto why = chaosplus::testing::missing_for_kernel_faults(); !why.empty()) GTEST_SKIP() << why;
  chaosplus::testing::KernelTurn turn;
  ASSERT_TRUE(turn.held());
  const std::string before = chaosplus::testing::nft_ruleset();
  const auto cgroups_before = isolate_cgroups();
  chaosplus::testing::TempDir dir;
  std::string apis;
  for (const auto& a : PgLab::apis()) apis += (apis.empty() ? "\"" : ", \"") + a + "\"";
  std::string etcd;
  for (auto e : PgLab::etcd_endpoints()) {
    if (e.starts_with("http://")) e = e.substr(7);
    etcd += (etcd.empty() ? "\"" : ", \"") + e + "\"";
  }
  chaosplus::testing::write_file(dir.file("e.yaml"),
                                 "name: isolate-crash\ntargets:\n  primary:\n    patroni:\n"
                                 "      apis: [" +
                                     apis + "]\n      etcd: [" + etcd +
                                     "]\n"
                                     "phases:\n  - name: cut\n    duration: 2m\n    faults:\n"
                                     "      - isolate: { target: primary, from: etcd }\n");
  const std::string journal = dir.file("journal.jsonl");
  chaosplus::testing::Child run({chaosplus::testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain",
                                 "--state-dir", dir.file("state"), "--journal", journal});
  ASSERT_TRUE(eventually(
      [&] { return chaosplus::testing::read_file(journal).find("\"fault.injected\"") != std::string::npos; }, 60s))
      << run.output();
  run.signal(SIGKILL);
  ASSERT_TRUE(run.wait(30s).has_value());
  EXPECT_NE(chaosplus::testing::nft_ruleset(), before) << "the fault was not on when the runner died";
  chaosplus::testing::Child recover(
      {chaosplus::testing::bin("chaosplus"), "recover", "--state-dir", dir.file("state")});
  EXPECT_EQ(recover.wait(180s).value_or(-1), 0) << recover.output();
  EXPECT_EQ(chaosplus::testing::nft_ruleset(), before);
  EXPECT_EQ(isolate_cgroups(), cgroups_before);
  EXPECT_TRUE(lab_->healthy()) << lab_->status();
}

}  // namespace
}  // namespace chaosplus::faults
