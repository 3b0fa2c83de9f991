#include "net/http_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "net/chunked_decoder.h"
#include "net/http_fields.h"
#include "net/http_token.h"

namespace chaosplus::net {

namespace {

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

// Control characters other than tab are never legal inside a header value.
bool is_valid_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

bool has_connection_token(const std::vector<Header>& headers, std::string_view token) {
  bool found = false;
  for_each_list_element(headers, "Connection", [&](std::string_view t) { found = found || iequals(t, token); });
  return found;
}

// "HTTP/1.0" or "HTTP/1.1" -> minor version; -1 for anything else.
int http1_minor_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 7) != "HTTP/1.") return -1;
  if (v[7] != '0' && v[7] != '1') return -1;
  return v[7] - '0';
}

}  // namespace

// The parser: a byte-driven state machine shared by requests and responses. Lines are gathered
// until '\n' (bare LF tolerated, a stray CR is not); bodies are copied in as much as is available.

namespace detail {

class MessageParser {
 public:
  enum class Kind { request, response };
  enum class Result { need_more, done, error };

  MessageParser(Kind kind, ParserLimits limits) : kind_(kind), limits_(limits) {}

  Request request;
  Response response;
  std::string request_method;  // for responses: the method of the request they answer

  Result feed(std::string_view in, std::size_t& consumed) {
    consumed = 0;
    while (true) {
      if (phase_ == Phase::done) return Result::done;
      if (phase_ == Phase::error) return Result::error;
      if (consumed == in.size()) return Result::need_more;
      std::string_view rest = in.substr(consumed);
      started_ = true;
      switch (phase_) {
        case Phase::start_line:
        case Phase::headers: consumed += take_line(rest); break;
        case Phase::chunked: consumed += take_chunked(rest); break;
        case Phase::body_length: {
          std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
          body().append(rest.data(), take);
          consumed += take;
          remaining_ -= take;
          if (remaining_ == 0) phase_ = Phase::done;
          break;
        }
        case Phase::body_until_close:
          if (body().size() + rest.size() > limits_.max_body) {
            fail(ParseError::body_too_large, "body larger than " + std::to_string(limits_.max_body) + " bytes");
            break;
          }
          body().append(rest);
          consumed += rest.size();
          break;
        case Phase::done:
        case Phase::error: break;
      }
    }
  }

  Result finish() {
    switch (phase_) {
      case Phase::done: return Result::done;
      case Phase::error: return Result::error;
      case Phase::body_until_close: phase_ = Phase::done; return Result::done;
      case Phase::start_line:
        fail(ParseError::malformed, line_.empty() ? "connection closed before a message was received"
                                                  : "connection closed in the middle of the start line");
        break;
      case Phase::headers: fail(ParseError::malformed, "connection closed in the middle of the headers"); break;
      case Phase::body_length:
        fail(ParseError::malformed, "connection closed after " + std::to_string(body().size()) + " of " +
                                        std::to_string(body().size() + remaining_) + " body bytes");
        break;
      default: fail(ParseError::malformed, "connection closed in the middle of a chunked body"); break;
    }
    return Result::error;
  }

  void reset() {
    request = Request{};
    response = Response{};
    phase_ = Phase::start_line;
    line_.clear();
    header_bytes_ = 0;
    blank_lines_ = 0;
    remaining_ = 0;
    chunked_.reset();
    started_ = false;
    keep_alive_ = false;
    error_.clear();
    error_kind_ = ParseError::none;
  }

  bool keep_alive() const { return keep_alive_; }
  bool started() const { return started_; }
  bool headers_complete() const {
    return phase_ != Phase::start_line && phase_ != Phase::headers && phase_ != Phase::error;
  }
  const std::string& error() const { return error_; }
  ParseError error_kind() const { return error_kind_; }

 private:
  enum class Phase { start_line, headers, body_length, chunked, body_until_close, done, error };

  std::string& body() { return kind_ == Kind::request ? request.body : response.body; }
  std::vector<Header>& headers() { return kind_ == Kind::request ? request.headers : response.headers; }

