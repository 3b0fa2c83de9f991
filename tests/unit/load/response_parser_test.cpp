#include "load/response_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaosplus::load {
namespace {

using Status = ResponseParser::Status;

struct Parsed {
  Status status = Status::need_more;
  std::size_t consumed = 0;
};

// Feeds `bytes` in pieces of `piece` bytes until the parser finishes one response.
Parsed feed_in_pieces(ResponseParser& parser, std::string_view bytes, std::size_t piece) {
  Parsed out;
  while (out.consumed < bytes.size()) {
    const std::size_t n = std::min(piece, bytes.size() - out.consumed);
    std::size_t used = 0;
    out.status = parser.feed(bytes.data() + out.consumed, n, used);
    out.consumed += used;
    if (out.status != Status::need_more) return out;
    EXPECT_EQ(used, n);
  }
  return out;
}

constexpr std::string_view kNginx =
    "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\nContent-Length: 6\r\nConnection: keep-alive\r\n\r\nhello\n";

TEST(ResponseParser, ParsesAContentLengthResponse) {
  ResponseParser p;
  auto r = feed_in_pieces(p, kNginx, 4096);
  EXPECT_EQ(r.status, Status::done);
  EXPECT_EQ(r.consumed, kNginx.size());
  EXPECT_EQ(p.status(), 200);
  EXPECT_TRUE(p.keep_alive());
  EXPECT_EQ(p.body_bytes(), 6u);
}

TEST(ResponseParser, GivesTheSameResultWhateverTheSplit) {
  for (std::size_t piece = 1; piece <= kNginx.size(); ++piece) {
    ResponseParser p;
    auto r = feed_in_pieces(p, kNginx, piece);
    ASSERT_EQ(r.status, Status::done) << piece;
    ASSERT_EQ(r.consumed, kNginx.size()) << piece;
    ASSERT_EQ(p.status(), 200);
    ASSERT_EQ(p.body_bytes(), 6u);
  }
}

TEST(ResponseParser, StopsAtTheEndOfOneOfSeveralPipelinedResponses) {
  const std::string two = std::string(kNginx) + "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
  ResponseParser p;
  std::size_t used = 0;
  ASSERT_EQ(p.feed(two.data(), two.size(), used), Status::done);
  EXPECT_EQ(used, kNginx.size());
  p.reset();
  std::size_t used2 = 0;
  ASSERT_EQ(p.feed(two.data() + used, two.size() - used, used2), Status::done);
  EXPECT_EQ(used + used2, two.size());
  EXPECT_EQ(p.status(), 404);
}

TEST(ResponseParser, ReadsChunkedBodiesWithExtensionsAndTrailers) {
  const std::string_view chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: 1\r\n\r\n";
  for (std::size_t piece : {1, 2, 3, 7, 1000}) {
    ResponseParser p;
    ResponseCapture capture;
    p.capture_into(&capture);
    auto r = feed_in_pieces(p, chunked, piece);
    ASSERT_EQ(r.status, Status::done) << piece;
    EXPECT_EQ(r.consumed, chunked.size());
    EXPECT_EQ(p.body_bytes(), 31u);
    EXPECT_EQ(capture.body, "helloabcdefghijklmnopqrstuvwxyz");
    EXPECT_TRUE(p.keep_alive());
  }
}

TEST(ResponseParser, CapturesTheHeadAndBody) {
  ResponseParser p;
  ResponseCapture capture;
  p.capture_into(&capture);
  ASSERT_EQ(feed_in_pieces(p, kNginx, 5).status, Status::done);
  EXPECT_EQ(capture.head, kNginx.substr(0, kNginx.size() - 6));
  EXPECT_EQ(capture.body, "hello\n");
}

TEST(ResponseParser, ConnectionCloseEndsKeepAlive) {
  ResponseParser p;
  auto r = feed_in_pieces(p, "HTTP/1.1 200 OK\r\nconnection: Close\r\ncontent-length: 2\r\n\r\nok", 100);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParser, ConnectionTokensAreMatchedWholeInAList) {
  ResponseParser p;
  ASSERT_EQ(
      feed_in_pieces(p, "HTTP/1.1 200 OK\r\nConnection: closed, upgrade\r\nContent-Length: 0\r\n\r\n", 100).status,
      Status::done);
  EXPECT_TRUE(p.keep_alive());
  ResponseParser q;
  ASSERT_EQ(
      feed_in_pieces(q, "HTTP/1.1 200 OK\r\nConnection: upgrade , close\r\nContent-Length: 0\r\n\r\n", 100).status,
      Status::done);
  EXPECT_FALSE(q.keep_alive());
}

TEST(ResponseParser, Http10NeedsKeepAliveToStayOpen) {
  ResponseParser p;
  ASSERT_EQ(feed_in_pieces(p, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 100).status, Status::done);
  EXPECT_FALSE(p.keep_alive());
  ResponseParser q;
  ASSERT_EQ(feed_in_pieces(q, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n", 100).status,
            Status::done);
  EXPECT_TRUE(q.keep_alive());
}

TEST(ResponseParser, ABodyWithoutLengthEndsWithTheConnection) {
  ResponseParser p;
  auto r = feed_in_pieces(p, "HTTP/1.1 200 OK\r\n\r\nsome bytes", 3);
  EXPECT_EQ(r.status, Status::need_more);
  EXPECT_EQ(p.finish(), Status::done);
  EXPECT_EQ(p.body_bytes(), 10u);
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseParser, NoBodyFor204And304AndHead) {
  for (std::string_view head : {"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
                                "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"}) {
    ResponseParser p;
    auto r = feed_in_pieces(p, head, 100);
    EXPECT_EQ(r.status, Status::done) << head;
    EXPECT_EQ(r.consumed, head.size());
  }
  ResponseParser p;
  p.expect_no_body(true);
  EXPECT_EQ(feed_in_pieces(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", 100).status, Status::done);
}

TEST(ResponseParser, SkipsInterimResponses) {
  ResponseParser p;
  auto r = feed_in_pieces(p, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx", 2);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(p.status(), 201);
}

TEST(ResponseParser, AcceptsBareLineFeeds) {
  ResponseParser p;
  auto r = feed_in_pieces(p, "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 100);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(p.body_bytes(), 2u);
}

TEST(ResponseParser, ClosingMidResponseIsAnError) {
  ResponseParser p;
  EXPECT_EQ(feed_in_pieces(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 100).status, Status::need_more);
  EXPECT_EQ(p.finish(), Status::error);
  EXPECT_STREQ(p.error(), "connection closed mid-response");
}

TEST(ResponseParser, ClosingBeforeAnyByteIsAnError) {
  ResponseParser p;
  EXPECT_FALSE(p.started());
  EXPECT_EQ(p.finish(), Status::error);
  EXPECT_STREQ(p.error(), "connection closed before a response");
}

TEST(ResponseParser, ResetMakesItReadyForTheNextResponse) {
  ResponseParser p;
  ASSERT_EQ(feed_in_pieces(p, "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 100).status,
            Status::done);
  p.reset();
  ASSERT_EQ(feed_in_pieces(p, kNginx, 100).status, Status::done);
  EXPECT_EQ(p.status(), 200);
  EXPECT_TRUE(p.keep_alive());
}

// Bad input: every case ends in an error with a reason, never a crash or a hang.
struct BadCase {
  const char* name;
  std::string_view bytes;
};

class ResponseParserRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(ResponseParserRejects, MalformedInput) {
  ResponseParser p;
  std::size_t used = 0;
  EXPECT_EQ(p.feed(GetParam().bytes.data(), GetParam().bytes.size(), used), Status::error);
  EXPECT_STRNE(p.error(), "");
}

INSTANTIATE_TEST_SUITE_P(
    BadResponses, ResponseParserRejects,
    ::testing::Values(
        BadCase{"NotHttp", "SSH-2.0-OpenSSH\r\n"}, BadCase{"Http2Version", "HTTP/2.0 200 OK\r\n"},
        BadCase{"TwoDigitStatus", "HTTP/1.1 20 OK\r\n"}, BadCase{"StatusTooHigh", "HTTP/1.1 600 X\r\n"},
        BadCase{"LettersInStatus", "HTTP/1.1 2x0 OK\r\n"}, BadCase{"CrWithoutLf", "HTTP/1.1 200 OK\rX"},
        BadCase{"SpaceInHeaderName", "HTTP/1.1 200 OK\r\nBad Name: x\r\n"},
        BadCase{"EmptyHeaderName", "HTTP/1.1 200 OK\r\n: x\r\n"},
        BadCase{"LengthNotANumber", "HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n"},
        BadCase{"LengthTwoNumbers", "HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n"},
        BadCase{"ConflictingLengths", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n"},
        BadCase{"HugeLength", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n"},
        BadCase{"BadChunkSize", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"},
        BadCase{"MissingChunkSize", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"},
        BadCase{"ChunkLongerThanSize", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n"},
        BadCase{"FoldWithoutHeader", "HTTP/1.1 200 OK\r\n folded\r\n"},
        BadCase{"BadTrailerName", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Name: 1\r\n\r\n"},
        BadCase{"ChunkSizePast64Bits", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n"}),
    [](const auto& test) { return std::string(test.param.name); });

TEST(ResponseParser, RejectsAHeadLargerThanTheLimit) {
  std::string huge = "HTTP/1.1 200 OK\r\n";
  while (huge.size() <= ResponseParser::kMaxHeadBytes) huge += "X-Filler: 0123456789abcdef0123456789abcdef\r\n";
  ResponseParser p;
  std::size_t used = 0;
  EXPECT_EQ(p.feed(huge.data(), huge.size(), used), Status::error);
  EXPECT_STREQ(p.error(), "response head too large");
}

// Lines that lie whole in one read take a faster path than lines split across reads: both must
// reach the same verdict, fields, captured bytes and error.
TEST(ResponseParser, WholeBuffersAndSingleBytesAgree) {
  const std::vector<std::string> cases = {
      std::string(kNginx),
      "HTTP/1.1 200 OK\r\nCONTENT-LENGTH:3\r\nCONNECTION:  Close\r\n\r\nabc",
      "HTTP/1.1 201 Created\r\ncontent-length: \t 2\r\nX-Long-Name-Header: v\r\n\r\nok",
      "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nz",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\nServer: x\nContent-Length: 0\n\n",
      "HTTP/1.1 200 OK\r\nConnection-Extra: close\r\nContent-Lengthy: 9\r\nContent-Length: 1\r\n\r\nq",
      "HTTP/1.1 200 OK\r\nX: a\r\n  folded close\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\nX:\rY\r\n\r\n",
      "HTTP/1.1 200 OK\r\n:empty\r\n\r\n",
      "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
      "HTTP/1.1 200\r\nTransfer-Encoding: CHUNKED\r\n\r\n1\r\na\r\n0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunkedx\r\n\r\nrest",
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: close\nContent-Length: 0\n\n",
      "HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: close \r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: close\rX\r\n\r\n",
      "HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\nContent-Length: 1\n\nx",
      "HTTP/1.1 600 Too High\r\n\r\n",
      "HTTP/1.2 200 OK\r\n\r\n",
      "HTTP/1.1 2000 OK\r\n\r\n",
  };
  for (const auto& bytes : cases) {
    ResponseParser whole, bytewise;
    ResponseCapture whole_capture, bytewise_capture;
    whole.capture_into(&whole_capture);
    bytewise.capture_into(&bytewise_capture);
    const auto a = feed_in_pieces(whole, bytes, bytes.size());
    const auto b = feed_in_pieces(bytewise, bytes, 1);
    SCOPED_TRACE(bytes);
    EXPECT_EQ(a.status, b.status);
    EXPECT_EQ(whole.status(), bytewise.status());
    EXPECT_EQ(whole.keep_alive(), bytewise.keep_alive());
    EXPECT_EQ(whole.body_bytes(), bytewise.body_bytes());
    EXPECT_STREQ(whole.error(), bytewise.error());
    if (a.status != Status::error) {
      EXPECT_EQ(a.consumed, b.consumed);
      EXPECT_EQ(whole_capture.head, bytewise_capture.head);
      EXPECT_EQ(whole_capture.body, bytewise_capture.body);
    }
  }
}

TEST(ResponseParser, LengthWithTrailingSpaceIsAccepted) {
  ResponseParser p;
  auto r = feed_in_pieces(p, "HTTP/1.1 200 OK\r\nContent-Length: 2  \r\n\r\nok", 100);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(p.body_bytes(), 2u);
}

}  // namespace
}  // namespace chaosplus::load
