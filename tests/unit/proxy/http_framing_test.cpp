#include "proxy/http_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace chaosplus::proxy {
namespace {

using Role = HttpFramer::Role;

// What a framer made of a stream fed in pieces of `piece` bytes.
struct Framed {
  std::vector<std::size_t> head_ends;     // stream offsets where heads ended
  std::vector<std::size_t> message_ends;  // stream offsets where messages ended
  std::vector<MessageHead> heads;
  bool opaque = false;
};

Framed frame(HttpFramer& framer, std::string_view stream, std::size_t piece = 1,
             const std::vector<std::string>& methods = {}) {
  Framed out;
  std::size_t offset = 0;
  std::size_t next_method = 0;
  while (offset < stream.size()) {
    if (framer.idle() && next_method < methods.size()) framer.expect_response_to(methods[next_method]);
    std::string_view bytes = stream.substr(offset, std::min(piece, stream.size() - offset));
    while (!bytes.empty()) {
      if (framer.idle() && next_method < methods.size()) framer.expect_response_to(methods[next_method]);
      auto progress = framer.feed(bytes);
      if (progress.opaque) {
        out.opaque = true;
        return out;
      }
      EXPECT_GT(progress.consumed, 0u);
      offset += progress.consumed;
      bytes.remove_prefix(progress.consumed);
      if (progress.head_done) {
        out.head_ends.push_back(offset);
        out.heads.push_back(framer.head());
      }
      if (progress.message_done) {
        out.message_ends.push_back(offset);
        if (!framer.head().interim()) ++next_method;
      }
    }
  }
  return out;
}

Framed frame_requests(std::string_view stream, std::size_t piece = 1) {
  HttpFramer framer(Role::request);
  return frame(framer, stream, piece);
}

TEST(HttpFramer, ARequestWithContentLengthEndsAfterItsBodyWhereverTheBytesAreSplit) {
  const std::string request = "POST /orders HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
  for (std::size_t piece : {1u, 2u, 7u, 1000u}) {
    Framed framed = frame_requests(request, piece);
    ASSERT_EQ(framed.message_ends.size(), 1u) << piece;
    EXPECT_EQ(framed.message_ends[0], request.size());
    EXPECT_EQ(framed.head_ends[0], request.size() - 5);
    EXPECT_EQ(framed.heads[0].method, "POST");
    EXPECT_EQ(framed.heads[0].target, "/orders");
    EXPECT_EQ(framed.heads[0].body, BodyKind::length);
  }
}

TEST(HttpFramer, PipelinedRequestsAreFramedOneByOne) {
  const std::string a = "GET /a HTTP/1.1\r\n\r\n";
  const std::string b = "POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz";
  const std::string c = "DELETE /c HTTP/1.1\r\n\r\n";
  Framed framed = frame_requests(a + b + c, 4096);
  ASSERT_EQ(framed.message_ends.size(), 3u);
  EXPECT_EQ(framed.message_ends[0], a.size());
  EXPECT_EQ(framed.message_ends[1], a.size() + b.size());
  EXPECT_EQ(framed.message_ends[2], a.size() + b.size() + c.size());
  EXPECT_EQ(framed.heads[2].method, "DELETE");
}

TEST(HttpFramer, AChunkedBodyEndsAfterTheLastChunkAndItsTrailers) {
  const std::string request =
      "POST /up HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n";
  const std::string next = "GET /next HTTP/1.1\r\n\r\n";
  for (std::size_t piece : {1u, 3u, 4096u}) {
    HttpFramer framer(Role::request);
    Framed framed = frame(framer, request + next, piece);
    ASSERT_EQ(framed.message_ends.size(), 2u) << piece;
    EXPECT_EQ(framed.message_ends[0], request.size());
    EXPECT_EQ(framed.heads[0].body, BodyKind::chunked);
    EXPECT_EQ(framed.heads[1].target, "/next");
  }
}

TEST(HttpFramer, CountsTheBodyAsSentWithChunkFramingIncluded) {
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = "3\r\nabc\r\n0\r\n\r\n";
  HttpFramer framer(Role::response);
  framer.expect_response_to("GET");
  Framed framed = frame(framer, head + body, 4096);
  ASSERT_EQ(framed.message_ends.size(), 1u);
  EXPECT_EQ(framer.body_bytes(), body.size());
}

TEST(HttpFramer, ARequestWithoutLengthHasNoBody) {
  Framed framed = frame_requests("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 4096);
  ASSERT_EQ(framed.message_ends.size(), 1u);
  EXPECT_EQ(framed.head_ends[0], framed.message_ends[0]);
  EXPECT_EQ(framed.heads[0].body, BodyKind::none);
}

TEST(HttpFramer, EmptyLinesBeforeARequestAreTolerated) {
  Framed framed = frame_requests("\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(framed.message_ends.size(), 1u);
  EXPECT_FALSE(framed.opaque);
}

TEST(HttpFramer, NotesConnectionCloseAndHttp10WithoutKeepAlive) {
  Framed framed = frame_requests(
      "GET /1 HTTP/1.1\r\nConnection: close\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"
      "GET /3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /4 HTTP/1.1\r\n\r\n",
      4096);
  ASSERT_EQ(framed.heads.size(), 4u);
  EXPECT_TRUE(framed.heads[0].close);
  EXPECT_TRUE(framed.heads[1].close);
  EXPECT_FALSE(framed.heads[2].close);
  EXPECT_FALSE(framed.heads[3].close);
}

TEST(HttpFramer, NotesExpectContinue) {
  Framed framed = frame_requests("PUT /f HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx", 4096);
  ASSERT_EQ(framed.heads.size(), 1u);
  EXPECT_TRUE(framed.heads[0].expect_continue);
}

TEST(HttpFramer, AResponseToHeadHasNoBodyWhateverItsLengthSays) {
  const std::string head_response = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  const std::string get_response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  HttpFramer framer(Role::response);
  Framed framed = frame(framer, head_response + get_response, 1, {"HEAD", "GET"});
  ASSERT_EQ(framed.message_ends.size(), 2u);
  EXPECT_EQ(framed.message_ends[0], head_response.size());
  EXPECT_EQ(framed.message_ends[1], head_response.size() + get_response.size());
}

TEST(HttpFramer, AnInterimResponseIsAMessageOfItsOwnBeforeTheFinalOne) {
  const std::string interim = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string final_response = "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
  HttpFramer framer(Role::response);
  Framed framed = frame(framer, interim + final_response, 4096, {"PUT"});
  ASSERT_EQ(framed.heads.size(), 2u);
  EXPECT_TRUE(framed.heads[0].interim());
  EXPECT_EQ(framed.heads[1].status, 201);
  EXPECT_EQ(framed.message_ends.back(), interim.size() + final_response.size());
}

TEST(HttpFramer, NoContentAndNotModifiedHaveNoBody) {
  const std::string stream =
      "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200 OK\r\n"
      "Content-Length: 1\r\n\r\nx";
  HttpFramer framer(Role::response);
  Framed framed = frame(framer, stream, 4096, {"GET", "GET", "GET"});
  ASSERT_EQ(framed.message_ends.size(), 3u);
  EXPECT_EQ(framed.message_ends.back(), stream.size());
}

TEST(HttpFramer, AResponseWithoutLengthRunsUntilTheServerCloses) {
  HttpFramer framer(Role::response);
  framer.expect_response_to("GET");
  Framed framed = frame(framer, "HTTP/1.0 200 OK\r\n\r\nall of this is body", 4096);
  EXPECT_TRUE(framed.message_ends.empty());
  ASSERT_EQ(framed.heads.size(), 1u);
  EXPECT_EQ(framed.heads[0].body, BodyKind::until_close);
  EXPECT_TRUE(framer.finish());
  EXPECT_TRUE(framer.idle());
}

TEST(HttpFramer, FinishingInTheMiddleOfAKnownLengthIsNotAComplete) {
  HttpFramer framer(Role::response);
  framer.expect_response_to("GET");
  frame(framer, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 4096);
  EXPECT_FALSE(framer.finish());
}

TEST(HttpFramer, SwitchingProtocolsAndConnectSuccessAreTunnels) {
  HttpFramer upgrade(Role::response);
  Framed a = frame(upgrade, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 4096, {"GET"});
  ASSERT_EQ(a.heads.size(), 1u);
  EXPECT_TRUE(a.heads[0].tunnel);
  EXPECT_EQ(a.message_ends.size(), 1u);
  HttpFramer connect(Role::response);
  Framed b = frame(connect, "HTTP/1.1 200 Connection established\r\n\r\n", 4096, {"CONNECT"});
  ASSERT_EQ(b.heads.size(), 1u);
  EXPECT_TRUE(b.heads[0].tunnel);
}

TEST(HttpFramer, BinaryBytesAreOpaqueAtTheFirstByte) {
  HttpFramer framer(Role::request);
  auto progress = framer.feed(std::string_view("\x16\x03\x01\x02\x00", 5));
  EXPECT_TRUE(progress.opaque);
  EXPECT_EQ(progress.consumed, 0u);
  EXPECT_TRUE(framer.opaque());
  EXPECT_TRUE(framer.feed("GET / HTTP/1.1\r\n\r\n").opaque);  // for good
}

TEST(HttpFramer, AServerFirstGreetingIsNotAResponse) {
  HttpFramer framer(Role::response);
  EXPECT_TRUE(framer.feed("220 smtp.example ESMTP\r\n").opaque);
}

TEST(HttpFramer, Http2PriorKnowledgeIsOpaque) {
  EXPECT_TRUE(frame_requests("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 4096).opaque);
}

TEST(HttpFramer, ATextProtocolWithoutAVersionIsOpaqueAtItsFirstLine) {
  EXPECT_TRUE(frame_requests("*1\r\n$4\r\nPING\r\n", 4096).opaque);
  EXPECT_TRUE(frame_requests("get some-key\r\n", 4096).opaque);
}

TEST(HttpFramer, ConflictingContentLengthsAreOpaque) {
  EXPECT_TRUE(frame_requests("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 4096).opaque);
  EXPECT_FALSE(frame_requests("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", 4096).opaque);
}

TEST(HttpFramer, ARequestWhoseLastCodingIsNotChunkedIsOpaque) {
  EXPECT_TRUE(frame_requests("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx", 4096).opaque);
}

TEST(HttpFramer, ObsoleteLineFoldingIsOpaque) {
  EXPECT_TRUE(frame_requests("GET / HTTP/1.1\r\nX-A: 1\r\n  continued\r\n\r\n", 4096).opaque);
}

TEST(HttpFramer, AnInvalidChunkSizeIsOpaque) {
  EXPECT_TRUE(frame_requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 4096).opaque);
}

TEST(HttpFramer, AMalformedChunkedTrailerIsOpaque) {
  EXPECT_TRUE(
      frame_requests("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Name: 1\r\n\r\n", 4096).opaque);
}

TEST(HttpFramer, ChunkedTrailersLargerThanAHeadAreOpaque) {
  const std::string trailer = "X-Pad: " + std::string(2000, 'p') + "\r\n";
  HttpFramer framer(Role::request, 1024);
  Framed framed = frame(framer, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n" + trailer + "\r\n", 4096);
  EXPECT_TRUE(framed.opaque);
  EXPECT_NE(framer.why_opaque().find("trailers"), std::string::npos) << framer.why_opaque();
}

TEST(HttpFramer, AHeadLargerThanTheLimitIsOpaque) {
  HttpFramer framer(Role::request, 1024);
  std::string request = "GET / HTTP/1.1\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n";
  EXPECT_TRUE(frame(framer, request, 100).opaque);
}

TEST(RequestPath, DropsTheQueryAndTheSchemeAndHost) {
  EXPECT_EQ(request_path("/orders?id=1"), "/orders");
  EXPECT_EQ(request_path("/orders#x"), "/orders");
  EXPECT_EQ(request_path("http://shop:8080/orders/7?x=1"), "/orders/7");
  EXPECT_EQ(request_path("http://shop"), "/");
  EXPECT_EQ(request_path("*"), "*");
  EXPECT_EQ(request_path("shop:443"), "shop:443");
}

}  // namespace
}  // namespace chaosplus::proxy
