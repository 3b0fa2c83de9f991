// The sender against real servers on loopback: net::HttpServer for well-formed HTTP, and a raw
// TCP server (raw_server.h) for what a broken target does (hang, reset, close, garbage).
#include "fuzz/exchange.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.h"
#include "support/support.h"
#include "unit/fuzz/raw_server.h"

namespace chaosplus::fuzz {
namespace {

using namespace std::chrono_literals;
using testing::RawConn;
using testing::RawServer;

SenderOptions options_for(const std::string& url, int connections = 4, Duration timeout = 5s) {
  SenderOptions o;
  auto u = net::Url::parse(url);
  EXPECT_TRUE(u.ok()) << u.error();
  if (u) o.base = *u;
  o.connections = connections;
  o.timeout = timeout;
  return o;
}

std::unique_ptr<Sender> open_sender(const SenderOptions& o) {
  auto s = Sender::open(o);
  EXPECT_TRUE(s.ok()) << s.error();
  return s ? std::move(*s) : nullptr;
}

std::string get(const std::string& target, const std::string& extra = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

// Pumps until every request sent so far is answered (or 20 s pass).
void drain(Sender& s) { s.pump(steady_now_ns() + 20'000'000'000, 1); }

std::string ok_response(const std::string& body, const std::string& extra = {}) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

// One request through a Sender whose timeout is far longer than the wait for the answer: an answer
// that only a timeout scan would find (a missed close) leaves the request unanswered, and fails.
Reply answer_without_timeout(const std::string& url, const std::string& bytes) {
  auto sender = open_sender(options_for(url, 1, 600s));
  Reply reply;
  reply.error = "no answer within 20 s";
  reply.outcome = Outcome::timeout;
  bool waiting = true;
  sender->send(bytes, [&](Reply&& r) {
    if (waiting) reply = std::move(r);
  });
  drain(*sender);
  waiting = false;
  sender->cancel_all();
  return reply;
}

// Answers every request on the connection with its target and the connection's number.
void echo_keep_alive(RawConn& c) {
  while (auto request = c.read_request()) {
    c.write(ok_response(RawConn::target_of(*request), "X-Conn: " + std::to_string(c.number()) + "\r\n"));
  }
}

TEST(OutcomeName, NamesEveryOutcome) {
  EXPECT_EQ(outcome_name(Outcome::response), "response");
  EXPECT_EQ(outcome_name(Outcome::timeout), "timeout");
  EXPECT_EQ(outcome_name(Outcome::reset), "reset");
  EXPECT_EQ(outcome_name(Outcome::closed), "closed");
  EXPECT_EQ(outcome_name(Outcome::refused), "refused");
  EXPECT_EQ(outcome_name(Outcome::connect_failed), "connect_failed");
  EXPECT_EQ(outcome_name(Outcome::bad_response), "bad_response");
}

TEST(SteadyNow, IsMonotonic) {
  const auto a = steady_now_ns();
  const auto b = steady_now_ns();
  EXPECT_GT(a, 0);
  EXPECT_GE(b, a);
}

TEST(SenderOpen, RefusesHostsThatAreNotLoopback) {
  for (const auto& [url, host] :
       std::vector<std::pair<std::string, std::string>>{{"http://10.0.0.1:80/", "10.0.0.1"},
                                                        {"http://example.com/", "example.com"},
                                                        {"https://192.168.1.1:8443/", "192.168.1.1"},
                                                        {"http://localhost.evil.com:80/", "localhost.evil.com"}}) {
    auto s = Sender::open(options_for(url));
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_NE(s.error().find("loopback"), std::string::npos) << s.error();
    EXPECT_NE(s.error().find(host), std::string::npos) << "names the target: " << s.error();
    const Reply r = exchange_once(options_for(url), get("/"));
    EXPECT_EQ(r.outcome, Outcome::connect_failed);
    EXPECT_NE(r.error.find("loopback"), std::string::npos) << r.error;
  }
  EXPECT_TRUE(Sender::open(options_for("http://localhost:1/")).ok());
  EXPECT_TRUE(Sender::open(options_for("http://[::1]:1/")).ok());
  EXPECT_TRUE(Sender::open(options_for("http://127.3.4.5:1/")).ok());
}

TEST(ExchangeOnce, ReadsStatusHeadersAndBodyFromAnHttpServer) {
  net::HttpServer server({}, [](const net::Request& r) {
    net::Response response = net::Response::text(201, r.method + " " + r.target + " " + r.body);
    response.headers.push_back({"X-Test", "yes"});
    return response;
  });
  ASSERT_TRUE(server.start().ok());
  const auto o = options_for("http://127.0.0.1:" + std::to_string(server.port()));
  const Reply r = exchange_once(
      o, "POST /items?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello");
  ASSERT_EQ(r.outcome, Outcome::response) << r.error;
  EXPECT_EQ(r.response.status, 201);
  EXPECT_EQ(r.response.header("x-test"), "yes");
  EXPECT_EQ(r.response.body, "POST /items?a=1 hello");
  EXPECT_FALSE(r.body_truncated);
  EXPECT_GT(r.latency_ns, 0);
}

TEST(ExchangeOnce, SpeaksToIpv6LoopbackAndLocalhost) {
  net::HttpServer::Options v6;
  v6.host = "::1";
  net::HttpServer server6(v6, [](const net::Request&) { return net::Response::text(200, "six"); });
  ASSERT_TRUE(server6.start().ok());
  const Reply r6 = exchange_once(options_for("http://[::1]:" + std::to_string(server6.port())), get("/"));
  ASSERT_EQ(r6.outcome, Outcome::response) << r6.error;
  EXPECT_EQ(r6.response.body, "six");

  net::HttpServer server4({}, [](const net::Request&) { return net::Response::text(200, "four"); });
  ASSERT_TRUE(server4.start().ok());
  const Reply r4 = exchange_once(options_for("http://localhost:" + std::to_string(server4.port())), get("/"));
  ASSERT_EQ(r4.outcome, Outcome::response) << r4.error;
  EXPECT_EQ(r4.response.body, "four");
}

TEST(ExchangeOnce, ReportsARefusedPortAtOnce) {
  const int port = chaosplus::testing::free_port();
  const Reply r = exchange_once(options_for("http://127.0.0.1:" + std::to_string(port)), get("/"));
  EXPECT_EQ(r.outcome, Outcome::refused) << r.error;
  EXPECT_NE(r.error.find(std::to_string(port)), std::string::npos) << r.error;
}

TEST(ExchangeOnce, ReportsATimeoutWhenTheServerNeverAnswers) {
  RawServer server([](RawConn& c) {
    if (c.read_request()) c.wait_closed();
  });
  const Reply r = exchange_once(options_for(server.url(), 1, 200ms), get("/hang"));
  EXPECT_EQ(r.outcome, Outcome::timeout) << r.error;
  EXPECT_NE(r.error.find("no response"), std::string::npos) << r.error;
}

TEST(ExchangeOnce, ReportsAReset) {
  RawServer server([](RawConn& c) {
    if (c.read_request()) c.reset();
  });
  const Reply r = exchange_once(options_for(server.url()), get("/crash"));
  EXPECT_EQ(r.outcome, Outcome::reset) << r.error;
}

TEST(ExchangeOnce, ReportsACloseWithoutAResponse) {
  RawServer server([](RawConn& c) { (void)c.read_request(); });
  const Reply r = answer_without_timeout(server.url(), get("/close"));
  EXPECT_EQ(r.outcome, Outcome::closed) << r.error;
  EXPECT_EQ(server.connections(), 1) << "a fresh connection's close is a finding, not retried";
}

TEST(ExchangeOnce, ReportsACloseInTheMiddleOfABody) {
  RawServer server([](RawConn& c) {
    if (c.read_request()) c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some");
  });
  const Reply r = answer_without_timeout(server.url(), get("/"));
  EXPECT_EQ(r.outcome, Outcome::closed) << r.error;
}

TEST(ExchangeOnce, ReportsBytesThatAreNotHttp) {
  RawServer server([](RawConn& c) {
    if (c.read_request()) {
      c.write("garbage\r\n\r\n");
      c.wait_closed();
    }
  });
  const Reply r = exchange_once(options_for(server.url()), get("/"));
  EXPECT_EQ(r.outcome, Outcome::bad_response) << r.error;
  EXPECT_FALSE(r.error.empty());
}

TEST(ExchangeOnce, ReadsAChunkedBodyInPieces) {
  RawServer server([](RawConn& c) {
    if (!c.read_request()) return;
    c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n5\r\n{\"a\":");
    c.write("\r\n3\r\n123\r\n1;ext=1\r\n}\r\n0\r\nX-Trailer: t\r\n\r\n");
    c.wait_closed();
  });
  const Reply r = exchange_once(options_for(server.url()), get("/"));
  ASSERT_EQ(r.outcome, Outcome::response) << r.error;
  EXPECT_EQ(r.response.body, "{\"a\":123}");
  EXPECT_EQ(r.response.header("Content-Type"), "application/json");
}

TEST(ExchangeOnce, ReadsABodyDelimitedByTheClose) {
  RawServer server([](RawConn& c) {
    if (!c.read_request()) return;
    c.write("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the ");
    c.write("end");
  });
  const Reply r = answer_without_timeout(server.url(), get("/"));
  ASSERT_EQ(r.outcome, Outcome::response) << r.error;
  EXPECT_EQ(r.response.version, "HTTP/1.0");
  EXPECT_EQ(r.response.body, "until the end");
  EXPECT_EQ(r.response.header("server"), "old");
}

TEST(ExchangeOnce, SkipsInterimResponsesAndKeepsFoldedHeaders) {
  RawServer server([](RawConn& c) {
    if (!c.read_request()) return;
    c.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nX-Long: a\r\n  b\r\nContent-Length: 2\r\n\r\nno");
    c.wait_closed();
  });
  const Reply r = exchange_once(options_for(server.url()), get("/"));
  ASSERT_EQ(r.outcome, Outcome::response) << r.error;
  EXPECT_EQ(r.response.status, 404);
  EXPECT_EQ(r.response.reason, "Not Found");
  EXPECT_EQ(r.response.header("X-Long"), "a b");
  EXPECT_EQ(r.response.body, "no");
}

TEST(ExchangeOnce, CutsBodiesLongerThanMaxBody) {
  const std::string big(100'000, 'x');
  RawServer server([&](RawConn& c) {
    while (auto request = c.read_request()) {
      if (RawConn::target_of(*request) == "/chunked") {
        c.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 10; ++i) c.write("2710\r\n" + big.substr(0, 10'000) + "\r\n");
        c.write("0\r\n\r\n");
      } else {
        c.write(ok_response(big));
      }
    }
  });
  auto o = options_for(server.url());
  o.max_body = 1000;
  for (const char* target : {"/length", "/chunked"}) {
    const Reply r = exchange_once(o, get(target));
    ASSERT_EQ(r.outcome, Outcome::response) << target << ": " << r.error;
    EXPECT_EQ(r.response.body, big.substr(0, 1000)) << target;
    EXPECT_TRUE(r.body_truncated) << target;
  }
  o.max_body = 100'000;
  const Reply whole = exchange_once(o, get("/length"));
  EXPECT_EQ(whole.response.body.size(), 100'000u);
  EXPECT_FALSE(whole.body_truncated);
}

TEST(ExchangeOnce, HeadResponsesHaveNoBody) {
  RawServer server([](RawConn& c) {
    while (auto request = c.read_request()) {
      const bool head = request->rfind("HEAD ", 0) == 0;
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" + std::string(head ? "" : "hello"));
    }
  });
  auto sender = open_sender(options_for(server.url(), 1));
  std::vector<Reply> replies;
  sender->send(
      "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", [&](Reply&& r) { replies.push_back(std::move(r)); }, false, true);
  sender->send(get("/"), [&](Reply&& r) { replies.push_back(std::move(r)); });
  drain(*sender);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].outcome, Outcome::response) << replies[0].error;
  EXPECT_EQ(replies[0].response.body, "");
  EXPECT_EQ(replies[1].outcome, Outcome::response) << replies[1].error;
  EXPECT_EQ(replies[1].response.body, "hello");
  EXPECT_EQ(server.connections(), 1) << "the HEAD answer left the connection usable";
}

TEST(Sender, ReusesKeepAliveConnections) {
  RawServer server(echo_keep_alive);
  auto sender = open_sender(options_for(server.url(), 1));
  std::vector<std::string> bodies;
  for (int i = 0; i < 5; ++i) {
    sender->send(get("/" + std::to_string(i)), [&](Reply&& r) {
      EXPECT_EQ(r.outcome, Outcome::response) << r.error;
      EXPECT_EQ(r.response.header("X-Conn"), "1");
      bodies.push_back(r.response.body);
    });
  }
  EXPECT_EQ(sender->in_flight(), 5u);
  EXPECT_EQ(sender->pump(steady_now_ns() + 20'000'000'000, 1), 0u);
  EXPECT_EQ(bodies, (std::vector<std::string>{"/0", "/1", "/2", "/3", "/4"}));
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(sender->in_flight(), 0u);
}

TEST(Sender, OwnConnectionRequestsGetAFreshConnectionClosedAfter) {
  std::atomic<int> requests_on_own{0};
  RawServer server([&](RawConn& c) {
    while (auto request = c.read_request()) {
      c.write(ok_response(RawConn::target_of(*request), "X-Conn: " + std::to_string(c.number()) + "\r\n"));
      if (RawConn::target_of(*request) == "/own") {
        ++requests_on_own;
        c.wait_closed();  // the client must close it: a second request here would hang
        return;
      }
    }
  });
  auto sender = open_sender(options_for(server.url(), 1, 2s));
  std::vector<std::string> conns;
  auto keep = [&](Reply&& r) {
    EXPECT_EQ(r.outcome, Outcome::response) << r.error;
    conns.emplace_back(r.response.header("X-Conn"));
  };
  sender->send(get("/"), keep);
  sender->send(get("/own"), keep, true);
  sender->send(get("/own"), keep, true);
  sender->send(get("/"), keep);
  drain(*sender);
  EXPECT_EQ(conns, (std::vector<std::string>{"1", "2", "3", "4"}));
  EXPECT_EQ(requests_on_own.load(), 2);
}

TEST(Sender, RetriesOnceWhenAKeptAliveConnectionWasAlreadyClosed) {
  // The server answers the first request of each connection and closes the connection when the
  // second one arrives, unanswered: what a server whose keep-alive timer ran out does to a
  // request that crossed its close. That is no finding.
  RawServer server([](RawConn& c) {
    if (auto request = c.read_request()) c.write(ok_response(RawConn::target_of(*request)));
    (void)c.read_request();
  });
  auto sender = open_sender(options_for(server.url(), 1));
  std::vector<Reply> replies;
  sender->send(get("/a"), [&](Reply&& r) {
    replies.push_back(std::move(r));
    sender->send(get("/b"), [&](Reply&& again) { replies.push_back(std::move(again)); });
  });
  drain(*sender);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].outcome, Outcome::response) << replies[0].error;
  ASSERT_EQ(replies[1].outcome, Outcome::response) << replies[1].error;
  EXPECT_EQ(replies[1].response.body, "/b");
  EXPECT_EQ(server.connections(), 2);
}

TEST(Sender, ReportsACloseWhenTheRetryOnAFreshConnectionFailsToo) {
  std::atomic<int> answered{0};
  RawServer server([&](RawConn& c) {
    while (auto request = c.read_request()) {
      if (answered++ > 0) return;  // only the very first request ever gets an answer
      c.write(ok_response("first"));
    }
  });
  auto sender = open_sender(options_for(server.url(), 1));
  std::vector<Reply> replies;
  sender->send(get("/a"), [&](Reply&& r) {
    replies.push_back(std::move(r));
    sender->send(get("/b"), [&](Reply&& again) { replies.push_back(std::move(again)); });
  });
  drain(*sender);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].outcome, Outcome::response);
  EXPECT_EQ(replies[1].outcome, Outcome::closed) << replies[1].error;
  EXPECT_EQ(server.connections(), 2) << "retried exactly once";
}

TEST(Sender, ACrashOnAKeptAliveConnectionIsReportedNotTurnedIntoARefusal) {
  // The second request kills the server: its connection is reset and the port refuses from then
  // on. The retry meant for stale connections must not hide that behind "refused".
  RawServer* self = nullptr;
  RawServer server([&](RawConn& c) {
    if (auto request = c.read_request()) c.write(ok_response(RawConn::target_of(*request)));
    if (c.read_request()) {
      self->stop_listening();
      c.reset();
    }
  });
  self = &server;
  auto sender = open_sender(options_for(server.url(), 1));
  std::vector<Reply> replies;
  sender->send(get("/a"), [&](Reply&& r) {
    replies.push_back(std::move(r));
    sender->send(get("/crash"), [&](Reply&& again) { replies.push_back(std::move(again)); });
  });
  drain(*sender);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].outcome, Outcome::response);
  EXPECT_TRUE(replies[1].outcome == Outcome::reset || replies[1].outcome == Outcome::closed)
      << outcome_name(replies[1].outcome) << ": " << replies[1].error;
  EXPECT_NE(replies[1].error.find("refused"), std::string::npos) << "says what the retry met: " << replies[1].error;
}

TEST(Sender, AThousandRequestsOverEightConnectionsAreAnsweredInOrderPerConnection) {
  RawServer server(echo_keep_alive);
  auto sender = open_sender(options_for(server.url(), 8));
  std::map<std::string, std::vector<int>> per_conn;
  int answered = 0;
  for (int i = 0; i < 1000; ++i) {
    sender->send(get("/" + std::to_string(i)), [&, i](Reply&& r) {
      ASSERT_EQ(r.outcome, Outcome::response) << r.error;
      EXPECT_EQ(r.response.body, "/" + std::to_string(i));
      per_conn[std::string(r.response.header("X-Conn"))].push_back(i);
      ++answered;
    });
  }
  drain(*sender);
  EXPECT_EQ(answered, 1000);
  EXPECT_LE(server.connections(), 8);
  EXPECT_LE(per_conn.size(), 8u);
  for (const auto& [conn, ids] : per_conn) {
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "connection " << conn << " answered out of order";
  }
}

TEST(Sender, CallbacksMaySendAndTheChainGoesOn) {
  net::HttpServer server({}, [](const net::Request& r) { return net::Response::text(200, r.target); });
  ASSERT_TRUE(server.start().ok());
  auto sender = open_sender(options_for("http://127.0.0.1:" + std::to_string(server.port()), 2));
  int done = 0;
  std::function<void(Reply &&)> next = [&](Reply&& r) {
    EXPECT_EQ(r.outcome, Outcome::response) << r.error;
    if (++done < 50) sender->send(get("/" + std::to_string(done)), next);
  };
  sender->send(get("/0"), next);
  drain(*sender);
  EXPECT_EQ(done, 50);
}

TEST(Sender, TimesOutAHungRequestAndClosesItsConnection) {
  RawServer server([](RawConn& c) {
    while (auto request = c.read_request()) {
      if (RawConn::target_of(*request) == "/hang") {
        c.wait_closed();
        return;
      }
      c.write(ok_response("fine"));
    }
  });
  auto sender = open_sender(options_for(server.url(), 1, 300ms));
  std::vector<Reply> replies;
  sender->send(get("/hang"), [&](Reply&& r) { replies.push_back(std::move(r)); });
  sender->send(get("/ok"), [&](Reply&& r) { replies.push_back(std::move(r)); });
  drain(*sender);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].outcome, Outcome::timeout) << replies[0].error;
  EXPECT_EQ(replies[1].outcome, Outcome::response) << replies[1].error;
  EXPECT_EQ(server.connections(), 2) << "the hung connection was not reused";
}

