// The PostgreSQL HA lab (scripts/services/pg-ha-lab.sh) for real: 3 etcd members and 3 Patroni +
// PostgreSQL 15 nodes on loopback. ctest runs each test as its own process and the lab takes ~20 s to
// come up and as long to go down, so each test walks one whole life of the lab, step by step.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "faults/system_tool.h"
#include "support/kernel.h"
#include "support/pg_lab.h"
#include "support/support.h"

namespace chaosplus::testing {
namespace {

using namespace std::chrono_literals;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// First line of a pid file (postmaster.pid, patroni.pid) as a pid; 0 when absent.
pid_t pid_in(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

// Processes whose command line names the lab directory or that run inside it: what `down` must leave
// none of (the script's own matching, checked independently).
std::vector<std::string> lab_processes(const std::string& lab_dir) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (auto& c : cmdline) c = c == '\0' ? ' ' : c;
    std::error_code ec;
    const auto cwd = std::filesystem::read_symlink(entry.path() / "cwd", ec).string();
    if (cmdline.find(lab_dir + "/") != std::string::npos || cwd == lab_dir || cwd.starts_with(lab_dir + "/")) {
      found.push_back(name + ": " + cmdline);
    }
  }
  return found;
}

// Listening TCP sockets on the lab's addresses (from /proc/net/tcp: local address in hex, state 0A).
std::vector<std::string> lab_listeners() {
  // 127.0.0.x in /proc/net/tcp's little-endian hex is "x00007F" written as 2 hex digits + "00007F".
  const std::vector<std::pair<int, std::vector<int>>> lab{{11, {5432, 8008}}, {12, {5432, 8008}}, {13, {5432, 8008}},
                                                          {21, {2379, 2380}}, {22, {2379, 2380}}, {23, {2379, 2380}}};
  std::vector<std::string> found;
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    fields >> slot >> local >> remote >> state;
    if (state != "0A") continue;
    const auto colon = local.find(':');
    const unsigned long addr = std::stoul(local.substr(0, colon), nullptr, 16);
    const int port = static_cast<int>(std::stoul(local.substr(colon + 1), nullptr, 16));
    const int first = static_cast<int>(addr & 0xff);
    const int last = static_cast<int>((addr >> 24) & 0xff);
    if (first != 127) continue;
    for (const auto& [octet, ports] : lab) {
      if (last != octet) continue;
      for (int p : ports) {
        if (p == port) found.push_back("127.0.0." + std::to_string(octet) + ":" + std::to_string(port));
      }
    }
  }
  return found;
}

class PgLabTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = PgLab::missing(); !why.empty()) GTEST_SKIP() << why;
    lab_ = std::make_unique<PgLab>(sync());
    ASSERT_TRUE(lab_->locked()) << "the lab lock /tmp/chaosplus-pg-lab.lock stayed taken for 15 minutes";
    const auto started = std::chrono::steady_clock::now();
    ASSERT_EQ(lab_->up(), "");
    std::cout << "lab up in " << seconds_since(started) << " s\n";
  }
  void TearDown() override {
    if (lab_) {
      EXPECT_EQ(lab_->down(), "");
    }
  }
  virtual bool sync() const { return false; }
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  std::unique_ptr<PgLab> lab_;
};

