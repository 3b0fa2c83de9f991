// Choosing a member of a Patroni cluster by role, and finding who listens where, without a cluster:
// the views are what db::parse_cluster reads from Patroni 3.0's GET /cluster.
#include "targets/patroni_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "targets/sockets.h"

namespace chaosplus::targets {
namespace {

db::Member member(std::string name, db::MemberRole role, std::string state, std::string host) {
  db::Member m;
  m.name = std::move(name);
  m.role = role;
  m.state = std::move(state);
  m.host = host;
  m.port = 5432;
  m.api_url = "http://" + host + ":8008/patroni";
  return m;
}

db::ClusterView three_nodes() {
  db::ClusterView view;
  view.answered_by = "127.0.0.11:8008";
  view.members = {member("node3", db::MemberRole::replica, "running", "127.0.0.13"),
                  member("node1", db::MemberRole::leader, "running", "127.0.0.11"),
                  member("node2", db::MemberRole::sync_standby, "streaming", "127.0.0.12")};
  return view;
}

TEST(PickMember, PrimaryIsTheRunningLeader) {
  auto chosen = pick_member(three_nodes(), "primary");
  ASSERT_TRUE(chosen.ok()) << chosen.error();
  EXPECT_EQ(chosen->name, "node1");
  EXPECT_EQ(chosen->role, "leader");
  EXPECT_EQ(chosen->host, "127.0.0.11");
  EXPECT_EQ(chosen->port, 5432);
  EXPECT_EQ(chosen->api, "127.0.0.11:8008");
  EXPECT_EQ(chosen->asked, "primary");
  EXPECT_EQ(chosen->answered_by, "127.0.0.11:8008");
}

TEST(PickMember, ReplicaIsTheFirstRunningReplicaByNameAndTheOthersAreRecorded) {
  auto chosen = pick_member(three_nodes(), "replica");
  ASSERT_TRUE(chosen.ok()) << chosen.error();
  EXPECT_EQ(chosen->name, "node2");
  EXPECT_EQ(chosen->candidates, (std::vector<std::string>{"node2", "node3"}));
}

TEST(PickMember, SyncReplicaIsTheSyncStandby) {
  auto chosen = pick_member(three_nodes(), "sync_replica");
  ASSERT_TRUE(chosen.ok()) << chosen.error();
  EXPECT_EQ(chosen->name, "node2");
  EXPECT_EQ(chosen->role, "sync_standby");
}

TEST(PickMember, AStoppedReplicaIsNotChosen) {
  auto view = three_nodes();
  view.members[2].state = "stopped";  // node2
  auto chosen = pick_member(view, "replica");
  ASSERT_TRUE(chosen.ok()) << chosen.error();
  EXPECT_EQ(chosen->name, "node3");
}

TEST(PickMember, NoLeaderDuringAnElectionIsAnErrorThatListsTheMembers) {
  auto view = three_nodes();
  view.members[1].role = db::MemberRole::replica;
  auto chosen = pick_member(view, "primary");
  ASSERT_FALSE(chosen.ok());
  EXPECT_NE(chosen.error().find("no member of the Patroni cluster (asked 127.0.0.11:8008) is a running primary"),
            std::string::npos)
      << chosen.error();
  EXPECT_NE(chosen.error().find("node1 replica running"), std::string::npos) << chosen.error();
}

TEST(ClusterHealthy, OneLeaderAndEveryOtherRunning) {
  EXPECT_TRUE(cluster_healthy(three_nodes(), 3).ok());
  auto stopped = three_nodes();
  stopped.members[0].state = "stopped";
  EXPECT_EQ(cluster_healthy(stopped, 3).error(), "node3 is stopped");
  auto missing = three_nodes();
  missing.members.pop_back();
  EXPECT_EQ(cluster_healthy(missing, 3).error(), "2 of 3 members are known");
  auto leaderless = three_nodes();
  leaderless.members[1].role = db::MemberRole::replica;
  EXPECT_EQ(cluster_healthy(leaderless, 3).error(), "no leader");
}

TEST(RestartFor, ReplacesEveryMemberPlaceholder) {
  EXPECT_EQ(restart_for({"lab.sh", "start-node", "{member}", "--log=/tmp/{member}.log"}, "node2"),
            (std::vector<std::string>{"lab.sh", "start-node", "node2", "--log=/tmp/node2.log"}));
}

TEST(ApiAddress, IsTheHostAndPortOfTheUrl) {
  EXPECT_EQ(api_address("http://127.0.0.12:8008/patroni"), "127.0.0.12:8008");
  EXPECT_EQ(api_address("127.0.0.12:8008"), "127.0.0.12:8008");
}

TEST(ProcNetTcp, ReadsAddressesPortsStateAndInode) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 0B00007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 41234 1 0 100 0 0 10 "
      "0\n"
      "   1: 0100007F:9C40 1500007F:094F 01 00000000:00000000 00:00000000 00000000   108        0 41240 1 0 20 4 30 10 "
      "-1\n";
  auto sockets = parse_proc_net_tcp(text, false);
  ASSERT_EQ(sockets.size(), 2u);
  EXPECT_EQ(sockets[0].local_ip, "127.0.0.11");
  EXPECT_EQ(sockets[0].local_port, 5432);
  EXPECT_TRUE(sockets[0].listening);
  EXPECT_EQ(sockets[0].inode, 41234u);
  EXPECT_EQ(sockets[1].remote_ip, "127.0.0.21");
  EXPECT_EQ(sockets[1].remote_port, 2383);
  EXPECT_FALSE(sockets[1].listening);
}

TEST(ListeningProcess, FindsThisProcessListeningOnALoopbackAddress) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.77", &address.sin_addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const int port = ntohs(address.sin_port);
  auto found = listening_process("127.0.0.77", port);
  ASSERT_TRUE(found.ok()) << found.error();
  EXPECT_EQ(found->pid, ::getpid());
  ::close(fd);
  auto gone = listening_process("127.0.0.77", port);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error(), "no process listens on 127.0.0.77:" + std::to_string(port));
}

}  // namespace
}  // namespace chaosplus::targets
