#include "proxy/http_framing.h"

#include <algorithm>

#include "net/http_token.h"

namespace chaosplus::proxy {

namespace {

constexpr std::size_t kMaxStartLine = 8 * 1024;
constexpr std::size_t kMaxMethod = 64;

using net::is_token_char;

bool is_token(std::string_view text) { return !text.empty() && std::all_of(text.begin(), text.end(), is_token_char); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls `each` with every trimmed element of a comma-separated header value.
template <typename Each>
void for_each_element(std::string_view value, Each each) {
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    each(trim(value.substr(start, comma - start)));
    start = comma + 1;
  }
}

// "HTTP/1.0" -> 0, "HTTP/1.1" -> 1, anything else -> -1 (HTTP/2 and later are not framed here).
int minor_version(std::string_view version) {
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1.") return -1;
  char minor = version[7];
  return (minor == '0' || minor == '1') ? minor - '0' : -1;
}

// Whether an unfinished first line can still become a request line (or a status line): lets a
// stream that is plainly not HTTP go opaque at its first bytes, instead of after a whole head.
bool plausible_start(HttpFramer::Role role, std::string_view partial) {
  if (!partial.empty() && partial.back() == '\r') partial.remove_suffix(1);
  if (partial.size() > kMaxStartLine) return false;
  if (role == HttpFramer::Role::response) {
    constexpr std::string_view kPrefix = "HTTP/";
    std::size_t n = std::min(partial.size(), kPrefix.size());
    return partial.substr(0, n) == kPrefix.substr(0, n);
  }
  std::size_t space = partial.find(' ');
  std::string_view method = partial.substr(0, space);
  if (method.size() > kMaxMethod || !std::all_of(method.begin(), method.end(), is_token_char)) return false;
  return std::none_of(partial.begin(), partial.end(), [](char c) {
    auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
}

}  // namespace

HttpFramer::HttpFramer(Role role, std::size_t max_head) : role_(role), max_head_(max_head) {}

void HttpFramer::expect_response_to(std::string_view method) { request_method_ = method; }

void HttpFramer::make_opaque(std::string why) {
  state_ = State::opaque;
  why_ = std::move(why);
  line_.clear();
  line_.shrink_to_fit();
}

HttpFramer::Progress HttpFramer::fail(std::string why) {
  make_opaque(std::move(why));
  return {0, false, false, true};
}

HttpFramer::Progress HttpFramer::feed(std::string_view bytes) {
  if (state_ == State::opaque) return {0, false, false, true};
  if (bytes.empty()) return {};
  if (state_ == State::idle) {
    std::string method = std::move(request_method_);
    head_ = MessageHead{};
    request_method_ = std::move(method);
    line_.clear();
    head_size_ = 0;
    first_line_done_ = saw_length_ = saw_transfer_encoding_ = chunked_ = false;
    connection_close_ = connection_keep_alive_ = false;
    body_bytes_ = 0;
    state_ = State::head;
  }
  return state_ == State::head ? feed_head(bytes) : feed_body(bytes);
}

HttpFramer::Progress HttpFramer::feed_head(std::string_view bytes) {
  std::size_t used = 0;
  while (used < bytes.size()) {
    std::size_t newline = bytes.find('\n', used);
    std::size_t end = newline == std::string_view::npos ? bytes.size() : newline + 1;
    if (head_size_ + (end - used) > max_head_) {
      return fail("the head is larger than " + std::to_string(max_head_) + " bytes");
    }
    head_size_ += end - used;
    line_.append(bytes.data() + used, end - used);
    used = end;
    if (newline == std::string_view::npos) {
      if (!first_line_done_ && !plausible_start(role_, line_)) return fail("the stream does not start like HTTP/1.x");
      return {used, false, false, false};
    }
    std::string_view line = line_;
    line.remove_suffix(1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!first_line_done_) {
      if (!line.empty()) {  // empty lines before a message are tolerated (RFC 9112, 2.2)
        if (!start_line(line)) return fail(why_);
        first_line_done_ = true;
      }
    } else if (line.empty()) {
      line_.clear();
      if (!end_of_head()) return fail(why_);
      Progress progress{used, true, head_.body == BodyKind::none, false};
      if (progress.message_done) {
        next_message();
      } else {
        state_ = State::body;
        remaining_ = head_.length;
        // Trailers are bounded like a head.
        chunked_body_.reset({.max_trailers = static_cast<std::uint32_t>(std::min<std::size_t>(max_head_, UINT32_MAX))});
      }
      return progress;
    } else if (!header_line(line)) {
      return fail(why_);
    }
    line_.clear();
  }
  return {used, false, false, false};
}

bool HttpFramer::start_line(std::string_view line) {
  std::size_t first = line.find(' ');
  std::size_t second = first == std::string_view::npos ? first : line.find(' ', first + 1);
  if (role_ == Role::request) {
    if (second == std::string_view::npos || line.find(' ', second + 1) != std::string_view::npos) {
      why_ = "malformed request line";
      return false;
    }
    std::string_view method = line.substr(0, first);
    std::string_view target = line.substr(first + 1, second - first - 1);
    int minor = minor_version(line.substr(second + 1));
    if (!is_token(method) || method.size() > kMaxMethod || target.empty() || minor < 0) {
      why_ = "not an HTTP/1.0 or HTTP/1.1 request line";
      return false;
    }
    head_.method = method;
    head_.target = target;
    head_.minor_version = minor;
    return true;
  }
  int minor = minor_version(line.substr(0, first));
  std::string_view code = first == std::string_view::npos ? std::string_view{} : line.substr(first + 1, 3);
  bool digits = code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; });
  bool ends_right = first != std::string_view::npos && line.size() >= first + 4 &&
                    (line.size() == first + 4 || line[first + 4] == ' ');
  if (minor < 0 || !digits || !ends_right || code[0] == '0') {
    why_ = "not an HTTP/1.0 or HTTP/1.1 status line";
    return false;
  }
  head_.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  head_.minor_version = minor;
  head_.method = request_method_;
  return true;
}

bool HttpFramer::header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    why_ = "obsolete line folding in a header";  // servers disagree on it: do not guess
    return false;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    why_ = "malformed header line";
    return false;
  }
  std::string_view name = line.substr(0, colon);
  std::string_view value = trim(line.substr(colon + 1));
  if (iequals(name, "Content-Length")) {
    bool good = true;
    for_each_element(value, [&](std::string_view element) {
      if (element.empty() || element.size() > 18 ||
          !std::all_of(element.begin(), element.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        good = false;
        return;
      }
      std::uint64_t length = std::stoull(std::string(element));
      if (saw_length_ && length != head_.length) good = false;
      head_.length = length;
      saw_length_ = true;
    });
    if (!good) why_ = "invalid or conflicting Content-Length";
    return good;
  }
  if (iequals(name, "Transfer-Encoding")) {
    saw_transfer_encoding_ = true;
    std::string_view last;
    for_each_element(value, [&](std::string_view element) {
      if (!element.empty()) last = element.substr(0, element.find(';'));
    });
    chunked_ = iequals(trim(last), "chunked");
    return true;
  }
  if (iequals(name, "Connection")) {
    for_each_element(value, [&](std::string_view element) {
      if (iequals(element, "close")) connection_close_ = true;
      if (iequals(element, "keep-alive")) connection_keep_alive_ = true;
    });
    return true;
  }
  if (role_ == Role::request && iequals(name, "Expect")) {
    head_.expect_continue = iequals(value, "100-continue");
  }
  return true;
}

