// The etcd client (src/etcd/client.h) against real etcd members (Debian etcd-server 3.4) on loopback:
// key/value, transactions, leases, watches, failover while members are killed or paused, and
// mutual TLS.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "etcd/client.h"
#include "support/etcd_cluster.h"
#include "support/support.h"

namespace chaosplus::etcd {
namespace {

using namespace std::chrono_literals;
using testing::EtcdCluster;
using testing::wait_until;

std::unique_ptr<Client> connect_to(const EtcdCluster& cluster, Duration timeout = 1500ms) {
  Options options;
  options.endpoints = cluster.endpoints();
  options.request_timeout = timeout;
  auto client = Client::connect(options);
  EXPECT_TRUE(client.ok()) << client.error();
  return client.ok() ? std::move(*client) : nullptr;
}

// Everything a watch delivered, in order, and every break it reported.
class Recorder {
 public:
  Client::OnEvents on_events() {
    return [this](const std::vector<WatchEvent>& batch) {
      std::lock_guard lock(mutex_);
      events_.insert(events_.end(), batch.begin(), batch.end());
    };
  }
  Client::OnError on_error() {
    return [this](const std::string& why) {
      std::lock_guard lock(mutex_);
      errors_.push_back(why);
    };
  }
  std::vector<WatchEvent> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::vector<std::string> errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return events_.size();
  }
  std::string errors_text() const {
    std::string out;
    for (const auto& e : errors()) out += e + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<WatchEvent> events_;
  std::vector<std::string> errors_;
};

class EtcdOne : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cluster.ok()) << cluster.error();
    client = connect_to(cluster);
    ASSERT_TRUE(client);
  }
  EtcdCluster cluster{1};
  std::unique_ptr<Client> client;
};

TEST_F(EtcdOne, PutGetAndPrefixWithTheRevisionTheyReflect) {
  auto r1 = client->put("/t/a", "1");
  ASSERT_TRUE(r1.ok()) << r1.error();
  auto r2 = client->put("/t/b", std::string("bytes\0\xff", 7));
  ASSERT_TRUE(r2.ok()) << r2.error();
  EXPECT_GT(*r2, *r1);
  ASSERT_TRUE(client->put("/u/c", "outside").ok());

  auto a = client->get("/t/a");
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->value, "1");
  EXPECT_EQ((*a)->create_revision, *r1);
  EXPECT_EQ((*a)->mod_revision, *r1);
  EXPECT_EQ((*a)->version, 1);
  auto missing = client->get("/t/none");
  ASSERT_TRUE(missing.ok()) << missing.error();
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(client->put("/t/a", "2").ok());
  std::int64_t revision = 0;
  auto all = client->get_prefix("/t/", &revision);
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].key, "/t/a");
  EXPECT_EQ((*all)[0].value, "2");
  EXPECT_EQ((*all)[0].version, 2);
  EXPECT_EQ((*all)[1].key, "/t/b");
  EXPECT_EQ((*all)[1].value, std::string("bytes\0\xff", 7));
  EXPECT_EQ(revision, (*all)[0].mod_revision);  // the last write
}

TEST_F(EtcdOne, PutIfAbsentWritesOnlyTheFirstTime) {
  auto first = client->put_if_absent("/t/once", "first");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(*first);
  auto second = client->put_if_absent("/t/once", "second");
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(*second);
  EXPECT_EQ((*client->get("/t/once"))->value, "first");
  ASSERT_TRUE(client->erase("/t/once").ok());
  auto again = client->put_if_absent("/t/once", "third");
  ASSERT_TRUE(again.ok()) << again.error();
  EXPECT_TRUE(*again);
}

TEST_F(EtcdOne, EraseOneKeyOrAPrefix) {
  for (const char* key : {"/p/1", "/p/2", "/p/3/x", "/q/1"}) ASSERT_TRUE(client->put(key, "v").ok());
  ASSERT_TRUE(client->erase("/p/1").ok());
  EXPECT_FALSE(client->get("/p/1")->has_value());
  ASSERT_TRUE(client->erase("/p/none").ok());  // nothing to erase is not an error
  ASSERT_TRUE(client->erase_prefix("/p/").ok());
  EXPECT_TRUE(client->get_prefix("/p/")->empty());
  EXPECT_EQ(client->get_prefix("/q/")->size(), 1u);
}

