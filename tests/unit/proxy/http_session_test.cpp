#include "proxy/http_session.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaosplus::proxy {
namespace {

using std::chrono::milliseconds;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

class Collector final : public StageOutput {
 public:
  void write(std::string_view bytes, TimePoint) override { data += bytes; }
  void end(StreamEnd how, TimePoint) override { ends.push_back(how); }
  std::string take() {
    std::string out;
    out.swap(data);
    return out;
  }
  std::string data;
  std::vector<StreamEnd> ends;
};

std::string get(const std::string& path) { return "GET " + path + " HTTP/1.1\r\nHost: shop\r\n\r\n"; }
std::string post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: shop\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
         body;
}
std::string ok(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class HttpSessionTest : public ::testing::Test {
 protected:
  void add(const std::string& type, Attributes attributes, double toxicity = 1.0, std::uint64_t id = 1,
           std::uint64_t seed = 1) {
    ToxicDraft draft;
    draft.type = type;
    draft.attributes = std::move(attributes);
    draft.toxicity = toxicity;
    draft.name = type + std::to_string(id);
    auto made = make_toxic(draft);
    ASSERT_TRUE(made.ok()) << made.error();
    session_.add_rule(id, *made, seed, reach_);
  }
  void client(std::string_view bytes, TimePoint now = t0) { session_.from_client(bytes, now, out_); }
  void server(std::string_view bytes, TimePoint now = t0) { session_.from_server(bytes, now, out_); }
  Step advance(TimePoint now) { return session_.advance(now, out_); }

  Collector up_;    // what went towards the server
  Collector down_;  // what went towards the client
  HttpSession::Outputs out_{up_, down_};
  HttpCounters counters_;
  std::shared_ptr<ToxicCounters> reach_ = std::make_shared<ToxicCounters>();
  HttpSession session_{&counters_};
};

TEST_F(HttpSessionTest, WithoutHttpToxicsEveryBytePassesAtOnceEvenHalfAHead) {
  client("GET /a HT");
  EXPECT_EQ(up_.take(), "GET /a HT");
  client("TP/1.1\r\n\r\n");
  server(ok("x"));
  EXPECT_EQ(up_.take(), "TP/1.1\r\n\r\n");
  EXPECT_EQ(down_.take(), ok("x"));
}

TEST_F(HttpSessionTest, AMatchingRequestIsAnsweredAndNeverReachesTheServer) {
  add("http_status", {{"method", "POST"}, {"path", "/orders"}, {"status", 503}, {"body", "down"}});
  client(post("/orders", "{\"item\":1}"));
  EXPECT_EQ(up_.take(), "");
  std::string answer = down_.take();
  EXPECT_EQ(answer.rfind("HTTP/1.1 503 ", 0), 0u) << answer;
  EXPECT_TRUE(answer.ends_with("down"));
  EXPECT_EQ(counters_.answered, 1u);
  EXPECT_EQ(session_.outstanding(), 0u);
}

TEST_F(HttpSessionTest, ANonMatchingRequestPassesByteForByte) {
  add("http_status", {{"method", "POST"}, {"path", "/orders"}});
  const std::string request = post("/carts", "abc") + get("/orders");
  client(request);
  EXPECT_EQ(up_.take(), request);
  server(ok("1") + ok("2"));
  EXPECT_EQ(down_.take(), ok("1") + ok("2"));
}

TEST_F(HttpSessionTest, AnAnsweredRequestsBodyIsSwallowedAndTheNextRequestGoesOnIntact) {
  add("http_status", {{"path", "/orders"}});
  const std::string chunked = "POST /orders HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n";
  client(post("/orders", "0123456789") + chunked + get("/after"));
  EXPECT_EQ(up_.take(), get("/after"));
  EXPECT_EQ(counters_.answered, 2u);
}

TEST_F(HttpSessionTest, PipelinedAnswersWaitForTheResponsesToEarlierRequests) {
  add("http_status", {{"method", "POST"}, {"status", 503}});
  client(get("/a") + post("/orders", "x") + get("/b") + post("/orders", "y") + get("/c"));
  EXPECT_EQ(up_.take(), get("/a") + get("/b") + get("/c"));
  EXPECT_EQ(down_.data, "");  // the answer to request 2 must not overtake response 1
  server(ok("A"));
  std::string after_a = down_.take();
  ASSERT_EQ(after_a.rfind(ok("A"), 0), 0u);
  EXPECT_EQ(after_a.substr(ok("A").size()).rfind("HTTP/1.1 503 ", 0), 0u);
  server(ok("B"));
  std::string after_b = down_.take();
  ASSERT_EQ(after_b.rfind(ok("B"), 0), 0u);
  EXPECT_EQ(after_b.substr(ok("B").size()).rfind("HTTP/1.1 503 ", 0), 0u);
  server(ok("C"));
  EXPECT_EQ(down_.take(), ok("C"));
  EXPECT_EQ(session_.outstanding(), 0u);
}

TEST_F(HttpSessionTest, AnAnswerWaitsForAResponseSplitAcrossReads) {
  add("http_status", {{"path", "/fail"}});
  client(get("/slow") + get("/fail"));
  const std::string response = ok("0123456789");
  server(response.substr(0, 30));
  EXPECT_EQ(down_.take(), response.substr(0, 30));
  server(response.substr(30));
  std::string rest = down_.take();
  EXPECT_EQ(rest.rfind(response.substr(30), 0), 0u);
  EXPECT_NE(rest.find("HTTP/1.1 503 "), std::string::npos);
}

TEST_F(HttpSessionTest, AnAnswerToARequestThatAsksToCloseEndsTheConnection) {
  add("http_status", {});
  client("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_NE(down_.take().find("Connection: close\r\n"), std::string::npos);
  ASSERT_EQ(down_.ends.size(), 1u);
  EXPECT_EQ(down_.ends[0], StreamEnd::close);
  client(get("/ignored"));
  EXPECT_EQ(up_.take(), "");
}

TEST_F(HttpSessionTest, AHeadIsHeldUntilCompleteWhileAnHttpToxicIsOn) {
  add("http_status", {{"path", "/nothing-matches-this"}});
  client("GET /a HTTP/1.1\r\nHo");
  EXPECT_EQ(up_.data, "");
  client("st: x\r\n\r\n");
  EXPECT_EQ(up_.take(), "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_F(HttpSessionTest, RemovingTheLastToxicReleasesAHeldHead) {
  add("http_status", {});
  client("GET /a HTTP/1.1\r\n");
  session_.remove_rule(1, t0);
  advance(t0);
  EXPECT_EQ(up_.take(), "GET /a HTTP/1.1\r\n");
  client("\r\n");
  EXPECT_EQ(up_.take(), "\r\n");
  EXPECT_EQ(counters_.answered, 0u);
}

TEST_F(HttpSessionTest, AfterRemovalRequestsOnTheSameConnectionReachTheServerAgain) {
  add("http_status", {});
  client(get("/1"));
  EXPECT_EQ(up_.take(), "");
  session_.remove_rule(1, t0);
  advance(t0);
  client(get("/2"));
  EXPECT_EQ(up_.take(), get("/2"));
}

TEST_F(HttpSessionTest, ADelayedRequestAndEverythingAfterItWaitTheirTurn) {
  add("http_delay", {{"path", "/slow"}, {"delay", 100}});
  client(get("/slow") + get("/fast"));
  EXPECT_EQ(up_.data, "");
  EXPECT_EQ(session_.next_wake(), t0 + milliseconds(100));
  advance(t0 + milliseconds(99));
  EXPECT_EQ(up_.data, "");
  Step step = advance(t0 + milliseconds(100));
  EXPECT_EQ(up_.take(), get("/slow") + get("/fast"));
  EXPECT_EQ(step.wake, TimePoint::max());
  EXPECT_EQ(counters_.delayed, 1u);
}

TEST_F(HttpSessionTest, ALaterDelayNeverOvertakesAnEarlierOne) {
  add("http_delay", {{"path", "/long"}, {"delay", 200}}, 1.0, 1);
  add("http_delay", {{"path", "/short"}, {"delay", 10}}, 1.0, 2);
  client(get("/long"));
  client(get("/short"), t0 + milliseconds(1));
  advance(t0 + milliseconds(50));
  EXPECT_EQ(up_.data, "");
  advance(t0 + milliseconds(200));
  EXPECT_EQ(up_.take(), get("/long") + get("/short"));
}

TEST_F(HttpSessionTest, RemovingADelayLetsItsRequestsGoAtOnce) {
  add("http_delay", {{"delay", 60'000}});
  client(get("/held"));
  session_.remove_rule(1, t0 + milliseconds(5));
  advance(t0 + milliseconds(5));
  EXPECT_EQ(up_.take(), get("/held"));
}

TEST_F(HttpSessionTest, ADelayedAnswerComesWhenTheDelayIsOver) {
  add("http_delay", {{"delay", 50}}, 1.0, 1);
  add("http_status", {{"status", 500}}, 1.0, 2);
  client(get("/x"));
  EXPECT_EQ(down_.data, "");
  advance(t0 + milliseconds(49));
  EXPECT_EQ(down_.data, "");
  advance(t0 + milliseconds(50));
  EXPECT_EQ(down_.take().rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST_F(HttpSessionTest, AbortCutsTheBodyAfterTheGivenBytesAndCloses) {
  add("http_abort", {{"path", "/big"}, {"bytes", 10}});
  client(get("/big"));
  const std::string body(100, 'b');
  server(ok(body));
  EXPECT_EQ(down_.take(), ok(body).substr(0, ok(body).size() - 90));
  ASSERT_EQ(down_.ends.size(), 1u);
  EXPECT_EQ(down_.ends[0], StreamEnd::close);
  EXPECT_EQ(counters_.aborted, 1u);
  server("more");
  EXPECT_EQ(down_.data, "");
}

TEST_F(HttpSessionTest, AbortCanResetInsteadOfClosing) {
  add("http_abort", {{"bytes", 1}, {"mode", "reset"}});
  client(get("/"));
  server(ok("abc"));
  EXPECT_TRUE(down_.take().ends_with("\r\n\r\na"));
  ASSERT_EQ(down_.ends.size(), 1u);
  EXPECT_EQ(down_.ends[0], StreamEnd::reset);
}

TEST_F(HttpSessionTest, AbortWithZeroBytesCutsRightAfterTheHead) {
  add("http_abort", {});
  client(get("/"));
  server(ok("abc"));
  EXPECT_TRUE(down_.take().ends_with("Content-Length: 3\r\n\r\n"));
  EXPECT_EQ(down_.ends.size(), 1u);
}

TEST_F(HttpSessionTest, AbortCutsABodyShorterThanTheLimitBeforeItsLastByte) {
  add("http_abort", {{"bytes", 1000}});
  client(get("/"));
  server(ok("abc"));
  EXPECT_TRUE(down_.take().ends_with("\r\n\r\nab"));
  EXPECT_EQ(down_.ends.size(), 1u);
}

TEST_F(HttpSessionTest, AbortCountsChunkedBodiesAsSent) {
  add("http_abort", {{"bytes", 5}});
  client(get("/"));
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  server(head + "a\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(down_.take(), head + "a\r\n01");
}

TEST_F(HttpSessionTest, AbortLetsResponsesToOtherRequestsPass) {
  add("http_abort", {{"path", "/big"}, {"bytes", 2}});
  client(get("/small") + get("/big"));
  server(ok("whole"));
  EXPECT_EQ(down_.take(), ok("whole"));
  EXPECT_TRUE(down_.ends.empty());
}

TEST_F(HttpSessionTest, RemovingAnAbortMidBodyLetsTheRestPassWhole) {
  add("http_abort", {{"bytes", 50}});
  client(get("/"));
  const std::string response = ok(std::string(100, 'z'));
  server(response.substr(0, 60));
  session_.remove_rule(1, t0);
  server(response.substr(60));
  EXPECT_EQ(down_.take(), response);
  EXPECT_TRUE(down_.ends.empty());
}

TEST_F(HttpSessionTest, InterimResponsesPassAndTheFinalResponseCompletesTheExchange) {
  add("http_status", {{"path", "/fail"}});
  client("PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi" + get("/fail"));
  server("HTTP/1.1 100 Continue\r\n\r\n");
  EXPECT_EQ(down_.take(), "HTTP/1.1 100 Continue\r\n\r\n");  // the answer waits for the final response
  server(ok("done"));
  std::string rest = down_.take();
  EXPECT_EQ(rest.rfind(ok("done"), 0), 0u);
  EXPECT_NE(rest.find("HTTP/1.1 503"), std::string::npos);
}

TEST_F(HttpSessionTest, ABodyThatRunsUntilCloseCompletesAtTheServersEndAndAnswersFollow) {
  add("http_status", {{"path", "/fail"}});
  client(get("/stream") + get("/fail"));
  server("HTTP/1.0 200 OK\r\n\r\nstreamed");
  session_.server_end(StreamEnd::fin, t0, out_);
  std::string all = down_.take();
  EXPECT_EQ(all.rfind("HTTP/1.0 200 OK\r\n\r\nstreamed", 0), 0u);
  EXPECT_NE(all.find("HTTP/1.1 503"), std::string::npos);
  ASSERT_EQ(down_.ends.size(), 1u);
  EXPECT_EQ(down_.ends[0], StreamEnd::fin);
}

TEST_F(HttpSessionTest, NonHttpTrafficPassesThroughUnchangedAndIsCounted) {
  add("http_status", {});
  const std::string binary("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8);
  client(binary);
  EXPECT_EQ(up_.take(), binary);
  server("anything");
  EXPECT_EQ(down_.take(), "anything");
  client(get("/looks-like-http-now"));
  EXPECT_EQ(up_.take(), get("/looks-like-http-now"));
  EXPECT_EQ(counters_.unframed, 1u);
  EXPECT_EQ(counters_.answered, 0u);
}

TEST_F(HttpSessionTest, AServerThatSpeaksFirstMakesTheConnectionOpaque) {
  server("220 mail ready\r\n");
  EXPECT_EQ(down_.take(), "220 mail ready\r\n");
  add("http_status", {});
  client("HELO me\r\n");
  EXPECT_EQ(up_.take(), "HELO me\r\n");
  EXPECT_TRUE(session_.opaque());
}

TEST_F(HttpSessionTest, AClientThatIsNotHttpMakesTheSessionSpentBeforeTheServerSpeaks) {
  // An upload that is not HTTP: no request awaits an answer, so the session may be dropped at
  // once (and the proxy splice the connection), not only once the server says something.
  client(std::string("U\x00\xa3\xe1\x11", 5) + std::string(1000, 'b'));
  EXPECT_EQ(up_.take().size(), 1005u);
  EXPECT_TRUE(session_.opaque());
  EXPECT_TRUE(session_.spent());
  server("K");
  EXPECT_EQ(down_.take(), "K");
}

TEST_F(HttpSessionTest, GarbageAfterARequestStillLetsItsResponseBeFramed) {
  add("http_abort", {{"path", "/big"}, {"bytes", 2}});
  client(get("/big") + std::string("\x00\x01junk", 6));
  up_.take();
  EXPECT_FALSE(session_.spent());  // the response to /big is owed and framed
  server(ok("abcdef"));
  EXPECT_FALSE(down_.take().ends_with("abcdef"));
}

TEST_F(HttpSessionTest, AfterAnUpgradeBothDirectionsPassUntouched) {
  add("http_status", {{"path", "/never"}});
  client("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  up_.take();
  server("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi");
  EXPECT_TRUE(down_.take().ends_with("\x81\x02hi"));
  client("\x81\x82mask");
  EXPECT_EQ(up_.take(), "\x81\x82mask");
  EXPECT_TRUE(session_.opaque());
}

TEST_F(HttpSessionTest, TheShareOfAnsweredRequestsFollowsToxicity) {
  add("http_status", {{"path", "/orders"}}, 0.25, 1, 77);
  int answered = 0;
  for (int i = 0; i < 2000; ++i) {
    client(get("/orders"));
    if (!down_.take().empty()) {
      ++answered;
    } else {
      server(ok(""));
      down_.take();
    }
  }
  EXPECT_EQ(static_cast<std::uint64_t>(answered), counters_.answered);
  EXPECT_GT(answered, 400);
  EXPECT_LT(answered, 600);
}

TEST_F(HttpSessionTest, AClientEndFollowsTheDelayedRequests) {
  add("http_delay", {{"delay", 10}});
  client(get("/"));
  session_.client_end(StreamEnd::fin, t0, out_);
  EXPECT_TRUE(up_.ends.empty());
  advance(t0 + milliseconds(10));
  EXPECT_EQ(up_.take(), get("/"));
  ASSERT_EQ(up_.ends.size(), 1u);
  EXPECT_EQ(up_.ends[0], StreamEnd::fin);
}

TEST_F(HttpSessionTest, HeldBytesAreCountedForTheConnectionsCap) {
  add("http_delay", {{"delay", 10}});
  client(get("/") + "GET /partial");
  EXPECT_EQ(session_.held_client_bytes(), get("/").size() + std::string("GET /partial").size());
}

// ---- what an HTTP toxic touched ----

TEST_F(HttpSessionTest, AnsweredRequestsAreCountedForTheirToxicWithTheConnectionOnce) {
  add("http_status", {{"status", 503}, {"path", "/orders"}});
  client(get("/orders") + get("/health") + get("/orders"));
  EXPECT_EQ(reach_->requests, 2u);
  EXPECT_EQ(reach_->connections, 1u);
  EXPECT_EQ(reach_->requests_skipped, 0u);  // /health does not match: it draws nothing
  EXPECT_EQ(session_.requests(), 3u);
}

TEST_F(HttpSessionTest, MatchingRequestsThatLoseTheDrawAreCountedAsSkipped) {
  add("http_status", {{"status", 503}}, 0.5, 1, 99);
  for (int i = 0; i < 200; ++i) {
    const auto answered = counters_.answered;
    client(get("/x"));
    if (counters_.answered == answered) server(ok("fine"));  // it reached the server
  }
  EXPECT_EQ(reach_->requests, counters_.answered);
  EXPECT_EQ(reach_->requests + reach_->requests_skipped, 200u);
  EXPECT_GT(reach_->requests, 50u);
  EXPECT_GT(reach_->requests_skipped, 50u);
}

TEST_F(HttpSessionTest, ADelayCountsTheRequestsItHolds) {
  add("http_delay", {{"delay", 100}});
  client(get("/a") + get("/b"));
  EXPECT_EQ(reach_->requests, 2u);
  EXPECT_EQ(reach_->connections, 1u);
}

TEST_F(HttpSessionTest, AnAbortCountsWhenItCutsAResponseNotBefore) {
  add("http_abort", {{"bytes", 2}});
  client(get("/report"));
  EXPECT_EQ(reach_->requests, 0u);
  server(ok("a long report"));
  EXPECT_EQ(reach_->requests, 1u);
  EXPECT_EQ(reach_->connections, 1u);
}

TEST_F(HttpSessionTest, AnAbortRemovedBeforeTheResponseCountsNothing) {
  add("http_abort", {{"bytes", 2}});
  client(get("/report"));
  session_.remove_rule(1, t0);
  server(ok("a long report"));
  EXPECT_EQ(reach_->requests, 0u);
}

}  // namespace
}  // namespace chaosplus::proxy
