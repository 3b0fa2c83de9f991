#include "net/http_message.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "net/http_parser.h"

namespace chaosplus::net {
namespace {

using RState = RequestParser::State;
using SState = ResponseParser::State;

// Feeds the whole text at once; expects exactly one complete request using all bytes.
Request parse_request(const std::string& text, ParserLimits limits = {}) {
  RequestParser parser(limits);
  std::size_t consumed = 0;
  auto state = parser.feed(text, consumed);
  EXPECT_EQ(state, RState::done) << parser.error();
  EXPECT_EQ(consumed, text.size());
  return parser.request();
}

std::string request_error(const std::string& text, ParserLimits limits = {}, ParseError* kind = nullptr) {
  RequestParser parser(limits);
  std::size_t consumed = 0;
  auto state = parser.feed(text, consumed);
  EXPECT_EQ(state, RState::error) << "accepted: " << text;
  if (kind) *kind = parser.error_kind();
  return parser.error();
}

TEST(RequestParser, ParsesASimpleGet) {
  auto r = parse_request("GET /items?id=7 HTTP/1.1\r\nHost: example\r\nX-Thing:  spaced value \t\r\n\r\n");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/items?id=7");
  EXPECT_EQ(r.path(), "/items");
  EXPECT_EQ(r.header("x-thing"), "spaced value");
  EXPECT_EQ(r.header("HOST"), "example");
  EXPECT_EQ(r.header("missing"), "");
  EXPECT_TRUE(r.body.empty());
}

TEST(RequestParser, GivesTheSameResultWhenSplitAtEveryByte) {
  const std::string text =
      "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello world";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    RequestParser parser;
    std::size_t consumed = 0;
    auto first = parser.feed(std::string_view(text).substr(0, split), consumed);
    ASSERT_EQ(consumed, split);
    if (split < text.size()) {
      ASSERT_EQ(first, RState::need_more) << "split at " << split;
      auto second = parser.feed(std::string_view(text).substr(split), consumed);
      ASSERT_EQ(second, RState::done) << "split at " << split << ": " << parser.error();
      ASSERT_EQ(consumed, text.size() - split);
    } else {
      ASSERT_EQ(first, RState::done);
    }
    EXPECT_EQ(parser.request().body, "hello world");
    EXPECT_EQ(parser.request().header("content-type"), "text/plain");
  }
}

TEST(RequestParser, ParsesOneByteAtATime) {
  const std::string text =
      "PUT /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n";
  RequestParser parser;
  RState state = RState::need_more;
  for (std::size_t i = 0; i < text.size(); ++i) {
    ASSERT_EQ(state, RState::need_more) << "finished early at byte " << i;
    std::size_t consumed = 0;
    state = parser.feed(std::string_view(text).substr(i, 1), consumed);
    ASSERT_EQ(consumed, 1u);
  }
  ASSERT_EQ(state, RState::done) << parser.error();
  EXPECT_EQ(parser.request().body, "abcde");
}

TEST(RequestParser, DecodesChunkedBodies) {
  auto r = parse_request(
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n");
  EXPECT_EQ(r.body, "hello0123456789");
}

TEST(RequestParser, ParsesPipelinedRequestsOneAtATime) {
  const std::string text =
      "GET /one HTTP/1.1\r\n\r\n"
      "POST /two HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET /three HTTP/1.1\r\nConnection: close\r\n\r\n";
  RequestParser parser;
  std::vector<std::string> targets;
  std::size_t offset = 0;
  for (int i = 0; i < 3; ++i) {
    std::size_t consumed = 0;
    ASSERT_EQ(parser.feed(std::string_view(text).substr(offset), consumed), RState::done);
    offset += consumed;
    targets.push_back(parser.request().target);
    if (i == 1) {
      EXPECT_EQ(parser.request().body, "abc");
    }
    EXPECT_EQ(parser.keep_alive(), i != 2);
    parser.reset();
  }
  EXPECT_EQ(offset, text.size());
  EXPECT_EQ(targets, (std::vector<std::string>{"/one", "/two", "/three"}));
}

TEST(RequestParser, KeepAliveFollowsTheVersionAndConnectionHeader) {
  auto keep = [](const std::string& text) {
    RequestParser parser;
    std::size_t consumed = 0;
    EXPECT_EQ(parser.feed(text, consumed), RState::done);
    return parser.keep_alive();
  };
  EXPECT_TRUE(keep("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n"));
  EXPECT_FALSE(keep("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

TEST(RequestParser, AcceptsBareLineFeedsAndLeadingBlankLines) {
  auto r = parse_request("\r\n\nGET /x HTTP/1.1\nHost: h\n\n");
  EXPECT_EQ(r.target, "/x");
  EXPECT_EQ(r.header("host"), "h");
}

TEST(RequestParser, RejectsMalformedInputWithAReason) {
  const std::vector<std::string> bad = {
      "GARBAGE\r\n\r\n",
      "GET /\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET / FTP/1.1\r\n\r\n",
      "GET /a\x01 HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
      "GET / HTTP/1.1\r\nName : x\r\n\r\n",
      "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
      "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
      "GET / HTTP/1.1\r\nA: b\x01c\r\n\r\n",
      "GET / HTTP/1.1\rX\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
      "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
      "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
  };
  for (const auto& text : bad) {
    auto reason = request_error(text);
    EXPECT_FALSE(reason.empty()) << text;
  }
}

TEST(RequestParser, SurvivesEveryPrefixAndMutationOfAValidRequest) {
  // A cheap in-test fuzz: flip each byte to a few hostile values; the parser must end in a state.
  const std::string base =
      "POST /p?q=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n";
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (char c : {'\0', '\r', '\n', ' ', ':', 'f', '\xff'}) {
      std::string text = base;
      text[i] = c;
      RequestParser parser({.max_start_line = 64, .max_header_bytes = 128, .max_headers = 4, .max_body = 16});
      std::size_t consumed = 0;
      auto state = parser.feed(text, consumed);
      EXPECT_LE(consumed, text.size());
      if (state == RState::error) {
        EXPECT_FALSE(parser.error().empty());
      }
    }
  }
}

TEST(RequestParser, LimitsTheStartLine) {
  ParseError kind = ParseError::none;
  request_error("GET /" + std::string(100, 'a') + " HTTP/1.1\r\n\r\n", {.max_start_line = 64}, &kind);
  EXPECT_EQ(kind, ParseError::start_line_too_long);
}

TEST(RequestParser, LimitsTheStartLineBeforeItsEndArrives) {
  RequestParser parser({.max_start_line = 64});
  std::size_t consumed = 0;
  EXPECT_EQ(parser.feed("GET /" + std::string(1000, 'a'), consumed), RState::error);
  EXPECT_EQ(parser.error_kind(), ParseError::start_line_too_long);
}

TEST(RequestParser, LimitsHeaderBytesAndCount) {
  ParseError kind = ParseError::none;
  request_error("GET / HTTP/1.1\r\nA: " + std::string(200, 'x') + "\r\n\r\n", {.max_header_bytes = 100}, &kind);
  EXPECT_EQ(kind, ParseError::headers_too_large);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 5; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  request_error(many + "\r\n", {.max_headers = 4}, &kind);
  EXPECT_EQ(kind, ParseError::headers_too_large);
}

TEST(RequestParser, RejectsABodyOverTheLimitFromItsContentLength) {
  ParseError kind = ParseError::none;
  request_error("POST / HTTP/1.1\r\nContent-Length: 17\r\n\r\n", {.max_body = 16}, &kind);
  EXPECT_EQ(kind, ParseError::body_too_large);
  request_error("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", {}, &kind);
  EXPECT_EQ(kind, ParseError::body_too_large);
}

TEST(RequestParser, RejectsAChunkedBodyOverTheLimit) {
  ParseError kind = ParseError::none;
  request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n" + std::string(16, 'a') + "\r\n1\r\n",
                {.max_body = 16}, &kind);
  EXPECT_EQ(kind, ParseError::body_too_large);
  request_error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", {}, &kind);
  EXPECT_EQ(kind, ParseError::body_too_large);
}

TEST(RequestParser, AcceptsRepeatedIdenticalContentLengths) {
  auto r = parse_request("POST / HTTP/1.1\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(r.body, "ok");
}

TEST(RequestParser, StartedAndHeadersCompleteTrackProgress) {
  RequestParser parser;
  std::size_t consumed = 0;
  EXPECT_FALSE(parser.started());
  parser.feed("POST / HTTP/1.1\r\nContent-Length: 4\r\n", consumed);
  EXPECT_TRUE(parser.started());
  EXPECT_FALSE(parser.headers_complete());
  parser.feed("\r\nab", consumed);
  EXPECT_TRUE(parser.headers_complete());
  parser.reset();
  EXPECT_FALSE(parser.started());
}

TEST(RequestQuery, DecodesParameters) {
  Request r;
  r.target = "/search?q=a%20b+c&empty=&flag&x=%zz#frag";
  EXPECT_EQ(r.path(), "/search");
  EXPECT_EQ(r.query_param("q"), "a b c");
  EXPECT_EQ(r.query_param("empty"), "");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_EQ(r.query_param("x"), "%zz");
  EXPECT_EQ(r.query_param("missing"), "");
}

Response parse_response(const std::string& text, std::string_view method = "GET") {
  ResponseParser parser;
  parser.set_request_method(method);
  std::size_t consumed = 0;
  auto state = parser.feed(text, consumed);
  if (state == SState::need_more) state = parser.finish();
  EXPECT_EQ(state, SState::done) << parser.error();
  return parser.response();
}

TEST(ResponseParser, ParsesStatusReasonHeadersAndBody) {
  auto r = parse_response("HTTP/1.1 404 Not Found Here\r\nContent-Length: 4\r\nX-A: b\r\n\r\nnope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.reason, "Not Found Here");
  EXPECT_EQ(r.header("x-a"), "b");
  EXPECT_EQ(r.body, "nope");
}

TEST(ResponseParser, AcceptsAStatusLineWithoutReason) {
  auto r = parse_response("HTTP/1.0 204\r\n\r\n");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.reason, "");
}

TEST(ResponseParser, GivesTheSameResultWhenSplitAtEveryByte) {
  const std::string text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n";
  for (std::size_t split = 0; split < text.size(); ++split) {
    ResponseParser parser;
    std::size_t consumed = 0;
    ASSERT_EQ(parser.feed(std::string_view(text).substr(0, split), consumed), SState::need_more);
    ASSERT_EQ(parser.feed(std::string_view(text).substr(split), consumed), SState::done) << split;
    EXPECT_EQ(parser.response().body, "Wikipedia");
    EXPECT_TRUE(parser.keep_alive());
  }
}

TEST(ResponseParser, ReadsABodyUntilTheConnectionCloses) {
  ResponseParser parser;
  std::size_t consumed = 0;
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\n\r\npart one, ", consumed), SState::need_more);
  EXPECT_EQ(parser.feed("part two", consumed), SState::need_more);
  EXPECT_EQ(parser.finish(), SState::done);
  EXPECT_EQ(parser.response().body, "part one, part two");
  EXPECT_FALSE(parser.keep_alive());
}

TEST(ResponseParser, ReadsNoBodyForHeadAnd204And304) {
  ResponseParser parser;
  parser.set_request_method("HEAD");
  std::size_t consumed = 0;
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  EXPECT_EQ(parser.feed(head, consumed), SState::done);
  EXPECT_EQ(consumed, head.size());
  EXPECT_TRUE(parser.response().body.empty());
  EXPECT_EQ(parse_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").body, "");
}

TEST(ResponseParser, ReportsATruncatedBodyAtEndOfStream) {
  ResponseParser parser;
  std::size_t consumed = 0;
  EXPECT_EQ(parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", consumed), SState::need_more);
  EXPECT_EQ(parser.finish(), SState::error);
  EXPECT_NE(parser.error().find("3 of 10"), std::string::npos) << parser.error();
}

TEST(ResponseParser, ReportsEndOfStreamBeforeAnyResponse) {
  ResponseParser parser;
  EXPECT_EQ(parser.finish(), SState::error);
  EXPECT_FALSE(parser.started());
  EXPECT_NE(parser.error().find("before"), std::string::npos);
}

TEST(ResponseParser, RejectsMalformedStatusLines) {
  for (const std::string text : {"HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/3 200 OK\r\n\r\n", "SIP/2.0 200 OK\r\n\r\n",
                                 "HTTP/1.1 20\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n"}) {
    ResponseParser parser;
    std::size_t consumed = 0;
    EXPECT_EQ(parser.feed(text, consumed), SState::error) << text;
  }
}

TEST(ResponseParser, ParsesPipelinedResponsesInOrder) {
  const std::string text =
      "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nb";
  ResponseParser parser;
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed(text, consumed), SState::done);
  EXPECT_EQ(parser.response().body, "a");
  std::size_t offset = consumed;
  parser.reset();
  ASSERT_EQ(parser.feed(std::string_view(text).substr(offset), consumed), SState::done);
  EXPECT_EQ(parser.response().status, 201);
  EXPECT_EQ(offset + consumed, text.size());
}

TEST(Serialize, AddsContentLengthToARequestWithABody) {
  Request r;
  r.method = "POST";
  r.target = "/x";
  r.headers.push_back({"Host", "h"});
  r.body = "abc";
  EXPECT_EQ(serialize(r), "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
}

TEST(Serialize, KeepsAnExplicitContentLength) {
  Request r;
  r.headers.push_back({"Content-Length", "3"});
  r.body = "abc";
  EXPECT_EQ(serialize(r), "GET / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc");
}

TEST(Serialize, WritesResponsesThatTheParserReadsBack) {
  Response r = Response::json(201, R"({"ok":true})");
  auto bytes = serialize(r, false);
  EXPECT_NE(bytes.find("HTTP/1.1 201 Created\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("Connection: close\r\n"), std::string::npos);
  auto back = parse_response(bytes);
  EXPECT_EQ(back.status, 201);
  EXPECT_EQ(back.header("content-type"), "application/json");
  EXPECT_EQ(back.body, R"({"ok":true})");
}

TEST(Serialize, EncodesTheBodyWhenTheMessageSaysChunked) {
  Response r = Response::text(200, "hello");
  r.headers.push_back({"Transfer-Encoding", "chunked"});
  auto bytes = serialize(r, true);
  EXPECT_NE(bytes.find("\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), std::string::npos);
  EXPECT_EQ(bytes.find("Content-Length"), std::string::npos);
  EXPECT_EQ(parse_response(bytes).body, "hello");
}

TEST(Serialize, OmitsTheBodyOfA204) {
  Response r;
  r.status = 204;
  r.body = "ignored";
  EXPECT_EQ(serialize(r, true), "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST(ReasonPhrase, KnowsCommonCodesAndFallsBackByClass) {
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(299), "Success");
  EXPECT_EQ(reason_phrase(599), "Server Error");
}

TEST(SplitPath, SplitsAndDecodesEachPart) {
  EXPECT_EQ(split_path("/api/runs/a%2Fb/events"), (std::vector<std::string>{"api", "runs", "a/b", "events"}));
  EXPECT_EQ(split_path("//api//x/"), (std::vector<std::string>{"api", "x"}));
  EXPECT_TRUE(split_path("/").empty());
}

}  // namespace
}  // namespace chaosplus::net