  void fail(ParseError kind, std::string message) {
    phase_ = Phase::error;
    error_kind_ = kind;
    error_ = std::move(message);
    keep_alive_ = false;
  }

  std::size_t line_limit() const {
    switch (phase_) {
      case Phase::start_line: return limits_.max_start_line;
      default: return limits_.max_header_bytes - std::min(header_bytes_, limits_.max_header_bytes);
    }
  }

  // Appends bytes up to and including '\n' to the current line; processes the line when complete.
  std::size_t take_line(std::string_view rest) {
    auto nl = rest.find('\n');
    std::size_t take = nl == std::string_view::npos ? rest.size() : nl + 1;
    line_.append(rest.data(), take);
    // +2 leaves room for the line ending itself.
    if (line_.size() > line_limit() + 2) {
      if (phase_ == Phase::start_line) {
        fail(ParseError::start_line_too_long,
             "start line longer than " + std::to_string(limits_.max_start_line) + " bytes");
      } else {
        fail(ParseError::headers_too_large,
             "headers larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
      }
      return take;
    }
    if (nl == std::string_view::npos) return take;
    const bool in_head = phase_ == Phase::headers;
    std::string_view line(line_);
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) {
      fail(ParseError::malformed, "stray carriage return in a line");
    } else {
      process_line(line);
    }
    if (in_head) header_bytes_ += line_.size();
    line_.clear();
    return take;
  }

  void process_line(std::string_view line) {
    switch (phase_) {
      case Phase::start_line:
        if (line.empty()) {
          // Robustness (RFC 9112 2.2): ignore blank lines before a message, but only a few.
          if (++blank_lines_ > 8) fail(ParseError::malformed, "too many blank lines before the start line");
          return;
        }
        if (kind_ == Kind::request) {
          parse_request_line(line);
        } else {
          parse_status_line(line);
        }
        if (phase_ != Phase::error) phase_ = Phase::headers;
        return;
      case Phase::headers:
        if (line.empty()) {
          headers_done();
        } else {
          parse_header_line(line);
        }
        return;
      default: return;
    }
  }

  void parse_request_line(std::string_view line) {
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp1 == sp2) {
      fail(ParseError::malformed, "request line is not 'METHOD target HTTP/1.1'");
      return;
    }
    auto method = line.substr(0, sp1);
    auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    auto version = line.substr(sp2 + 1);
    if (!is_token(method)) {
      fail(ParseError::malformed, "invalid method");
      return;
    }
    if (target.empty() || std::any_of(target.begin(), target.end(), [](char c) {
          auto u = static_cast<unsigned char>(c);
          return u <= 0x20 || u == 0x7f;
        })) {
      fail(ParseError::malformed, "invalid request target");
      return;
    }
    minor_version_ = http1_minor_version(version);
    if (minor_version_ < 0) {
      fail(ParseError::malformed, "unsupported HTTP version '" + std::string(version.substr(0, 16)) + "'");
      return;
    }
    request.method = method;
    request.target = target;
    request.version = version;
  }

  void parse_status_line(std::string_view line) {
    // HTTP/1.1 SP 3DIGIT [SP reason]
    auto sp = line.find(' ');
    minor_version_ = http1_minor_version(line.substr(0, sp));
    if (sp == std::string_view::npos || minor_version_ < 0) {
      fail(ParseError::malformed, "status line does not start with HTTP/1.0 or HTTP/1.1");
      return;
    }
    auto rest = line.substr(sp + 1);
    if (rest.size() < 3 || !std::all_of(rest.begin(), rest.begin() + 3, [](char c) { return c >= '0' && c <= '9'; }) ||
        (rest.size() > 3 && rest[3] != ' ')) {
      fail(ParseError::malformed, "status code is not three digits");
      return;
    }
    response.version = line.substr(0, sp);
    response.status = (rest[0] - '0') * 100 + (rest[1] - '0') * 10 + (rest[2] - '0');
    if (response.status < 100) {
      fail(ParseError::malformed, "status code below 100");
      return;
    }
    response.reason = rest.size() > 4 ? std::string(rest.substr(4)) : std::string();
  }

