#include "load/response_parser.h"

#include <algorithm>
#include <array>

#include "net/http_token.h"

namespace chaosplus::load {

namespace {

constexpr std::array<std::string_view, 3> kNames = {"content-length", "transfer-encoding", "connection"};
constexpr std::uint8_t kAllNames = 0b111;
// List tokens we look for: "chunked" in Transfer-Encoding, "close"/"keep-alive" in Connection.
constexpr std::string_view kChunked = "chunked";
constexpr std::string_view kClose = "close";
constexpr std::string_view kKeepAlive = "keep-alive";
constexpr std::uint8_t kTokenEnded = 0x80;  // a space inside a token: anything more is a mismatch

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

using net::is_token_char;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `text` equals the lower-case `lowered`, ignoring the case of ASCII letters.
bool equals_lower(std::string_view text, std::string_view lowered) {
  if (text.size() != lowered.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i)
    if (lower(text[i]) != lowered[i]) return false;
  return true;
}

}  // namespace

void ResponseParser::reset_head() {
  state_ = State::start;
  after_lf_ = State::header_line_start;
  header_ = Known::none;
  name_candidates_ = 0;
  version_pos_ = 0;
  token_pos_ = 0;
  token_match_ = 0;
  name_len_ = 0;
  http10_ = false;
  keep_alive_ = true;
  saw_close_ = false;
  saw_keep_alive_ = false;
  has_length_ = false;
  chunked_ = false;
  has_transfer_encoding_ = false;
  last_token_chunked_ = false;
  status_ = 0;
  content_length_ = 0;
  remaining_ = 0;
}

void ResponseParser::reset() {
  reset_head();
  head_bytes_ = 0;
  body_bytes_ = 0;
  error_ = nullptr;
}

ResponseParser::Status ResponseParser::fail(const char* why) {
  state_ = State::error;
  error_ = why;
  return Status::error;
}

// Ends one element of a comma-separated list value.
static void end_token(std::string_view a, std::string_view b, std::uint8_t match, std::uint8_t pos, bool& first,
                      bool& second) {
  if (match & kTokenEnded) match = static_cast<std::uint8_t>(match & ~kTokenEnded);
  first = (match & 1) && pos == a.size();
  second = (match & 2) && pos == b.size();
}

void ResponseParser::end_header_value() {
  bool first = false, second = false;
  if (header_ == Known::transfer_encoding) {
    end_token(kChunked, {}, token_match_, token_pos_, first, second);
    if (token_pos_ > 0) last_token_chunked_ = first;
    has_transfer_encoding_ = true;
    chunked_ = last_token_chunked_;
  } else if (header_ == Known::connection) {
    end_token(kClose, kKeepAlive, token_match_, token_pos_, first, second);
    saw_close_ = saw_close_ || first;
    saw_keep_alive_ = saw_keep_alive_ || second;
  }
  token_pos_ = 0;
  token_match_ = 0b11;
}

ResponseParser::Known ResponseParser::known_header(std::string_view name) {
  for (std::size_t k = 0; k < kNames.size(); ++k)
    if (equals_lower(name, kNames[k])) return static_cast<Known>(k + 1);
  return Known::none;
}

void ResponseParser::start_header_value(Known header) {
  header_ = header;
  if (header_ == Known::content_length) {
    remaining_ = 0;
    version_pos_ = 0;  // digits seen
  }
  token_pos_ = 0;
  token_match_ = 0b11;
  state_ = State::header_value_space;
}

void ResponseParser::head_complete(bool& finished) {
  finished = false;
  if (status_ >= 100 && status_ < 200 && status_ != 101) {
    reset_head();  // an interim response (100 Continue, 103): the real one follows
    return;
  }
  keep_alive_ = http10_ ? saw_keep_alive_ : !saw_close_;
  if (head_request_ || status_ == 204 || status_ == 304 || status_ == 101) {
    if (status_ == 101) keep_alive_ = false;  // the connection now speaks another protocol
    state_ = State::done;
    finished = true;
  } else if (has_transfer_encoding_ && chunked_) {
    state_ = State::chunked;
    if (chunked_body_) {
      chunked_body_->reset();
    } else {
      chunked_body_ = std::make_unique<net::ChunkedDecoder>();
    }
  } else if (has_transfer_encoding_ || !has_length_) {
    state_ = State::body_until_close;
    keep_alive_ = false;
  } else if (content_length_ == 0) {
    state_ = State::done;
    finished = true;
  } else {
    state_ = State::body_fixed;
    remaining_ = content_length_;
  }
}

ResponseParser::Status ResponseParser::feed(const char* data, std::size_t size, std::size_t& consumed) {
  const char* p = data;
  const char* const end = data + size;
  consumed = 0;
  if (state_ == State::done) return Status::done;
  if (state_ == State::error) return Status::error;
  while (p < end) {
    // One byte-wide read of the state per round: the compiler would otherwise fuse the checks of
    // state_ and header_ into one wider load, which cannot be forwarded from the byte-wide stores
    // of the previous round and stalls (half of this function's time, measured).
    const State st = state_;
    // Bodies are skipped (or copied) in bulk; everything else goes byte by byte.
    if (st == State::body_fixed) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(end - p)));
      if (capture_) capture_->body.append(p, n);
      p += n;
      remaining_ -= n;
      body_bytes_ += n;
      if (remaining_ == 0) {
        state_ = State::done;
        break;
      }
      continue;
    }
    if (st == State::chunked) {
      std::size_t used = 0;
      const auto status = chunked_body_->feed(std::string_view(p, static_cast<std::size_t>(end - p)), used,
                                              capture_ ? &capture_->body : nullptr);
      p += used;
      body_bytes_ = chunked_body_->body_bytes();
      if (status == net::ChunkedDecoder::Status::error) return fail(chunked_body_->error());
      if (status == net::ChunkedDecoder::Status::done) {
        state_ = State::done;
        goto complete;
      }
      break;
    }
    if (st == State::body_until_close) {
      const auto n = static_cast<std::size_t>(end - p);
      if (capture_) capture_->body.append(p, n);
      body_bytes_ += n;
      p = end;
      break;
    }
    // Values of headers we do not read (Server, Date, ...) and the reason phrase: skip to the end
    // of the line in a tight loop instead of a trip through the state machine per byte.
    if (st == State::reason || (st == State::header_value && header_ == Known::none)) {
      const char* q = p;
      while (q < end && *q != '\r' && *q != '\n') ++q;
      const auto n = static_cast<std::size_t>(q - p);
      head_bytes_ += static_cast<std::uint32_t>(n);
      if (head_bytes_ > kMaxHeadBytes) return fail("response head too large");
      if (capture_) capture_->head.append(p, n);
      p = q;
      if (p == end) break;
      // A CRLF that lies whole in the buffer ends the line here (as the line_lf state would).
      if (q + 1 < end && q[0] == '\r' && q[1] == '\n' && head_bytes_ + 2 <= kMaxHeadBytes) {
        head_bytes_ += 2;
        if (capture_) capture_->head.append(q, 2);
        if (st == State::header_value) end_header_value();
        state_ = State::header_line_start;
        after_lf_ = State::header_line_start;
        p = q + 2;
        continue;
      }
    }
    // A header name that lies whole in the buffer: scanned with the token table in one pass and
    // told apart by its length first. The byte path below does the same one byte at a time (and
    // takes over for names split across reads, bad characters and oversized heads).
    // A status line whose version and code lie whole in the buffer, read at once.
    if (st == State::start && end - p >= 13 && head_bytes_ + 13 <= kMaxHeadBytes &&
        std::string_view(p, 7) == "HTTP/1." && (p[7] == '0' || p[7] == '1') && p[8] == ' ' && is_digit(p[9]) &&
        is_digit(p[10]) && is_digit(p[11]) && (p[12] == ' ' || p[12] == '\r' || p[12] == '\n')) {
      const int code = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
      if (code >= 100 && code <= 599) {
        head_bytes_ += 13;
        if (capture_) capture_->head.append(p, 13);
        http10_ = p[7] == '0';
        status_ = code;
        version_pos_ = 3;
        state_ = p[12] == ' ' ? State::reason : p[12] == '\r' ? State::line_lf : State::header_line_start;
        after_lf_ = State::header_line_start;
        p += 13;
        continue;
      }
    }
    // A Connection or Transfer-Encoding value of one token, whole in the buffer with its line end.
    if (st == State::header_value && (header_ == Known::connection || header_ == Known::transfer_encoding) &&
        token_pos_ == 0 && token_match_ == 0b11 && is_token_char(*p)) {
      const char* q = p + 1;
      while (q < end && is_token_char(*q)) ++q;
      const std::size_t eol = q < end && *q == '\n' ? 1 : q + 1 < end && q[0] == '\r' && q[1] == '\n' ? 2 : 0;
      const auto n = static_cast<std::size_t>(q - p);
      if (eol != 0 && head_bytes_ + n + eol <= kMaxHeadBytes) {
        const std::string_view value(p, n);
        const std::string_view a = header_ == Known::transfer_encoding ? kChunked : kClose;
        const std::string_view b = header_ == Known::transfer_encoding ? std::string_view{} : kKeepAlive;
        token_pos_ = static_cast<std::uint8_t>(std::min<std::size_t>(n, 0xff));
        token_match_ = static_cast<std::uint8_t>((equals_lower(value, a) ? 1 : 0) | (equals_lower(value, b) ? 2 : 0));
        end_header_value();
        head_bytes_ += static_cast<std::uint32_t>(n + eol);
        if (capture_) capture_->head.append(p, n + eol);
        state_ = State::header_line_start;
        after_lf_ = State::header_line_start;
        p = q + eol;
        continue;
      }
    }
    // The spaces before the value go with it.
    if (st == State::header_line_start && is_token_char(*p)) {
      const char* q = p + 1;
      while (q < end && is_token_char(*q)) ++q;
      const auto len = static_cast<std::size_t>(q - p);
      if (q < end && *q == ':') {
        const char* v = q + 1;
        while (v < end && (*v == ' ' || *v == '\t')) ++v;
        const auto n = static_cast<std::size_t>(v - p);
        if (head_bytes_ + n <= kMaxHeadBytes) {
          head_bytes_ += static_cast<std::uint32_t>(n);
          if (capture_) capture_->head.append(p, n);
          name_len_ = static_cast<std::uint16_t>(std::min<std::size_t>(len, 0xffff));
          start_header_value(known_header(std::string_view(p, len)));
          if (v < end) state_ = State::header_value;  // what the first byte of the value does
          p = v;
          continue;
        }
      }
    }
    const char c = *p++;
    const bool in_head = state_ < State::body_fixed;
    if (in_head) {
      if (++head_bytes_ > kMaxHeadBytes) return fail("response head too large");
      if (capture_) capture_->head.push_back(c);
    }
    switch (state_) {
      case State::start:
        state_ = State::version;
        version_pos_ = 0;
        [[fallthrough]];
      case State::version: {
        constexpr std::string_view prefix = "HTTP/1.";
        if (version_pos_ < prefix.size()) {
          if (c != prefix[version_pos_]) return fail("response does not start with HTTP/1.x");
        } else if (c == '0' || c == '1') {
          http10_ = c == '0';
          state_ = State::status_space;
        } else {
          return fail("unsupported HTTP version");
        }
        ++version_pos_;
        break;
      }
      case State::status_space:
        if (c != ' ') return fail("expected a space after the HTTP version");
        state_ = State::status_code;
        version_pos_ = 0;
        break;
      case State::status_code:
        if (version_pos_ < 3) {
          if (c < '0' || c > '9') return fail("status code is not three digits");
          status_ = status_ * 10 + (c - '0');
          ++version_pos_;
          break;
        }
        if (status_ < 100 || status_ > 599) return fail("status code out of range");
        if (c == ' ') {
          state_ = State::reason;
        } else if (c == '\r') {
          state_ = State::line_lf;
          after_lf_ = State::header_line_start;
        } else if (c == '\n') {
          state_ = State::header_line_start;
        } else {
          return fail("status code is not three digits");
        }
        break;
      case State::reason:
        if (c == '\r') {
          state_ = State::line_lf;
          after_lf_ = State::header_line_start;
        } else if (c == '\n') {
          state_ = State::header_line_start;
        }
        break;
      case State::line_lf:
        if (c != '\n') return fail("CR not followed by LF");
        state_ = after_lf_;
        break;
      case State::header_line_start:
        if (c == '\r') {
          state_ = State::head_end_lf;
          break;
        }
        if (c == '\n') {
          bool finished = false;
          head_complete(finished);
          if (finished) goto complete;
          break;
        }
        if (c == ' ' || c == '\t') {
          if (name_len_ == 0) return fail("header continuation without a header");
          state_ = State::header_value;  // obsolete line folding: more of the previous value
          if (header_ == Known::transfer_encoding || header_ == Known::connection) token_match_ |= kTokenEnded;
          break;
        }
        state_ = State::header_name;
        name_len_ = 0;
        name_candidates_ = kAllNames;
        [[fallthrough]];
      case State::header_name:
        if (c == ':') {
          if (name_len_ == 0) return fail("empty header name");
          Known known = Known::none;
          for (std::size_t k = 0; k < kNames.size(); ++k) {
            if ((name_candidates_ >> k & 1) && kNames[k].size() == name_len_) known = static_cast<Known>(k + 1);
          }
          start_header_value(known);
          break;
        }
        if (!is_token_char(c)) return fail("invalid character in a header name");
        for (std::size_t k = 0; k < kNames.size(); ++k) {
          if (name_len_ >= kNames[k].size() || kNames[k][name_len_] != lower(c))
            name_candidates_ = static_cast<std::uint8_t>(name_candidates_ & ~(1u << k));
        }
        if (name_len_ < 0xffff) ++name_len_;
        break;
      case State::header_value_space:
        if (c == ' ' || c == '\t') break;
        state_ = State::header_value;
        [[fallthrough]];
      case State::header_value:
        if (c == '\r' || c == '\n') {
          if (header_ == Known::content_length) {
            if (version_pos_ == 0) return fail("Content-Length is not a number");
            if (has_length_ && remaining_ != content_length_) return fail("conflicting Content-Length headers");
            has_length_ = true;
            content_length_ = remaining_;
            remaining_ = 0;
          } else {
            end_header_value();
          }
          state_ = c == '\r' ? State::line_lf : State::header_line_start;
          after_lf_ = State::header_line_start;
          break;
        }
        if (header_ == Known::content_length) {
          if (c == ' ' || c == '\t') {
            if (version_pos_ > 0) version_pos_ = 0xff;  // trailing space: no more digits may follow
            break;
          }
          if (c < '0' || c > '9' || version_pos_ == 0xff) return fail("Content-Length is not a number");
          if (remaining_ > (std::uint64_t{1} << 50)) return fail("Content-Length too large");
          remaining_ = remaining_ * 10 + static_cast<std::uint64_t>(c - '0');
          version_pos_ = 1;
        } else if (header_ == Known::transfer_encoding || header_ == Known::connection) {
          const std::string_view a = header_ == Known::transfer_encoding ? kChunked : kClose;
          const std::string_view b = header_ == Known::transfer_encoding ? std::string_view{} : kKeepAlive;
          if (c == ',') {
            const Known h = header_;
            end_header_value();
            header_ = h;
          } else if (c == ' ' || c == '\t') {
            if (token_pos_ > 0) token_match_ |= kTokenEnded;
          } else if (token_match_ & kTokenEnded) {
            token_match_ = kTokenEnded;  // "chunked x" is not "chunked"
            ++token_pos_;
          } else {
            const char l = lower(c);
            if (token_pos_ >= a.size() || a[token_pos_] != l) token_match_ &= static_cast<std::uint8_t>(~1u);
            if (token_pos_ >= b.size() || b[token_pos_] != l) token_match_ &= static_cast<std::uint8_t>(~2u);
            if (token_pos_ < 0xff) ++token_pos_;
          }
        }
        break;
      case State::head_end_lf: {
        if (c != '\n') return fail("CR not followed by LF");
        bool finished = false;
        head_complete(finished);
        if (finished) goto complete;
        break;
      }
      default: return fail("internal parser state");
    }
  }
  consumed = static_cast<std::size_t>(p - data);
  return state_ == State::done ? Status::done : Status::need_more;
complete:
  consumed = static_cast<std::size_t>(p - data);
  return Status::done;
}

ResponseParser::Status ResponseParser::finish() {
  if (state_ == State::done) return Status::done;
  if (state_ == State::body_until_close) {
    state_ = State::done;
    return Status::done;
  }
  if (state_ == State::error) return Status::error;
  return fail(state_ == State::start ? "connection closed before a response" : "connection closed mid-response");
}

}  // namespace chaosplus::load