TEST_F(EtcdOne, LeaseGrantKeepAliveRemainingAndRevoke) {
  auto lease = client->grant_lease(10s);
  ASSERT_TRUE(lease.ok()) << lease.error();
  ASSERT_TRUE(client->put("/l/key", "held", *lease).ok());
  EXPECT_EQ((*client->get("/l/key"))->lease, *lease);
  auto renewed = client->keep_alive(*lease);
  ASSERT_TRUE(renewed.ok()) << renewed.error();
  EXPECT_EQ(*renewed, std::chrono::seconds(10));
  auto remaining = client->lease_remaining(*lease);
  ASSERT_TRUE(remaining.ok()) << remaining.error();
  ASSERT_TRUE(remaining->has_value());
  EXPECT_GT(**remaining, 0s);
  EXPECT_LE(**remaining, 10s);

  ASSERT_TRUE(client->revoke_lease(*lease).ok());
  EXPECT_FALSE(client->get("/l/key")->has_value());  // revoking deletes the keys it held
  auto gone = client->lease_remaining(*lease);
  ASSERT_TRUE(gone.ok()) << gone.error();
  EXPECT_FALSE(gone->has_value());
  auto dead = client->keep_alive(*lease);
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.code(), ErrorCode::not_found) << dead.error();
  auto again = client->revoke_lease(*lease);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), ErrorCode::not_found) << again.error();
}

TEST_F(EtcdOne, AKeyGoesWhenItsLeaseExpiresAndTheWatchSeesItGo) {
  Recorder seen;
  auto watch = client->watch_prefix("/exp/", 0, seen.on_events(), seen.on_error());
  ASSERT_TRUE(wait_until([&] { return watch->streaming(); }, 10s)) << seen.errors_text();
  auto lease = client->grant_lease(1s);
  ASSERT_TRUE(lease.ok()) << lease.error();
  ASSERT_TRUE(client->put("/exp/k", "v", *lease).ok());
  // etcd expires leases on its own clock (a 1s lease lives at most a few seconds).
  ASSERT_TRUE(wait_until([&] { return !client->get("/exp/k")->has_value(); }, 15s));
  ASSERT_TRUE(wait_until([&] { return seen.count() >= 2; }, 10s)) << seen.errors_text();
  auto events = seen.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::put);
  EXPECT_EQ(events[1].type, WatchEvent::Type::erase);
  EXPECT_EQ(events[1].kv.key, "/exp/k");
  auto remaining = client->lease_remaining(*lease);
  ASSERT_TRUE(remaining.ok());
  EXPECT_FALSE(remaining->has_value());
}

TEST_F(EtcdOne, WatchSeesPutsAndDeletesInOrderFromAGivenRevision) {
  auto before = client->put("/w/0", "before");
  ASSERT_TRUE(before.ok());
  Recorder seen;
  // From the revision of the write before: it is the first event seen.
  auto watch = client->watch_prefix("/w/", *before, seen.on_events(), seen.on_error());
  ASSERT_TRUE(client->put("/w/1", "a").ok());
  ASSERT_TRUE(client->put("/other", "not watched").ok());
  ASSERT_TRUE(client->erase("/w/1").ok());
  ASSERT_TRUE(client->put("/w/2", "b").ok());
  ASSERT_TRUE(wait_until([&] { return seen.count() >= 4; }, 10s)) << seen.errors_text();
  auto events = seen.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kv.key, "/w/0");
  EXPECT_EQ(events[0].kv.value, "before");
  EXPECT_EQ(events[1].kv.key, "/w/1");
  EXPECT_EQ(events[2].type, WatchEvent::Type::erase);
  EXPECT_EQ(events[2].kv.key, "/w/1");
  EXPECT_EQ(events[3].kv.value, "b");
  for (std::size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
  EXPECT_TRUE(seen.errors().empty()) << seen.errors_text();
}