TEST(Sender, AnAnswerFoundLateIsAnAnswerAndTheNextRequestGetsItsOwnTime) {
  std::atomic<bool> received{false}, go{false}, answered{false};
  RawServer server([&](RawConn& c) {
    while (auto request = c.read_request()) {
      if (RawConn::target_of(*request) == "/late") {
        received = true;
        while (!go) std::this_thread::yield();
      }
      c.write(ok_response(RawConn::target_of(*request)));
      if (RawConn::target_of(*request) == "/late") answered = true;
    }
  });
  auto sender = open_sender(options_for(server.url(), 1, 200ms));
  std::vector<Reply> replies;
  sender->send(get("/late"), [&](Reply&& r) { replies.push_back(std::move(r)); });
  sender->send(get("/next"), [&](Reply&& r) { replies.push_back(std::move(r)); });
  ASSERT_TRUE(chaosplus::testing::wait_until([&] {
    sender->pump(steady_now_ns() + 1'000'000);
    return received.load();
  }));
  go = true;
  ASSERT_TRUE(chaosplus::testing::wait_until([&] { return answered.load(); }));
  // The behaviour under test: the caller comes back to pump only after the request's deadline,
  // with its answer waiting unread.
  std::this_thread::sleep_for(300ms);
  drain(*sender);
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[0].outcome, Outcome::response) << replies[0].error;
  EXPECT_EQ(replies[1].outcome, Outcome::response) << replies[1].error;
  EXPECT_EQ(replies[1].response.body, "/next");
}