  void parse_header_line(std::string_view line) {
    if (line.front() == ' ' || line.front() == '\t') {
      fail(ParseError::malformed, "obsolete header line folding");
      return;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      fail(ParseError::malformed, "header line without a colon");
      return;
    }
    auto name = line.substr(0, colon);
    // A space before the colon is how request smuggling starts: reject, as RFC 9112 5.1 requires.
    if (!is_token(name)) {
      fail(ParseError::malformed, "invalid header name '" + std::string(name.substr(0, 64)) + "'");
      return;
    }
    auto value = trim_ows(line.substr(colon + 1));
    if (!is_valid_field_value(value)) {
      fail(ParseError::malformed, "control character in header '" + std::string(name) + "'");
      return;
    }
    if (headers().size() >= limits_.max_headers) {
      fail(ParseError::headers_too_large, "more than " + std::to_string(limits_.max_headers) + " headers");
      return;
    }
    headers().push_back({std::string(name), std::string(value)});
  }

  // Decides how the body is framed (RFC 9112 6.3), and whether the connection stays open.
  void headers_done() {
    const auto& hs = headers();
    keep_alive_ = minor_version_ == 1 ? !has_connection_token(hs, "close") : has_connection_token(hs, "keep-alive");

    std::vector<std::string_view> codings;
    for_each_list_element(hs, "Transfer-Encoding", [&](std::string_view t) { codings.push_back(t); });
    const bool has_te = contains_header(hs, "Transfer-Encoding");
    const bool has_cl = contains_header(hs, "Content-Length");

    std::uint64_t length = 0;
    if (has_cl) {
      bool bad = false;
      bool first = true;
      for_each_list_element(hs, "Content-Length", [&](std::string_view v) {
        std::uint64_t n = 0;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        // An all-digit length too large for 64 bits is simply too large, not malformed.
        if (ec == std::errc::result_out_of_range && ptr == v.data() + v.size()) {
          n = UINT64_MAX;
          ec = std::errc();
        }
        if (ec != std::errc() || ptr != v.data() + v.size() || (!first && n != length)) bad = true;
        length = n;
        first = false;
      });
      if (first) bad = true;  // a Content-Length header with an empty value
      if (bad && !has_te) {
        fail(ParseError::malformed, "invalid Content-Length");
        return;
      }
    }

    if (kind_ == Kind::response) {
      const bool no_body =
          iequals(request_method, "HEAD") || response.status < 200 || response.status == 204 || response.status == 304;
      if (no_body) {
        phase_ = Phase::done;
        return;
      }
    }

    if (has_te) {
      const bool chunked_last = !codings.empty() && iequals(codings.back(), "chunked");
      if (kind_ == Kind::request) {
        // Both framings at once is the classic smuggling vector; a request must pick one.
        if (has_cl) {
          fail(ParseError::malformed, "both Transfer-Encoding and Content-Length");
          return;
        }
        if (codings.size() != 1 || !chunked_last) {
          fail(ParseError::malformed, "unsupported Transfer-Encoding (only chunked is accepted)");
          return;
        }
      }
      if (chunked_last) {
        // Trailers share what is left of the header budget.
        chunked_.reset(
            {.max_body = limits_.max_body,
             .max_trailers = static_cast<std::uint32_t>(std::min<std::size_t>(
                 limits_.max_header_bytes - std::min(header_bytes_, limits_.max_header_bytes), UINT32_MAX))});
        phase_ = Phase::chunked;
      } else {
        keep_alive_ = false;
        phase_ = Phase::body_until_close;
      }
      return;
    }
    if (has_cl) {
      if (length > limits_.max_body) {
        fail(ParseError::body_too_large, "body of " + std::to_string(length) + " bytes is larger than the limit of " +
                                             std::to_string(limits_.max_body));
        return;
      }
      remaining_ = length;
      if (remaining_ > 0) {
        body().reserve(static_cast<std::size_t>(remaining_));
        phase_ = Phase::body_length;
      } else {
        phase_ = Phase::done;
      }
      return;
    }
    if (kind_ == Kind::request) {
      phase_ = Phase::done;  // a request without framing headers has no body
    } else {
      keep_alive_ = false;
      phase_ = Phase::body_until_close;
    }
  }

