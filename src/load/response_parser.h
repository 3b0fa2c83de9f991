#pragma once
// An incremental HTTP/1.1 response parser for the load engine's hot path: it keeps no bytes and
// allocates nothing (unless asked to capture a response), takes input split anywhere, and reads
// only what the engine needs: status, keep-alive, and where the message ends (Content-Length,
// chunked through net/chunked_decoder.h, or connection close). The general parser in net/http_message.h builds every
// header as a string; this one is the fast path for millions of small responses.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/chunked_decoder.h"

namespace chaosplus::load {

// Where a captured response goes: the raw head (status line and header lines) and the body with
// any chunked framing removed. Used by scenario steps that extract values.
struct ResponseCapture {
  std::string head;
  std::string body;
  void clear() {
    head.clear();
    body.clear();
  }
};

class ResponseParser {
 public:
  enum class Status : std::uint8_t { need_more, done, error };

  // Consumes bytes of at most one response; `consumed` says how many were used (all of them on
  // need_more). After done, reset() before the next response; after error, the connection is
  // beyond repair.
  Status feed(const char* data, std::size_t size, std::size_t& consumed);
  // End of stream: completes a body delimited by the close, anything else unfinished is an error.
  Status finish();
  void reset();

  // The next response answers a HEAD request (it has no body whatever its headers say).
  void expect_no_body(bool no_body) { head_request_ = no_body; }
  // Copies head and body of the coming responses into `capture` (nullptr: stop capturing).
  void capture_into(ResponseCapture* capture) { capture_ = capture; }

  int status() const { return status_; }
  bool keep_alive() const { return keep_alive_; }
  bool started() const { return state_ != State::start; }
  std::uint64_t body_bytes() const { return body_bytes_; }
  const char* error() const { return error_ ? error_ : ""; }

  static constexpr std::size_t kMaxHeadBytes = 64 * 1024;

 private:
  enum class State : std::uint8_t {
    start,
    version,
    status_space,
    status_code,
    reason,
    line_lf,  // after a CR in the status or a header line
    header_line_start,
    header_name,
    header_value_space,
    header_value,
    head_end_lf,  // after the CR of the empty line
    body_fixed,
    body_until_close,
    chunked,  // the shared decoder has the body
    done,
    error,
  };
  enum class Known : std::uint8_t { none, content_length, transfer_encoding, connection };

  static Known known_header(std::string_view name);
  Status fail(const char* why);
  void start_header_value(Known header);
  void head_complete(bool& finished);
  void end_header_value();
  void reset_head();

  State state_ = State::start;
  State after_lf_ = State::header_line_start;
  Known header_ = Known::none;
  std::uint8_t name_candidates_ = 0;  // bit per known header name still matching
  std::uint8_t version_pos_ = 0;
  std::uint8_t token_pos_ = 0;    // position in the current list token
  std::uint8_t token_match_ = 0;  // bit per known token still matching
  std::uint16_t name_len_ = 0;
  bool head_request_ = false;
  bool http10_ = false;
  bool keep_alive_ = true;
  bool saw_close_ = false;
  bool saw_keep_alive_ = false;
  bool has_length_ = false;
  bool chunked_ = false;
  bool has_transfer_encoding_ = false;
  bool last_token_chunked_ = false;
  int status_ = 0;
  std::uint32_t head_bytes_ = 0;
  std::uint64_t content_length_ = 0;
  std::uint64_t remaining_ = 0;
  std::uint64_t body_bytes_ = 0;
  const char* error_ = nullptr;
  ResponseCapture* capture_ = nullptr;
  // Made at the first chunked response and kept for the connection's next ones: the engine holds
  // a parser per connection (a million of them), and most servers send Content-Length.
  std::unique_ptr<net::ChunkedDecoder> chunked_body_;
};

}  // namespace chaosplus::load