TEST(Sender, PumpReturnsAtItsDeadlineWithRequestsStillInFlight) {
  RawServer server([](RawConn& c) {
    if (c.read_request()) c.wait_closed();
  });
  auto sender = open_sender(options_for(server.url(), 2, 30s));
  int answered = 0;
  for (int i = 0; i < 3; ++i) sender->send(get("/"), [&](Reply&&) { ++answered; });
  EXPECT_EQ(sender->pump(steady_now_ns() + 50'000'000), 3u);
  EXPECT_EQ(answered, 0);
  EXPECT_EQ(sender->in_flight(), 3u);
  sender->cancel_all();
}

TEST(Sender, APumpWhoseDeadlineHasPassedStillMovesWhatIsReady) {
  RawServer server(echo_keep_alive);
  auto sender = open_sender(options_for(server.url(), 1));
  bool answered = false;
  sender->send(get("/poll"), [&](Reply&& r) {
    EXPECT_EQ(r.response.body, "/poll");
    answered = true;
  });
  EXPECT_TRUE(chaosplus::testing::wait_until([&] {
    sender->pump(0);
    return answered;
  }));
}

TEST(Sender, CancelAllAnswersEveryQueuedAndInFlightRequest) {
  std::atomic<int> received{0};
  RawServer server([&](RawConn& c) {
    if (c.read_request()) {
      ++received;
      c.wait_closed();
    }
  });
  auto sender = open_sender(options_for(server.url(), 2, 30s));
  std::vector<Reply> replies;
  for (int i = 0; i < 5; ++i) sender->send(get("/"), [&](Reply&& r) { replies.push_back(std::move(r)); });
  ASSERT_TRUE(chaosplus::testing::wait_until([&] {
    sender->pump(steady_now_ns() + 10'000'000);
    return received.load() == 2;
  }));
  sender->cancel_all();
  ASSERT_EQ(replies.size(), 5u);
  for (const auto& r : replies) {
    EXPECT_EQ(r.outcome, Outcome::closed);
    EXPECT_EQ(r.error, "cancelled");
  }
  EXPECT_EQ(sender->in_flight(), 0u);
}