TEST_F(PgLabTest, ComesUpWithOneLeaderAndTwoStreamingReplicasServesWritesAndGoesDownWithoutATrace) {
  // One leader, two replicas, both streaming from it.
  const auto leader = lab_->leader();
  ASSERT_TRUE(leader.has_value()) << lab_->status();
  EXPECT_EQ(lab_->replicas().size(), 2u) << lab_->status();
  auto streaming = PgLab::run_sql(*leader, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'");
  ASSERT_EQ(streaming.exit_code, 0) << streaming.output;
  EXPECT_EQ(trim(streaming.output), "2");

  // Each replica streams from its own address (the lab's source-address preload), so a network fault
  // between two lab addresses matches the node's real traffic.
  auto replicas = lab_->replicas();
  std::sort(replicas.begin(), replicas.end());
  auto sources = PgLab::run_sql(*leader,
                                "SELECT string_agg(host(client_addr), ',' ORDER BY client_addr) "
                                "FROM pg_stat_replication");
  EXPECT_EQ(trim(sources.output), replicas.size() == 2 ? replicas[0] + "," + replicas[1] : "") << sources.output;

  // The multi-host DSN with target_session_attrs=read-write lands on the leader, whatever the order.
  auto via_dsn = PgLab::run_sql_dsn(PgLab::dsn(), "SELECT host(inet_server_addr()) || ' ' || pg_is_in_recovery()");
  ASSERT_EQ(via_dsn.exit_code, 0) << via_dsn.output;
  EXPECT_EQ(trim(via_dsn.output), *leader + " false");

  // A write on the leader is read on every replica.
  auto write = PgLab::run_sql(*leader,
                              "CREATE TABLE IF NOT EXISTS lab_probe(id text PRIMARY KEY);"
                              "INSERT INTO lab_probe VALUES ('written-on-the-leader')");
  ASSERT_EQ(write.exit_code, 0) << write.output;
  for (const auto& replica : lab_->replicas()) {
    std::string seen;
    EXPECT_TRUE(wait_until(
        [&] {
          seen = PgLab::run_sql(replica, "SELECT id FROM lab_probe", "chaos", 5s).output;
          return trim(seen) == "written-on-the-leader";
        },
        30s))
        << replica << " answered: " << seen;
  }

  // Data checksums on every member (initdb --data-checksums; replicas are copies of the leader).
  for (const auto& host : PgLab::hosts()) {
    auto checksums = PgLab::run_sql(host, "SHOW data_checksums");
    EXPECT_EQ(trim(checksums.output), "on") << host;
  }

  // `up` again is a no-op: the same postmasters keep running.
  std::map<std::string, pid_t> postmasters;
  for (const auto& m : PgLab::members()) {
    postmasters[m.name] = pid_in(lab_->lab_dir() + "/" + m.name + "/data/postmaster.pid");
    ASSERT_GT(postmasters[m.name], 0) << m.name;
  }
  auto again = lab_->script_run({"up"});
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("nothing to do"), std::string::npos) << again.output;
  for (const auto& m : PgLab::members()) {
    EXPECT_EQ(pid_in(lab_->lab_dir() + "/" + m.name + "/data/postmaster.pid"), postmasters[m.name]) << m.name;
  }

  // `down` leaves no process, no listening port and no data directory; a second `down` is fine too.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(lab_->down(), "");
  std::cout << "lab down in " << seconds_since(started) << " s\n";
  EXPECT_EQ(lab_processes(lab_->lab_dir()), std::vector<std::string>{});
  EXPECT_EQ(lab_listeners(), std::vector<std::string>{});
  EXPECT_FALSE(std::filesystem::exists(lab_->lab_dir()));
  for (pid_t pid : {postmasters["node1"], postmasters["node2"], postmasters["node3"]}) EXPECT_TRUE(pid_gone(pid));
  EXPECT_EQ(lab_->down(), "");
}