  // Chunk data goes straight into the body; the decoder says where the body ends.
  std::size_t take_chunked(std::string_view rest) {
    std::size_t used = 0;
    switch (chunked_.feed(rest, used, &body())) {
      case ChunkedDecoder::Status::done: phase_ = Phase::done; break;
      case ChunkedDecoder::Status::error:
        switch (chunked_.error_kind()) {
          case ChunkedDecoder::Error::body_too_large:
            fail(ParseError::body_too_large,
                 std::string(chunked_.error()) + " (at most " + std::to_string(limits_.max_body) + " bytes)");
            break;
          case ChunkedDecoder::Error::trailers_too_large:
            fail(ParseError::headers_too_large,
                 "headers and trailers larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
            break;
          default: fail(ParseError::malformed, chunked_.error()); break;
        }
        break;
      case ChunkedDecoder::Status::need_more: break;
    }
    return used;
  }

  Kind kind_;
  ParserLimits limits_;
  Phase phase_ = Phase::start_line;
  std::string line_;
  std::size_t header_bytes_ = 0;
  int blank_lines_ = 0;
  int minor_version_ = 1;
  std::uint64_t remaining_ = 0;
  ChunkedDecoder chunked_;
  bool started_ = false;
  bool keep_alive_ = false;
  std::string error_;
  ParseError error_kind_ = ParseError::none;
};

}  // namespace detail

namespace {
template <typename State>
State to_state(detail::MessageParser::Result r) {
  switch (r) {
    case detail::MessageParser::Result::done: return State::done;
    case detail::MessageParser::Result::error: return State::error;
    default: return State::need_more;
  }
}
}  // namespace

RequestParser::RequestParser(ParserLimits limits)
    : impl_(std::make_unique<detail::MessageParser>(detail::MessageParser::Kind::request, limits)) {}
RequestParser::~RequestParser() = default;
RequestParser::RequestParser(RequestParser&&) noexcept = default;
RequestParser& RequestParser::operator=(RequestParser&&) noexcept = default;

RequestParser::State RequestParser::feed(std::string_view bytes, std::size_t& consumed) {
  return to_state<State>(impl_->feed(bytes, consumed));
}
const Request& RequestParser::request() const { return impl_->request; }
bool RequestParser::keep_alive() const { return impl_->keep_alive(); }
const std::string& RequestParser::error() const { return impl_->error(); }
ParseError RequestParser::error_kind() const { return impl_->error_kind(); }
bool RequestParser::started() const { return impl_->started(); }
bool RequestParser::headers_complete() const { return impl_->headers_complete(); }
void RequestParser::reset() { impl_->reset(); }

ResponseParser::ResponseParser(ParserLimits limits)
    : impl_(std::make_unique<detail::MessageParser>(detail::MessageParser::Kind::response, limits)) {}
ResponseParser::~ResponseParser() = default;
ResponseParser::ResponseParser(ResponseParser&&) noexcept = default;
ResponseParser& ResponseParser::operator=(ResponseParser&&) noexcept = default;

ResponseParser::State ResponseParser::feed(std::string_view bytes, std::size_t& consumed) {
  return to_state<State>(impl_->feed(bytes, consumed));
}
const Response& ResponseParser::response() const { return impl_->response; }
bool ResponseParser::keep_alive() const { return impl_->keep_alive(); }
const std::string& ResponseParser::error() const { return impl_->error(); }
ParseError ResponseParser::error_kind() const { return impl_->error_kind(); }
bool ResponseParser::started() const { return impl_->started(); }
bool ResponseParser::headers_complete() const { return impl_->headers_complete(); }
void ResponseParser::set_request_method(std::string_view method) { impl_->request_method = method; }
ResponseParser::State ResponseParser::finish() { return to_state<State>(impl_->finish()); }
void ResponseParser::reset() { impl_->reset(); }

}  // namespace chaosplus::net
