#pragma once
// Where HTTP/1.x messages begin and end in a proxied byte stream. Unlike net::RequestParser it
// keeps no body: it reads a head (bounded), then only counts body bytes (Content-Length, or
// chunked through net/chunked_decoder.h) as they pass, so framing a stream costs at most one head of memory. Whatever
// it cannot frame with certainty (not HTTP/1.x, conflicting lengths, an oversized head) makes it give up for good: the
// stream is "opaque" from then on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/chunked_decoder.h"

namespace chaosplus::proxy {

enum class BodyKind : std::uint8_t {
  none,         // no body (GET without length, HEAD responses, 1xx, 204, 304)
  length,       // Content-Length bytes
  chunked,      // Transfer-Encoding: chunked, up to the last chunk and trailers
  until_close,  // a response that ends when the server closes
};

// What a head says, as far as the proxy needs it.
struct MessageHead {
  std::string method;  // request: as sent; response: the method of the request it answers
  std::string target;  // request only
  int status = 0;      // response only
  int minor_version = 1;
  bool close = false;            // the sender ends the connection after this message
  bool expect_continue = false;  // request: "Expect: 100-continue"
  BodyKind body = BodyKind::none;
  std::uint64_t length = 0;  // BodyKind::length
  // A response after which the connection stops speaking HTTP (101, or 2xx to CONNECT).
  bool tunnel = false;

  bool interim() const { return status >= 100 && status < 200 && status != 101; }
};

class HttpFramer {
 public:
  enum class Role : std::uint8_t { request, response };

  struct Progress {
    std::size_t consumed = 0;   // bytes of the input that belong to the current message
    bool head_done = false;     // the head ended at `consumed`; head() describes it
    bool message_done = false;  // the message ended at `consumed`; the next byte starts a new one
    bool opaque = false;        // not HTTP as far as the framer can tell: consumed is 0, for good
  };

  explicit HttpFramer(Role role, std::size_t max_head = 64 * 1024);

  // Response role: the method of the request the next response answers (HEAD and CONNECT
  // change how its body is framed). Call before the response's first byte.
  void expect_response_to(std::string_view method);

  // Consumes bytes up to the end of the head or of the message, whichever comes first; feed
  // the rest again. On head_done the framer stops so that the caller can act before the body.
  Progress feed(std::string_view bytes);
  // The stream ended: true if that completes the current message (a body that runs until the
  // close) or no message had begun; false if a message was cut short.
  bool finish();

  const MessageHead& head() const { return head_; }
  bool idle() const { return state_ == State::idle; }  // no byte of the next message seen yet
  bool in_head() const { return state_ == State::head; }
  bool opaque() const { return state_ == State::opaque; }
  // Bytes of the current body as sent (chunk framing included).
  std::uint64_t body_bytes() const { return body_bytes_; }
  const std::string& why_opaque() const { return why_; }
  // Gives up on purpose (e.g. the other direction turned into a tunnel).
  void make_opaque(std::string why);

 private:
  enum class State : std::uint8_t { idle, head, body, opaque };

  Progress fail(std::string why);
  Progress feed_head(std::string_view bytes);
  Progress feed_body(std::string_view bytes);
  Progress feed_chunked(std::string_view bytes);
  bool start_line(std::string_view line);
  bool header_line(std::string_view line);
  bool end_of_head();
  void next_message();

  Role role_;
  std::size_t max_head_;
  State state_ = State::idle;
  MessageHead head_;
  std::string line_;           // the head line being read
  std::size_t head_size_ = 0;  // bytes of the head so far
  bool first_line_done_ = false;
  bool saw_length_ = false;
  bool saw_transfer_encoding_ = false;
  bool chunked_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  std::string request_method_;   // response role
  std::uint64_t remaining_ = 0;  // body bytes (length)
  std::uint64_t body_bytes_ = 0;
  net::ChunkedDecoder chunked_body_;
  std::string why_;
};

// The path of a request target, for matching: "/a/b?x=1" -> "/a/b", "http://h:1/a?x" -> "/a",
// "http://h" -> "/", "*" -> "*"; an authority (CONNECT) stays as it is. No percent-decoding.
std::string_view request_path(std::string_view target);

}  // namespace chaosplus::proxy