TEST_F(PgLabTest, ALeaderCrashPromotesAReplicaAndTheOldLeaderRejoinsAsAReplica) {
  const auto old_leader = lab_->leader();
  ASSERT_TRUE(old_leader.has_value()) << lab_->status();
  const auto name = PgLab::name_of(*old_leader);
  auto write = PgLab::run_sql(*old_leader,
                              "CREATE TABLE lab_crash(id int PRIMARY KEY);"
                              "INSERT INTO lab_crash SELECT generate_series(1, 1000)");
  ASSERT_EQ(write.exit_code, 0) << write.output;
  // Asynchronous replication: wait until both replicas have the rows, so the crash loses nothing the
  // test later looks for.
  for (const auto& replica : lab_->replicas()) {
    ASSERT_TRUE(wait_until(
        [&] { return trim(PgLab::run_sql(replica, "SELECT count(*) FROM lab_crash", "chaos", 5s).output) == "1000"; },
        30s))
        << replica;
  }

  // A node crash: SIGKILL its Patroni and its postmaster at once (no chance to release the leader key).
  const pid_t patroni = pid_in(lab_->lab_dir() + "/" + name + "/patroni.pid");
  const pid_t postmaster = pid_in(lab_->lab_dir() + "/" + name + "/data/postmaster.pid");
  ASSERT_GT(patroni, 0);
  ASSERT_GT(postmaster, 0);
  const auto crashed = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(patroni, SIGKILL), 0);
  ASSERT_EQ(::kill(postmaster, SIGKILL), 0);

  // Another member becomes leader and answers /primary. Generous deadline: the figure is printed, not
  // asserted (ttl 10 s gives about 10-12 s here).
  std::string new_leader;
  ASSERT_TRUE(wait_until(
      [&] {
        auto l = lab_->leader();
        if (!l || *l == *old_leader) return false;
        if (http_request("GET", *l, PgLab::api_port, "/primary", {}, 1s).status != 200) return false;
        new_leader = *l;
        return true;
      },
      90s))
      << lab_->status();
  std::cout << "failover after a node crash: " << seconds_since(crashed) << " s (" << name << " -> "
            << PgLab::name_of(new_leader) << ")\n";
  // Patroni answers /primary as soon as it has asked PostgreSQL to promote; the session turns
  // read-write a moment later. The first write through the multi-host DSN is what a client sees.
  PgLab::SqlResult new_write;
  EXPECT_TRUE(wait_until(
      [&] {
        new_write = PgLab::run_sql_dsn(PgLab::dsn(), "INSERT INTO lab_crash VALUES (1001)", 5s);
        return new_write.exit_code == 0;
      },
      30s))
      << new_write.output;
  std::cout << "first write through the multi-host DSN: " << seconds_since(crashed) << " s after the crash\n";
  auto on_new = PgLab::run_sql_dsn(PgLab::dsn(), "SELECT count(*) FROM lab_crash");
  EXPECT_EQ(trim(on_new.output), "1001") << "no acknowledged row may be lost here: both replicas had them";

  // start-node brings the crashed node back; Patroni rewinds it (or re-clones it) into a replica of
  // the new leader, and it sees the write made after the failover.
  auto started = lab_->script_run({"start-node", name});
  ASSERT_EQ(started.exit_code, 0) << started.output;
  const auto rejoin_started = std::chrono::steady_clock::now();
  ASSERT_TRUE(lab_->wait_healthy(180s)) << lab_->status();
  const std::string patroni_log = read_file(lab_->lab_dir() + "/" + name + "/patroni.log");
  std::cout << "old leader back as a replica after " << seconds_since(rejoin_started) << " s ("
            << (patroni_log.find("running pg_rewind") != std::string::npos         ? "pg_rewind"
                : patroni_log.find("Removing data directory") != std::string::npos ? "re-cloned"
                                                                                   : "no rewind needed")
            << ")\n";
  EXPECT_EQ(lab_->leader(), new_leader);
  const auto replicas = lab_->replicas();
  EXPECT_NE(std::find(replicas.begin(), replicas.end(), *old_leader), replicas.end()) << lab_->status();
  EXPECT_TRUE(wait_until(
      [&] { return trim(PgLab::run_sql(*old_leader, "SELECT count(*) FROM lab_crash", "chaos", 5s).output) == "1001"; },
      30s));
}