TEST_F(EtcdOne, WatchStopsPromptlyWhenDestroyed) {
  Recorder seen;
  auto watch = client->watch_prefix("/s/", 0, seen.on_events(), seen.on_error());
  ASSERT_TRUE(wait_until([&] { return watch->streaming(); }, 10s)) << seen.errors_text();
  const auto start = std::chrono::steady_clock::now();
  watch.reset();
  // Not a timing bar: a watch waiting on curl's one-second progress tick would still pass; it tells
  // the stop apart from a stream that waits for its next event (which never comes).
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(EtcdOne, WatchAfterCompactionContinuesFromTheOldestRevisionKeptAndSaysWhatWasLost) {
  auto first = client->put("/c/a", "1");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(client->put("/c/a", "2").ok());
  auto third = client->put("/c/a", "3");
  ASSERT_TRUE(third.ok());
  auto compacted = testing::http_request("POST", "127.0.0.1", cluster.client_port(0), "/v3/kv/compaction",
                                         "{\"revision\":\"" + std::to_string(*third) + "\",\"physical\":true}");
  ASSERT_EQ(compacted.status, 200) << compacted.body;
  Recorder seen;
  auto watch = client->watch_prefix("/c/", *first, seen.on_events(), seen.on_error());
  ASSERT_TRUE(wait_until([&] { return seen.count() >= 1; }, 10s)) << seen.errors_text();
  ASSERT_TRUE(client->put("/c/a", "4").ok());
  ASSERT_TRUE(wait_until([&] { return seen.count() >= 2; }, 10s)) << seen.errors_text();
  auto events = seen.events();
  EXPECT_EQ(events[0].kv.value, "3");
  EXPECT_EQ(events[1].kv.value, "4");
  ASSERT_FALSE(seen.errors().empty());
  EXPECT_NE(seen.errors()[0].find("compacted"), std::string::npos) << seen.errors_text();
}

TEST_F(EtcdOne, LeaseKeeperKeepsALeaseAliveAndReportsItsRevocationOnce) {
  auto lease = client->grant_lease(2s);
  ASSERT_TRUE(lease.ok()) << lease.error();
  std::atomic<int> lost{0};
  std::string why;
  std::mutex why_mutex;
  LeaseKeeper keeper(*client, *lease, 2s, [&](const std::string& reason) {
    std::lock_guard lock(why_mutex);
    why = reason;
    ++lost;
  });
  // Alive well past its TTL: it is being renewed.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    auto remaining = client->lease_remaining(*lease);
    ASSERT_TRUE(remaining.ok()) << remaining.error();
    ASSERT_TRUE(remaining->has_value()) << "the lease expired although kept alive";
    std::this_thread::sleep_for(200ms);  // sampling the behaviour under test
  }
  EXPECT_FALSE(keeper.lost());
  ASSERT_TRUE(client->revoke_lease(*lease).ok());
  ASSERT_TRUE(wait_until([&] { return keeper.lost(); }, 10s));
  EXPECT_EQ(lost.load(), 1);
  std::lock_guard lock(why_mutex);
  EXPECT_NE(why.find("not found"), std::string::npos) << why;
}

// A client whose first member (the one it tries first, and a watch streams from) is member `first`.
std::unique_ptr<Client> connect_first_to(const EtcdCluster& cluster, std::size_t first) {
  Options options;
  for (std::size_t k = 0; k < cluster.size(); ++k)
    options.endpoints.push_back(cluster.endpoint((first + k) % cluster.size()));
  auto client = Client::connect(options);
  EXPECT_TRUE(client.ok()) << client.error();
  return client.ok() ? std::move(*client) : nullptr;
}

// Writes /seq/0, /seq/1, ... from its own thread until stopped, counting the calls that failed and
// the slowest call.
class Writer {
 public:
  explicit Writer(Client& client) : client_(client), thread_([this] { run(); }) {}
  ~Writer() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int written() const { return written_.load(); }
  int failed() const { return failed_.load(); }
  Duration slowest() const { return slowest_.load(); }
  std::string first_failure() const {
    std::lock_guard lock(mutex_);
    return first_failure_;
  }

 private:
  void run() {
    while (!stopping_) {
      const auto start = std::chrono::steady_clock::now();
      auto put = client_.put("/seq/" + std::to_string(written_.load()), std::to_string(written_.load()));
      auto took = std::chrono::steady_clock::now() - start;
      if (took > slowest_.load()) slowest_ = took;
      if (put.ok()) {
        ++written_;
      } else {
        ++failed_;
        std::lock_guard lock(mutex_);
        if (first_failure_.empty()) first_failure_ = put.error();
      }
    }
  }
  Client& client_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> written_{0};
  std::atomic<int> failed_{0};
  std::atomic<Duration> slowest_{Duration::zero()};
  mutable std::mutex mutex_;
  std::string first_failure_;
  std::thread thread_;
};

