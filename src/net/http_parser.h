#pragma once
// Incremental HTTP/1.1 parsers for both directions. They accept bytes split anywhere and several
// pipelined messages in one buffer; every size is bounded, and bad input ends in State::error
// with a reason, never a crash. Chunked bodies go through net/chunked_decoder.h.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "net/http_message.h"

namespace chaosplus::net {

struct ParserLimits {
  std::size_t max_start_line = 8 * 1024;
  std::size_t max_header_bytes = 64 * 1024;  // all header lines together
  std::size_t max_headers = 100;
  std::size_t max_body = 8 * 1024 * 1024;
};

// Why a parser stopped: lets the server pick 413/431 instead of a plain 400.
enum class ParseError { none, malformed, start_line_too_long, headers_too_large, body_too_large };

namespace detail {
class MessageParser;  // shared machinery of both parsers (http_parser.cpp)
}

class RequestParser {
 public:
  enum class State { need_more, done, error };
  explicit RequestParser(ParserLimits limits = {});
  ~RequestParser();
  RequestParser(RequestParser&&) noexcept;
  RequestParser& operator=(RequestParser&&) noexcept;

  // Consumes at most one message; `consumed` says how many bytes of `bytes` were used (on
  // need_more, all of them). After done or error, call reset() before feeding the next message.
  State feed(std::string_view bytes, std::size_t& consumed);
  const Request& request() const;
  bool keep_alive() const;  // HTTP/1.1 default on, "Connection: close" off; HTTP/1.0 needs keep-alive
  const std::string& error() const;
  ParseError error_kind() const;
  bool started() const;           // some bytes of a message were received (an idle connection has none)
  bool headers_complete() const;  // the head is parsed: request() has method, target and headers
  void reset();

 private:
  std::unique_ptr<detail::MessageParser> impl_;
};

class ResponseParser {
 public:
  enum class State { need_more, done, error };
  explicit ResponseParser(ParserLimits limits = {});
  ~ResponseParser();
  ResponseParser(ResponseParser&&) noexcept;
  ResponseParser& operator=(ResponseParser&&) noexcept;

  State feed(std::string_view bytes, std::size_t& consumed);
  const Response& response() const;
  bool keep_alive() const;
  const std::string& error() const;
  ParseError error_kind() const;
  bool started() const;
  bool headers_complete() const;
  void set_request_method(std::string_view method);  // HEAD => no body
  // End of stream: completes a body that is delimited by the connection closing; anything else
  // unfinished becomes an error.
  State finish();
  void reset();  // keeps the request method

 private:
  std::unique_ptr<detail::MessageParser> impl_;
};

}  // namespace chaosplus::net
