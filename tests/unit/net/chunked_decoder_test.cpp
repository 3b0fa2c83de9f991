#include "net/chunked_decoder.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace chaosplus::net {
namespace {

using Status = ChunkedDecoder::Status;
using Error = ChunkedDecoder::Error;

struct Decoded {
  Status status = Status::need_more;
  std::size_t consumed = 0;
  std::string body;
  Error error = Error::none;
  std::string why;
};

// Feeds `text` in pieces of `piece` bytes, as a socket would hand them over.
Decoded decode(std::string_view text, std::size_t piece = 1 << 20, ChunkedLimits limits = {}) {
  ChunkedDecoder decoder(limits);
  Decoded out;
  while (out.consumed < text.size()) {
    std::size_t used = 0;
    out.status = decoder.feed(text.substr(out.consumed, piece), used, &out.body);
    out.consumed += used;
    if (out.status != Status::need_more) break;
  }
  EXPECT_EQ(decoder.body_bytes(), out.body.size());
  out.error = decoder.error_kind();
  out.why = decoder.error();
  return out;
}

// Feeds `text` split in two at `cut`.
Decoded decode_split_at(std::string_view text, std::size_t cut) {
  ChunkedDecoder decoder;
  Decoded out;
  std::size_t used = 0;
  out.status = decoder.feed(text.substr(0, cut), used, &out.body);
  out.consumed = used;
  if (out.status == Status::need_more) {
    EXPECT_EQ(used, cut);
    out.status = decoder.feed(text.substr(cut), used, &out.body);
    out.consumed += used;
  }
  out.error = decoder.error_kind();
  return out;
}

constexpr std::string_view kWiki = "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n";

TEST(ChunkedDecoder, DecodesTheRfcExample) {
  auto d = decode(kWiki);
  ASSERT_EQ(d.status, Status::done) << d.why;
  EXPECT_EQ(d.consumed, kWiki.size());
  EXPECT_EQ(d.body, "Wikipedia in\r\n\r\nchunks.");
}

TEST(ChunkedDecoder, GivesTheSameResultWhereverTheInputIsSplit) {
  for (std::size_t cut = 0; cut <= kWiki.size(); ++cut) {
    auto d = decode_split_at(kWiki, cut);
    ASSERT_EQ(d.status, Status::done) << "cut at " << cut;
    EXPECT_EQ(d.consumed, kWiki.size()) << cut;
    EXPECT_EQ(d.body, "Wikipedia in\r\n\r\nchunks.") << cut;
  }
}

TEST(ChunkedDecoder, GivesTheSameResultFedOneByteAtATime) {
  const std::string text = "3;a=b\r\nabc\r\n1a\r\n" + std::string(26, 'x') + "\r\n0;last\r\nX-Sum: 1\r\nY: 2\r\n\r\n";
  for (std::size_t piece : {1, 2, 3, 5, 7, 64}) {
    auto d = decode(text, piece);
    ASSERT_EQ(d.status, Status::done) << piece << ": " << d.why;
    EXPECT_EQ(d.consumed, text.size());
    EXPECT_EQ(d.body, "abc" + std::string(26, 'x'));
  }
}

TEST(ChunkedDecoder, ReadsHexSizesInUpperAndLowerCaseWithLeadingZeros) {
  for (const char* size : {"1a", "1A", "001a", "001A"}) {
    const std::string text = std::string(size) + "\r\n" + std::string(26, 'q') + "\r\n0\r\n\r\n";
    auto d = decode(text);
    ASSERT_EQ(d.status, Status::done) << size;
    EXPECT_EQ(d.body.size(), 26u) << size;
  }
  auto big = decode("aBcD\r\n");
  EXPECT_EQ(big.status, Status::need_more);
}

TEST(ChunkedDecoder, SkipsChunkExtensionsAndSpacesAfterTheSize) {
  auto d = decode("3 ;name=value;quoted=\"a b\"\r\nabc\r\n2\t;x\r\nde\r\n0 ; end\r\n\r\n");
  ASSERT_EQ(d.status, Status::done) << d.why;
  EXPECT_EQ(d.body, "abcde");
}

TEST(ChunkedDecoder, ChecksAndDropsTrailerFields) {
  const std::string_view text = "2\r\nok\r\n0\r\nX-Checksum: abc\r\nX-Other:\t1 2\r\n\r\nGET /next";
  auto d = decode(text);
  ASSERT_EQ(d.status, Status::done) << d.why;
  EXPECT_EQ(d.body, "ok");
  EXPECT_EQ(d.consumed, text.find("GET"));  // what follows the body is not consumed
}

TEST(ChunkedDecoder, AZeroChunkWithTrailersEndsTheBodyAtTheEmptyLine) {
  const std::string_view text = "0\r\nExpires: never\r\n\r\n";
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    auto d = decode_split_at(text, cut);
    ASSERT_EQ(d.status, Status::done) << cut;
    EXPECT_EQ(d.consumed, text.size()) << cut;
    EXPECT_TRUE(d.body.empty());
  }
}

TEST(ChunkedDecoder, AcceptsBareLineFeeds) {
  auto d = decode("3\nabc\n0\nT: 1\n\n");
  ASSERT_EQ(d.status, Status::done) << d.why;
  EXPECT_EQ(d.body, "abc");
}

TEST(ChunkedDecoder, NeedsMoreUntilTheLastEmptyLine) {
  for (std::string_view partial :
       {"", "3", "3\r", "3\r\nab", "3\r\nabc\r\n", "3\r\nabc\r\n0\r\n", "0\r\nX: 1\r\n", "0\r\n\r"}) {
    auto d = decode(partial);
    EXPECT_EQ(d.status, Status::need_more) << partial;
    EXPECT_EQ(d.consumed, partial.size()) << partial;
  }
}