TEST(Sender, CancelAllFromACallbackAnswersTheRest) {
  RawServer server([](RawConn& c) {
    while (auto request = c.read_request()) {
      if (RawConn::target_of(*request) == "/hang") {
        c.wait_closed();
        return;
      }
      c.write(ok_response("fine"));
    }
  });
  auto sender = open_sender(options_for(server.url(), 2, 30s));
  std::vector<Outcome> outcomes;
  sender->send(get("/hang"), [&](Reply&& r) { outcomes.push_back(r.outcome); });
  sender->send(get("/ok"), [&](Reply&& r) {
    outcomes.push_back(r.outcome);
    sender->cancel_all();
  });
  sender->send(get("/hang"), [&](Reply&& r) { outcomes.push_back(r.outcome); });
  drain(*sender);
  EXPECT_EQ(outcomes, (std::vector<Outcome>{Outcome::response, Outcome::closed, Outcome::closed}));
  EXPECT_EQ(sender->in_flight(), 0u);
}

TEST(Sender, ARefusedConnectAnswersAtOnceAndTheNextRequestTriesAgain) {
  const int port = chaosplus::testing::free_port();
  auto sender = open_sender(options_for("http://127.0.0.1:" + std::to_string(port), 4));
  std::vector<Outcome> outcomes;
  for (int i = 0; i < 3; ++i) sender->send(get("/"), [&](Reply&& r) { outcomes.push_back(r.outcome); });
  drain(*sender);
  EXPECT_EQ(outcomes, (std::vector<Outcome>{Outcome::refused, Outcome::refused, Outcome::refused}));
}

TEST(Sender, AnAnswerWithExtraBytesIsKeptButItsConnectionIsNot) {
  // Two answers to one request (a desync): the second must not be taken as the next one's.
  RawServer server([](RawConn& c) {
    while (auto request = c.read_request()) {
      const std::string target = RawConn::target_of(*request);
      c.write(ok_response(target) + (target == "/twice" ? ok_response("extra") : std::string()));
    }
  });
  auto sender = open_sender(options_for(server.url(), 1));
  std::vector<std::string> bodies;
  sender->send(get("/twice"), [&](Reply&& r) { bodies.push_back(r.response.body); });
  sender->send(get("/next"), [&](Reply&& r) { bodies.push_back(r.response.body); });
  drain(*sender);
  EXPECT_EQ(bodies, (std::vector<std::string>{"/twice", "/next"}));
  EXPECT_EQ(server.connections(), 2);
}

}  // namespace
}  // namespace chaosplus::fuzz
