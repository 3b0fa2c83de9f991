#include "net/chunked_decoder.h"

#include <algorithm>
#include <array>

#include "net/http_token.h"

namespace chaosplus::net {

namespace {

// -1 for anything that is not a hex digit.
constexpr std::array<std::int8_t, 256> kHex = [] {
  std::array<std::int8_t, 256> t{};
  t.fill(-1);
  for (int c = 0; c < 10; ++c) t[static_cast<std::size_t>('0' + c)] = static_cast<std::int8_t>(c);
  for (int c = 0; c < 6; ++c) {
    t[static_cast<std::size_t>('a' + c)] = static_cast<std::int8_t>(10 + c);
    t[static_cast<std::size_t>('A' + c)] = static_cast<std::int8_t>(10 + c);
  }
  return t;
}();

// Control characters other than tab never belong in a line of the framing.
bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u < 0x20 && c != '\t') || u == 0x7f;
}

}  // namespace

void ChunkedDecoder::reset(ChunkedLimits limits) {
  max_body_ = limits.max_body;
  max_line_ = limits.max_line;
  max_trailers_ = limits.max_trailers;
  state_ = State::size_first;
  reason_ = Reason::none;
  line_bytes_ = 0;
  chunk_left_ = 0;
  body_bytes_ = 0;
}

ChunkedDecoder::Status ChunkedDecoder::fail(Reason reason) {
  state_ = State::error;
  reason_ = reason;
  return Status::error;
}

ChunkedDecoder::Error ChunkedDecoder::error_kind() const {
  switch (reason_) {
    case Reason::none: return Error::none;
    case Reason::body_over_limit:
    case Reason::size_too_large: return Error::body_too_large;
    case Reason::trailers_too_large: return Error::trailers_too_large;
    default: return Error::malformed;
  }
}

const char* ChunkedDecoder::error() const {
  switch (reason_) {
    case Reason::none: return "";
    case Reason::body_over_limit: return "chunked body larger than the limit";
    case Reason::size_too_large: return "chunk size too large";
    case Reason::trailers_too_large: return "chunked trailers too large";
    case Reason::size_line_too_long: return "chunk size line too long";
    case Reason::missing_size: return "missing chunk size";
    case Reason::invalid_size: return "invalid chunk size";
    case Reason::invalid_size_line: return "invalid chunk size line";
    case Reason::control_in_extension: return "control character in a chunk extension";
    case Reason::cr_without_lf: return "CR not followed by LF";
    case Reason::data_too_long: return "chunk data longer than its declared size";
    case Reason::folded_trailer: return "obsolete line folding in a trailer";
    case Reason::invalid_trailer_name: return "invalid trailer field name";
    case Reason::control_in_trailer: return "control character in a trailer field";
  }
  return "";
}

bool ChunkedDecoder::end_size_line() {
  line_bytes_ = 0;  // from here on: the trailers' bytes, or the next size line's
  if (chunk_left_ == 0) {
    state_ = State::trailer_start;  // the last chunk
    return true;
  }
  if (chunk_left_ > max_body_ - body_bytes_) {
    fail(Reason::body_over_limit);
    return false;
  }
  state_ = State::data;
  return true;
}

ChunkedDecoder::Status ChunkedDecoder::feed(std::string_view in, std::size_t& consumed, std::string* body) {
  consumed = 0;
  if (state_ == State::done) return Status::done;
  if (state_ == State::error) return Status::error;
  const char* p = in.data();
  const char* const end = p + in.size();
  while (p < end) {
    if (state_ == State::data) {  // in bulk
      const auto n =
          static_cast<std::size_t>(std::min<std::uint64_t>(chunk_left_, static_cast<std::uint64_t>(end - p)));
      if (body) body->append(p, n);
      p += n;
      chunk_left_ -= n;
      body_bytes_ += n;
      if (chunk_left_ == 0) state_ = State::data_cr;
      continue;
    }
    const char c = *p++;
    if (state_ <= State::size_lf) {
      if (++line_bytes_ > max_line_) return fail(Reason::size_line_too_long);
    } else if (state_ >= State::trailer_start) {
      if (++line_bytes_ > max_trailers_) return fail(Reason::trailers_too_large);
    }
    switch (state_) {
      case State::size_first: {
        const int h = kHex[static_cast<unsigned char>(c)];
        if (h < 0) return fail(c == '\r' || c == '\n' ? Reason::missing_size : Reason::invalid_size);
        chunk_left_ = static_cast<std::uint64_t>(h);
        state_ = State::size;
        break;
      }
      case State::size: {
        const int h = kHex[static_cast<unsigned char>(c)];
        if (h >= 0) {
          if (chunk_left_ >> 60 != 0) return fail(Reason::size_too_large);
          chunk_left_ = chunk_left_ << 4 | static_cast<std::uint64_t>(h);
        } else if (c == ' ' || c == '\t') {
          state_ = State::size_space;
        } else if (c == ';') {
          state_ = State::extension;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          if (!end_size_line()) return Status::error;
        } else {
          return fail(Reason::invalid_size);
        }
        break;
      }
      case State::size_space:
        if (c == ';') {
          state_ = State::extension;
        } else if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          if (!end_size_line()) return Status::error;
        } else if (c != ' ' && c != '\t') {
          return fail(Reason::invalid_size_line);
        }
        break;
      case State::extension:
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          if (!end_size_line()) return Status::error;
        } else if (is_control(c)) {
          return fail(Reason::control_in_extension);
        }
        break;
      case State::size_lf:
        if (c != '\n') return fail(Reason::cr_without_lf);
        if (!end_size_line()) return Status::error;
        break;
      case State::data_cr:
        if (c == '\r') {
          state_ = State::data_lf;
        } else if (c == '\n') {
          state_ = State::size_first;
        } else {
          return fail(Reason::data_too_long);
        }
        break;
      case State::data_lf:
        if (c != '\n') return fail(Reason::cr_without_lf);
        state_ = State::size_first;
        break;
      case State::trailer_start:
        if (c == '\r') {
          state_ = State::end_lf;
        } else if (c == '\n') {
          state_ = State::done;
          consumed = static_cast<std::size_t>(p - in.data());
          return Status::done;
        } else if (c == ' ' || c == '\t') {
          return fail(Reason::folded_trailer);
        } else if (is_token_char(c)) {
          state_ = State::trailer_name;
        } else {
          return fail(Reason::invalid_trailer_name);
        }
        break;
      case State::trailer_name:
        if (c == ':') {
          state_ = State::trailer_value;
        } else if (!is_token_char(c)) {
          return fail(Reason::invalid_trailer_name);
        }
        break;
      case State::trailer_value:
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else if (c == '\n') {
          state_ = State::trailer_start;
        } else if (is_control(c)) {
          return fail(Reason::control_in_trailer);
        }
        break;
      case State::trailer_lf:
        if (c != '\n') return fail(Reason::cr_without_lf);
        state_ = State::trailer_start;
        break;
      case State::end_lf:
        if (c != '\n') return fail(Reason::cr_without_lf);
        state_ = State::done;
        consumed = static_cast<std::size_t>(p - in.data());
        return Status::done;
      case State::data:
      case State::done:
      case State::error: break;  // handled above
    }
  }
  consumed = in.size();
  return Status::need_more;
}

}  // namespace chaosplus::net