TEST(ChunkedDecoder, RejectsInvalidCharacters) {
  for (std::string_view bad : {
           "zz\r\n",                    // not hex
           "\r\n",                      // no size
           ";ext\r\n",                  // extension without a size
           "-1\r\n",                    // sign
           "0x10\r\n",                  // a C prefix
           "1 2\r\n",                   // space inside the size
           "3\rabc",                    // CR without LF
           "3;a\x01\r\n",               // control character in an extension
           "3\r\nabcX\r\n",             // data longer than the size
           "3\r\nabc\rX",               // CR without LF after the data
           "0\r\n: v\r\n\r\n",          // trailer without a name
           "0\r\nBad Name: v\r\n\r\n",  // space in a trailer name
           "0\r\n folded\r\n\r\n",      // obsolete line folding
           "0\r\nX: a\x7f\r\n\r\n",     // DEL in a trailer value
           "0\r\nX: 1\rY\r\n\r\n",      // CR without LF in a trailer
           "0\r\n\rX",                  // CR without LF at the end
       }) {
    auto d = decode(bad);
    EXPECT_EQ(d.status, Status::error) << bad;
    EXPECT_EQ(d.error, Error::malformed) << bad;
    EXPECT_FALSE(d.why.empty()) << bad;
  }
}

TEST(ChunkedDecoder, RejectsAChunkSizeThatDoesNotFitIn64Bits) {
  auto fits = decode("ffffffffffffffff\r\n");  // 2^64 - 1: legal, just too much to ever arrive
  EXPECT_EQ(fits.status, Status::need_more);
  for (std::string_view size : {"10000000000000000\r\n", "fffffffffffffffff\r\n", "ffffffffffffffffffffffff\r\n"}) {
    auto d = decode(size);
    EXPECT_EQ(d.status, Status::error) << size;
    EXPECT_EQ(d.error, Error::body_too_large) << size;
  }
}

TEST(ChunkedDecoder, RejectsABodyPastTheLimitBeforeItsDataArrives) {
  const ChunkedLimits limits{.max_body = 16};
  auto fits = decode("10\r\n" + std::string(16, 'a') + "\r\n0\r\n\r\n", 1 << 20, limits);
  EXPECT_EQ(fits.status, Status::done);
  auto over = decode("10\r\n" + std::string(16, 'a') + "\r\n1\r\n", 1 << 20, limits);
  EXPECT_EQ(over.status, Status::error);
  EXPECT_EQ(over.error, Error::body_too_large);
  auto at_once = decode("11\r\n", 1 << 20, limits);
  EXPECT_EQ(at_once.error, Error::body_too_large);
}

TEST(ChunkedDecoder, BoundsTheSizeLineAndTheTrailers) {
  const ChunkedLimits limits{.max_line = 16, .max_trailers = 32};
  EXPECT_EQ(decode("1;" + std::string(12, 'e') + "\r\n", 1 << 20, limits).status, Status::need_more);  // 16 bytes
  auto long_line = decode("1;" + std::string(13, 'e') + "\r\n", 1 << 20, limits);
  EXPECT_EQ(long_line.status, Status::error);
  EXPECT_EQ(long_line.error, Error::malformed);
  auto zeros = decode(std::string(100, '0') + "1\r\n", 1 << 20, limits);
  EXPECT_EQ(zeros.status, Status::error);
  EXPECT_EQ(decode("0\r\nX: " + std::string(25, 'v') + "\r\n\r\n", 1 << 20, limits).status, Status::done);  // 32
  auto trailers = decode("0\r\nX: " + std::string(26, 'v') + "\r\n\r\n", 1 << 20, limits);
  EXPECT_EQ(trailers.status, Status::error);
  EXPECT_EQ(trailers.error, Error::trailers_too_large);
}

TEST(ChunkedDecoder, StopsAtTheEndOfTheBodyAndStaysDoneUntilReset) {
  ChunkedDecoder decoder;
  std::size_t used = 0;
  ASSERT_EQ(decoder.feed("0\r\n\r\n0\r\n\r\n", used), Status::done);
  EXPECT_EQ(used, 5u);
  EXPECT_EQ(decoder.feed("0\r\n\r\n", used), Status::done);
  EXPECT_EQ(used, 0u);
  decoder.reset();
  EXPECT_FALSE(decoder.started());
  EXPECT_EQ(decoder.feed("1\r\n", used), Status::need_more);
  EXPECT_TRUE(decoder.started());
}

TEST(ChunkedDecoder, CountsBodyBytesWithoutABodyString) {
  ChunkedDecoder decoder;
  std::size_t used = 0;
  ASSERT_EQ(decoder.feed(kWiki, used), Status::done);
  EXPECT_EQ(decoder.body_bytes(), 23u);
}

TEST(ChunkedDecoder, StaysFailedAfterAnError) {
  ChunkedDecoder decoder;
  std::size_t used = 0;
  ASSERT_EQ(decoder.feed("zz", used), Status::error);
  EXPECT_TRUE(decoder.failed());
  EXPECT_EQ(decoder.feed("0\r\n\r\n", used), Status::error);
  EXPECT_EQ(used, 0u);
  decoder.reset();
  EXPECT_EQ(decoder.feed("0\r\n\r\n", used), Status::done);
}

}  // namespace
}  // namespace chaosplus::net
