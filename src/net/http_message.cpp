#include "net/http_message.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace chaosplus::net {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// RFC 9110 token characters (method names, header names).
bool is_token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char); }

// Control characters other than tab are never legal inside a header value.
bool is_valid_field_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

bool contains_header(const std::vector<Header>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const Header& h) { return iequals(h.name, name); });
}

void replace_header(std::vector<Header>& headers, std::string name, std::string value) {
  std::erase_if(headers, [&](const Header& h) { return iequals(h.name, name); });
  headers.push_back({std::move(name), std::move(value)});
}

// Calls `fn` for every comma-separated element of every header named `name`, trimmed, non-empty.
template <typename Fn>
void for_each_list_element(const std::vector<Header>& headers, std::string_view name, Fn fn) {
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    std::string_view rest = h.value;
    while (true) {
      auto comma = rest.find(',');
      auto element = trim(rest.substr(0, comma));
      if (!element.empty()) fn(element);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
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

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_head_and_body(std::string& out, const std::vector<Header>& headers, const std::string& body,
                          bool body_allowed, std::string_view extra_connection) {
  const bool chunked = [&] {
    bool last_is_chunked = false;
    for_each_list_element(headers, "Transfer-Encoding",
                          [&](std::string_view t) { last_is_chunked = iequals(t, "chunked"); });
    return last_is_chunked;
  }();
  for (const auto& h : headers) {
    out += h.name;
    out += ": ";
    out += h.value;
    out += "\r\n";
  }
  if (body_allowed && !chunked && !body.empty() && !contains_header(headers, "Content-Length")) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  if (!extra_connection.empty() && !contains_header(headers, "Connection")) {
    out += "Connection: ";
    out += extra_connection;
    out += "\r\n";
  }
  out += "\r\n";
  if (!body_allowed) return;
  if (chunked) {
    if (!body.empty()) {
      char size[32];
      auto [end, ec] = std::to_chars(size, size + sizeof size, body.size(), 16);
      out.append(size, end);
      out += "\r\n";
      out += body;
      out += "\r\n";
    }
    out += "0\r\n\r\n";
  } else {
    out += body;
  }
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view Request::header(std::string_view name) const { return find_header(headers, name); }
bool Request::has_header(std::string_view name) const { return contains_header(headers, name); }
void Request::set_header(std::string name, std::string value) {
  replace_header(headers, std::move(name), std::move(value));
}

std::string Request::path() const { return target.substr(0, target.find('?')); }

std::string Request::query_param(std::string_view name) const {
  auto q = target.find('?');
  if (q == std::string::npos) return {};
  std::string_view query(target);
  query.remove_prefix(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (percent_decode(pair.substr(0, eq)) == name) {
      return eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

std::string_view Response::header(std::string_view name) const { return find_header(headers, name); }
bool Response::has_header(std::string_view name) const { return contains_header(headers, name); }
void Response::set_header(std::string name, std::string value) {
  replace_header(headers, std::move(name), std::move(value));
}

Response Response::json(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "application/json"});
  r.body = std::move(body);
  return r;
}

Response Response::text(int status, std::string body) {
  Response r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  r.body = std::move(body);
  return r;
}

std::string reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: break;
  }
  if (status >= 100 && status < 200) return "Informational";
  if (status >= 200 && status < 300) return "Success";
  if (status >= 300 && status < 400) return "Redirection";
  if (status >= 400 && status < 500) return "Client Error";
  return "Server Error";
}

std::string serialize(const Request& request) {
  std::string out;
  out.reserve(128 + request.body.size());
  out += request.method;
  out += ' ';
  out += request.target;
  out += " HTTP/1.1\r\n";
  append_head_and_body(out, request.headers, request.body, true, {});
  return out;
}

std::string serialize(const Response& response, bool keep_alive) {
  std::string out;
  out.reserve(128 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += response.reason.empty() ? reason_phrase(response.status) : response.reason;
  out += "\r\n";
  const bool body_allowed = response.status >= 200 && response.status != 204 && response.status != 304;
  append_head_and_body(out, response.headers, response.body, body_allowed, keep_alive ? "" : "close");
  return out;
}

// ---------------------------------------------------------------------------------------------
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
        case Phase::headers:
        case Phase::chunk_size:
        case Phase::chunk_end:
        case Phase::trailers: consumed += take_line(rest); break;
        case Phase::body_length:
        case Phase::chunk_data: {
          std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
          body().append(rest.data(), take);
          consumed += take;
          remaining_ -= take;
          if (remaining_ == 0) {
            if (phase_ == Phase::body_length) {
              phase_ = Phase::done;
            } else {
              phase_ = Phase::chunk_end;
            }
          }
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
  enum class Phase {
    start_line,
    headers,
    body_length,
    chunk_size,
    chunk_data,
    chunk_end,
    trailers,
    body_until_close,
    done,
    error
  };

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
      case Phase::headers:
      case Phase::trailers: return limits_.max_header_bytes - std::min(header_bytes_, limits_.max_header_bytes);
      default: return 1024;  // chunk-size lines with extensions, and the CRLF after chunk data
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
      } else if (phase_ == Phase::headers || phase_ == Phase::trailers) {
        fail(ParseError::headers_too_large,
             "headers larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
      } else {
        fail(ParseError::malformed, "chunk size line too long");
      }
      return take;
    }
    if (nl == std::string_view::npos) return take;
    const bool in_head = phase_ == Phase::headers || phase_ == Phase::trailers;
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
          parse_header_line(line, true);
        }
        return;
      case Phase::chunk_size: parse_chunk_size(line); return;
      case Phase::chunk_end:
        if (!line.empty()) {
          fail(ParseError::malformed, "chunk data longer than its declared size");
        } else {
          phase_ = Phase::chunk_size;
        }
        return;
      case Phase::trailers:
        if (line.empty()) {
          phase_ = Phase::done;
        } else {
          parse_header_line(line, false);
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

  void parse_header_line(std::string_view line, bool keep) {
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
    auto value = trim(line.substr(colon + 1));
    if (!is_valid_field_value(value)) {
      fail(ParseError::malformed, "control character in header '" + std::string(name) + "'");
      return;
    }
    if (!keep) return;  // trailer fields are validated, not kept
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
        phase_ = Phase::chunk_size;
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

  void parse_chunk_size(std::string_view line) {
    std::uint64_t size = 0;
    std::size_t i = 0;
    for (; i < line.size() && hex_digit(line[i]) >= 0; ++i) {
      if (i >= 15) {
        fail(ParseError::body_too_large, "chunk size too large");
        return;
      }
      size = size * 16 + static_cast<std::uint64_t>(hex_digit(line[i]));
    }
    auto ext = trim(line.substr(i));
    if (i == 0 || (!ext.empty() && ext.front() != ';')) {
      fail(ParseError::malformed, "invalid chunk size line");
      return;
    }
    if (size == 0) {
      phase_ = Phase::trailers;
      return;
    }
    if (body().size() + size > limits_.max_body) {
      fail(ParseError::body_too_large, "chunked body larger than " + std::to_string(limits_.max_body) + " bytes");
      return;
    }
    remaining_ = size;
    phase_ = Phase::chunk_data;
  }

  Kind kind_;
  ParserLimits limits_;
  Phase phase_ = Phase::start_line;
  std::string line_;
  std::size_t header_bytes_ = 0;
  int blank_lines_ = 0;
  int minor_version_ = 1;
  std::uint64_t remaining_ = 0;
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
