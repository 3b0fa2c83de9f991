// The event stream against a real SQLite store that a test writes like a runner would: events as
// they are stored, keep-alive comments while it is quiet, the end after the verdict, the cap.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include "net/socket.h"
#include "server/server.h"
#include "store/store.h"
#include "support/support.h"

namespace chaosplus::server {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class StreamReader {
 public:
  StreamReader(int port, const std::string& target) {
    auto fd = net::connect_tcp("127.0.0.1", port, 5s);
    EXPECT_TRUE(fd.ok()) << fd.error();
    if (!fd) return;
    fd_ = std::move(fd).value();
    EXPECT_TRUE(net::send_all(fd_.get(), "GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n", Clock::now() + 5s).ok());
  }
  // Reads until `text` is in what arrived since the last call returned (or the peer closes).
  bool until(std::string_view text, Clock::duration timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    char chunk[4096];
    while (pending_.find(text) == std::string::npos) {
      if (!net::wait_readable(fd_.get(), deadline)) return false;
      ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
      if (n <= 0) {
        closed_ = true;
        return pending_.find(text) != std::string::npos;
      }
      pending_.append(chunk, static_cast<std::size_t>(n));
    }
    all_ += pending_.substr(0, pending_.find(text) + text.size());
    pending_.erase(0, pending_.find(text) + text.size());
    return true;
  }
  bool closed(Clock::duration timeout = 10s) {
    until("\x01", timeout);
    return closed_;
  }
  const std::string& seen() const { return all_; }

 private:
  net::Fd fd_;
  std::string pending_, all_;
  bool closed_ = false;
};

class EventStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open(dir_.file("results.db"));
    ASSERT_TRUE(opened.ok()) << opened.error();
    store_ = std::move(opened).value();
    store::RunRow row;
    row.run_id = "20261206T170000.000Z-abcdef";
    row.experiment = "streamed";
    row.started = std::chrono::system_clock::now();
    ASSERT_TRUE(store_->begin_run(row).ok());
    append(1, Event("run.started").with("run_id", row.run_id));
    ServerOptions options;
    options.port = 0;
    options.token = "stream-test-token-0123456789";
    options.store = dir_.file("results.db");
    options.state_dir = dir_.file("state");
    options.experiments_dir = dir_.path();
    options.sse_poll = 20ms;
    options.sse_keepalive = 100ms;
    options.max_streams = 1;
    auto started = Server::start(options);
    ASSERT_TRUE(started.ok()) << started.error();
    server_ = std::move(started).value();
  }

  void append(std::int64_t seq, Event event) {
    store::StoredEvent e;
    e.seq = seq;
    e.event = std::move(event);
    e.event.wall = std::chrono::system_clock::now();
    ASSERT_TRUE(store_->append_events(id_, std::span(&e, 1)).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Server> server_;
  const std::string id_ = "20261206T170000.000Z-abcdef";
};

TEST_F(EventStreamTest, SendsEventsAsTheyAreStoredKeepsAliveAndEndsAfterTheVerdict) {
  StreamReader stream(server_->port(), "/api/runs/" + id_ + "/events/stream");
  ASSERT_TRUE(stream.until("id: 1\nevent: run.started\ndata: {\"seq\":1,"));
  ASSERT_TRUE(stream.until(": keep-alive\n\n"));  // quiet: a comment, the stream stays open
  append(2, Event("probe.result").with("probe", "checkout").with("ok", true));
  ASSERT_TRUE(stream.until("id: 2\nevent: probe.result\n"));
  append(3, Event("run.verdict").with("verdict", "held"));
  store::RunRow done;
  done.run_id = id_;
  done.status = store::RunStatus::finished;
  done.verdict = "held";
  done.exit_code = 0;
  done.ended = std::chrono::system_clock::now();
  ASSERT_TRUE(store_->finish_run(done).ok());
  ASSERT_TRUE(stream.until("id: 3\nevent: run.verdict\n"));
  EXPECT_TRUE(stream.closed());
  EXPECT_NE(stream.seen().find("Content-Type: text/event-stream"), std::string::npos) << stream.seen();
}

TEST_F(EventStreamTest, RefusesAStreamOverTheCapWith503) {
  StreamReader first(server_->port(), "/api/runs/" + id_ + "/events/stream");
  ASSERT_TRUE(first.until("id: 1\n"));
  StreamReader second(server_->port(), "/api/runs/" + id_ + "/events/stream");
  ASSERT_TRUE(second.until("\r\n\r\n"));
  EXPECT_NE(second.seen().find("HTTP/1.1 503"), std::string::npos) << second.seen();
}

TEST_F(EventStreamTest, StoppingTheServerEndsAnOpenStream) {
  StreamReader stream(server_->port(), "/api/runs/" + id_ + "/events/stream");
  ASSERT_TRUE(stream.until("id: 1\n"));
  server_->stop();
  EXPECT_TRUE(stream.closed());
}

}  // namespace
}  // namespace chaosplus::server