// Every /seq/i written appears once, in order, as a put.
void expect_each_write_once_in_order(const std::vector<WatchEvent>& events, int written) {
  ASSERT_EQ(events.size(), static_cast<std::size_t>(written));
  for (int i = 0; i < written; ++i) {
    ASSERT_EQ(events[i].kv.key, "/seq/" + std::to_string(i)) << "event " << i;
    ASSERT_EQ(events[i].type, WatchEvent::Type::put);
    if (i > 0) {
      ASSERT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
    }
  }
}

class EtcdThree : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster.ok()) << cluster.error(); }
  EtcdCluster cluster{3};
};

TEST_F(EtcdThree, WatchResumesOnAnotherMemberWithoutLossOrRepeatWhenItsMemberIsKilled) {
  // Not the leader, so the writes go on without an election while the watch moves.
  const int leader = cluster.leader();
  ASSERT_GE(leader, 0);
  const std::size_t watched = (static_cast<std::size_t>(leader) + 1) % 3;
  auto watcher = connect_first_to(cluster, watched);
  auto writer_client = connect_first_to(cluster, static_cast<std::size_t>(leader));
  ASSERT_TRUE(watcher && writer_client);
  Recorder seen;
  auto watch = watcher->watch_prefix("/seq/", 0, seen.on_events(), seen.on_error());
  ASSERT_TRUE(wait_until([&] { return watch->streaming(); }, 10s)) << seen.errors_text();
  Writer writer(*writer_client);
  ASSERT_TRUE(wait_until([&] { return seen.count() >= 50; }, 20s)) << seen.errors_text();
  cluster.kill(watched);
  const int at_kill = writer.written();
  ASSERT_TRUE(wait_until([&] { return writer.written() >= at_kill + 100; }, 30s)) << writer.first_failure();
  writer.stop();
  ASSERT_TRUE(wait_until([&] { return seen.count() >= static_cast<std::size_t>(writer.written()); }, 20s))
      << seen.count() << " of " << writer.written() << "; " << seen.errors_text();
  EXPECT_EQ(writer.failed(), 0) << writer.first_failure();
  expect_each_write_once_in_order(seen.events(), writer.written());
  ASSERT_FALSE(seen.errors().empty());  // the break was reported
  EXPECT_NE(seen.errors()[0].find(cluster.endpoint(watched)), std::string::npos) << seen.errors_text();
}

TEST_F(EtcdThree, WatchLeavesAPausedMemberAndResumesWithoutLossOrRepeat) {
  const int leader = cluster.leader();
  ASSERT_GE(leader, 0);
  const std::size_t watched = (static_cast<std::size_t>(leader) + 1) % 3;
  auto watcher = connect_first_to(cluster, watched);
  auto writer_client = connect_first_to(cluster, static_cast<std::size_t>(leader));
  ASSERT_TRUE(watcher && writer_client);
  Recorder seen;
  auto watch = watcher->watch_prefix("/seq/", 0, seen.on_events(), seen.on_error());
  ASSERT_TRUE(wait_until([&] { return watch->streaming(); }, 10s)) << seen.errors_text();
  Writer writer(*writer_client);
  ASSERT_TRUE(wait_until([&] { return seen.count() >= 20; }, 20s)) << seen.errors_text();
  // A stopped process keeps its connections open and says nothing: only the watch's own check of a
  // silent member can tell.
  cluster.pause(watched);
  ASSERT_TRUE(wait_until([&] { return !seen.errors().empty(); }, 20s)) << "the watch never left the paused member";
  const int at_move = writer.written();
  ASSERT_TRUE(wait_until([&] { return writer.written() >= at_move + 50; }, 30s)) << writer.first_failure();
  writer.stop();
  ASSERT_TRUE(wait_until([&] { return seen.count() >= static_cast<std::size_t>(writer.written()); }, 20s))
      << seen.count() << " of " << writer.written() << "; " << seen.errors_text();
  cluster.resume(watched);
  EXPECT_EQ(writer.failed(), 0) << writer.first_failure();
  expect_each_write_once_in_order(seen.events(), writer.written());
}