bool HttpFramer::end_of_head() {
  head_.close = connection_close_ || (head_.minor_version == 0 && !connection_keep_alive_);
  // RFC 9112, 6.3: Transfer-Encoding overrides Content-Length.
  if (role_ == Role::request) {
    if (saw_transfer_encoding_) {
      if (!chunked_) {
        why_ = "a request whose last transfer coding is not chunked";
        return false;
      }
      head_.body = BodyKind::chunked;
    } else {
      head_.body = saw_length_ && head_.length > 0 ? BodyKind::length : BodyKind::none;
    }
    return true;
  }
  const int status = head_.status;
  const bool connect = head_.method == "CONNECT";
  head_.tunnel = status == 101 || (connect && status >= 200 && status < 300);
  if (status < 200 || status == 204 || status == 304 || head_.method == "HEAD" || head_.tunnel) {
    head_.body = BodyKind::none;
  } else if (saw_transfer_encoding_) {
    head_.body = chunked_ ? BodyKind::chunked : BodyKind::until_close;
  } else if (saw_length_) {
    head_.body = head_.length > 0 ? BodyKind::length : BodyKind::none;
  } else {
    head_.body = BodyKind::until_close;
  }
  if (head_.body == BodyKind::until_close) head_.close = true;
  return true;
}

HttpFramer::Progress HttpFramer::feed_body(std::string_view bytes) {
  switch (head_.body) {
    case BodyKind::length: {
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, bytes.size()));
      remaining_ -= take;
      body_bytes_ += take;
      bool done = remaining_ == 0;
      if (done) next_message();
      return {take, false, done, false};
    }
    case BodyKind::until_close: body_bytes_ += bytes.size(); return {bytes.size(), false, false, false};
    case BodyKind::chunked: return feed_chunked(bytes);
    case BodyKind::none: break;
  }
  next_message();  // unreachable: a message without body ends with its head
  return {0, false, true, false};
}

HttpFramer::Progress HttpFramer::feed_chunked(std::string_view bytes) {
  std::size_t used = 0;
  const auto status = chunked_body_.feed(bytes, used);
  body_bytes_ += used;
  if (status == net::ChunkedDecoder::Status::error) return fail(std::string("chunked body: ") + chunked_body_.error());
  if (status == net::ChunkedDecoder::Status::need_more) return {used, false, false, false};
  next_message();
  return {used, false, true, false};
}

bool HttpFramer::finish() {
  if (state_ == State::idle) return true;
  if (state_ == State::body && head_.body == BodyKind::until_close) {
    next_message();
    return true;
  }
  return false;
}

void HttpFramer::next_message() { state_ = State::idle; }

std::string_view request_path(std::string_view target) {
  if (target == "*") return target;
  if (!target.empty() && target.front() != '/') {
    std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return target;  // authority form (CONNECT host:port)
    std::size_t slash = target.find('/', scheme + 3);
    if (slash == std::string_view::npos) return "/";
    target.remove_prefix(slash);
  }
  return target.substr(0, target.find_first_of("?#"));
}

}  // namespace chaosplus::proxy