// An nftables table that drops what `from` sends to the etcd members, deleted when it goes out of scope.
class EtcdCut {
 public:
  explicit EtcdCut(const std::string& from) : table_("pglab_test_cut_" + std::to_string(::getpid())) {
    const std::string script = "table inet " + table_ + " {\n  chain output {\n" +
                               "    type filter hook output priority 0; policy accept;\n" + "    ip saddr " + from +
                               " ip daddr { 127.0.0.21, 127.0.0.22, 127.0.0.23 } drop\n  }\n}\n";
    auto added = faults::run_tool_checked({"nft", "-f", "-"}, script);
    error_ = added ? "" : added.error();
  }
  ~EtcdCut() {
    if (error_.empty()) (void)faults::run_tool_checked({"nft", "delete", "table", "inet", table_});
  }
  EtcdCut(const EtcdCut&) = delete;
  EtcdCut& operator=(const EtcdCut&) = delete;
  const std::string& error() const { return error_; }

 private:
  std::string table_;
  std::string error_;
};

// The lab's settings against split brain: a leader cut off from etcd must stop taking writes before
// its lease runs out and a replica is promoted. The cut matches the leader's own address, so this also
// fails when the nodes' connections leave from 127.0.0.1 (without the lab's source-address preload).
TEST_F(PgLabTest, ALeaderCutOffFromEtcdStopsTakingWritesBeforeAReplicaIsPromoted) {
  if (auto why = missing_for_kernel_faults(); !why.empty()) GTEST_SKIP() << "needs" << why;
  KernelTurn turn;  // others compare the host's rule set: the cut is added and removed in our turn
  ASSERT_TRUE(turn.held());
  const auto old_leader = lab_->leader();
  ASSERT_TRUE(old_leader.has_value()) << lab_->status();

  std::optional<double> stopped_writing;
  std::optional<double> new_leader_at;
  std::string new_leader;
  {
    EtcdCut cut(*old_leader);
    ASSERT_EQ(cut.error(), "");
    const auto cut_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(wait_until(
        [&] {
          if (!stopped_writing) {
            auto r = PgLab::run_sql(*old_leader, "SELECT pg_is_in_recovery()", "postgres", 2s);
            if (r.exit_code != 0 || trim(r.output) != "f") stopped_writing = seconds_since(cut_at);
          }
          if (!new_leader_at) {
            for (const auto& host : PgLab::hosts()) {
              if (host == *old_leader) continue;
              if (http_request("GET", host, PgLab::api_port, "/primary", {}, 500ms).status == 200) {
                new_leader_at = seconds_since(cut_at);
                new_leader = host;
              }
            }
          }
          return stopped_writing && new_leader_at;
        },
        90s))
        << lab_->status();
  }
  std::cout << "leader cut off from etcd: stopped taking writes after " << *stopped_writing << " s, "
            << PgLab::name_of(new_leader) << " promoted after " << *new_leader_at << " s\n";
  EXPECT_LT(*stopped_writing, *new_leader_at) << "two primaries at once: split brain";
  // The cut healed, the old leader follows the new one.
  EXPECT_TRUE(lab_->wait_healthy(180s)) << lab_->status();
  EXPECT_EQ(lab_->leader(), new_leader);
}

class PgLabSyncTest : public PgLabTest {
 protected:
  bool sync() const override { return true; }
};

TEST_F(PgLabSyncTest, SynchronousModeMakesOneReplicaTheSynchronousStandby) {
  const auto leader = lab_->leader();
  ASSERT_TRUE(leader.has_value()) << lab_->status();
  auto states =
      PgLab::run_sql(*leader, "SELECT string_agg(sync_state, ',' ORDER BY sync_state) FROM pg_stat_replication");
  EXPECT_EQ(trim(states.output), "async,sync") << lab_->status();
  auto names = PgLab::run_sql(*leader, "SHOW synchronous_standby_names");
  EXPECT_NE(trim(names.output), "") << names.output;
  auto config = http_request("GET", *leader, PgLab::api_port, "/config");
  EXPECT_NE(config.body.find("\"synchronous_mode\": true"), std::string::npos) << config.body;
}

}  // namespace
}  // namespace chaosplus::testing