TEST_F(EtcdThree, CallsKeepWorkingThroughALeaderKill) {
  const int leader = cluster.leader();
  ASSERT_GE(leader, 0);
  // The leader is the member this client tries first, so the kill hits calls in flight.
  auto client = connect_first_to(cluster, static_cast<std::size_t>(leader));
  ASSERT_TRUE(client);
  Writer writer(*client);
  ASSERT_TRUE(wait_until([&] { return writer.written() >= 20; }, 20s)) << writer.first_failure();
  cluster.kill(static_cast<std::size_t>(leader));
  const int at_kill = writer.written();
  const int new_leader = cluster.leader();
  ASSERT_GE(new_leader, 0);
  EXPECT_NE(new_leader, leader);
  ASSERT_TRUE(wait_until([&] { return writer.written() >= at_kill + 50; }, 30s)) << writer.first_failure();
  writer.stop();
  EXPECT_EQ(writer.failed(), 0) << writer.first_failure();
  // Every write is there: none was lost or applied twice under another key.
  auto all = client->get_prefix("/seq/");
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(all->size(), static_cast<std::size_t>(writer.written()));
  // The failover costs retries within one call's budget (request_timeout per member), not errors.
  std::cout << "slowest call across the leader kill: " << format_duration(writer.slowest()) << "\n";
  EXPECT_LE(writer.slowest(), 3 * client->options().request_timeout + 1s);
}

TEST_F(EtcdThree, ALeaseGrantedBeforeTheLeaderIsKilledOutlivesTheElection) {
  const int leader = cluster.leader();
  ASSERT_GE(leader, 0);
  auto client = connect_first_to(cluster, static_cast<std::size_t>(leader));
  ASSERT_TRUE(client);
  auto lease = client->grant_lease(5s);
  ASSERT_TRUE(lease.ok()) << lease.error();
  ASSERT_TRUE(client->put("/held/by/lease", "alive", *lease).ok());
  cluster.kill(static_cast<std::size_t>(leader));
  const int new_leader = cluster.leader();
  ASSERT_GE(new_leader, 0);
  EXPECT_NE(new_leader, leader);
  auto renewed = client->keep_alive(*lease);
  ASSERT_TRUE(renewed.ok()) << renewed.error();
  EXPECT_EQ(*renewed, 5s);
  auto remaining = client->lease_remaining(*lease);
  ASSERT_TRUE(remaining.ok()) << remaining.error();
  EXPECT_TRUE(remaining->has_value());
  auto key = client->get("/held/by/lease");
  ASSERT_TRUE(key.ok()) << key.error();
  ASSERT_TRUE(key->has_value());
  EXPECT_EQ((*key)->lease, *lease);
}

TEST_F(EtcdThree, LeaseKeeperReportsLossWhenNoMemberAnswersForATtl) {
  auto client = connect_to(cluster, 500ms);
  ASSERT_TRUE(client);
  auto lease = client->grant_lease(2s);
  ASSERT_TRUE(lease.ok()) << lease.error();
  std::atomic<int> lost{0};
  std::string why;
  std::mutex why_mutex;
  LeaseKeeper keeper(*client, *lease, 2s, [&](const std::string& reason) {
    std::lock_guard lock(why_mutex);
    why = reason;
    ++lost;
  });
  for (std::size_t i = 0; i < 3; ++i) cluster.pause(i);
  const auto paused = std::chrono::steady_clock::now();
  const bool reported = wait_until([&] { return keeper.lost(); }, 15s);
  const auto after = std::chrono::steady_clock::now() - paused;
  for (std::size_t i = 0; i < 3; ++i) cluster.resume(i);
  ASSERT_TRUE(reported);
  std::cout << "loss reported " << format_duration(after) << " after every member was paused (TTL 2s)\n";
  EXPECT_EQ(lost.load(), 1);
  std::lock_guard lock(why_mutex);
  EXPECT_NE(why.find("no renewal succeeded"), std::string::npos) << why;
}

TEST(EtcdConnect, NamesEveryMemberTriedWhenNoneAnswers) {
  Options options;
  testing::Listener silent;  // accepts nothing: the request times out
  options.endpoints = {"http://127.0.0.1:" + std::to_string(testing::free_port()),
                       "http://127.0.0.1:" + std::to_string(silent.port())};
  options.request_timeout = 300ms;
  auto client = Client::connect(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.code(), ErrorCode::unavailable);
  EXPECT_NE(client.error().find(options.endpoints[0] + ": connection refused"), std::string::npos) << client.error();
  EXPECT_NE(client.error().find(options.endpoints[1] + ": timed out"), std::string::npos) << client.error();
  Options schemeless;
  schemeless.endpoints = {"127.0.0.1:2379"};
  auto bad = Client::connect(schemeless);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace chaosplus::etcd
