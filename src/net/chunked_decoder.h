#pragma once
// The one decoder of HTTP/1.1 chunked bodies (RFC 9112 7.1), shared by net's message parsers,
// the load engine's response parser and the fault proxy's framing. It is a small state machine:
// bytes go in as they arrive, split anywhere; it keeps none of them and allocates nothing (body
// bytes are appended to a string only if the caller hands one in), so it suits the load
// engine's hot path. Every line is bounded; bad input ends in Status::error with a reason.
//
// Accepted: hex sizes in either case (leading zeros allowed), spaces or tabs after the size,
// extensions after ';' (skipped, but no control characters), trailer fields up to an empty
// line (checked like header fields, then dropped), and a bare LF wherever CRLF is due.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chaosplus::net {

struct ChunkedLimits {
  std::uint64_t max_body = UINT64_MAX;     // decoded body bytes (chunk data) in all
  std::uint16_t max_line = 4096;           // one chunk-size line, extensions and line end included
  std::uint32_t max_trailers = 64 * 1024;  // all trailer lines together
};

class ChunkedDecoder {
 public:
  enum class Status : std::uint8_t { need_more, done, error };
  // body_too_large: a chunk size past max_body (or past 64 bits); trailers_too_large: trailer
  // lines past max_trailers; anything else (a size line past max_line too): malformed.
  enum class Error : std::uint8_t { none, malformed, body_too_large, trailers_too_large };

  explicit ChunkedDecoder(ChunkedLimits limits = {}) { reset(limits); }

  // Decodes from the start of `in`. `consumed` says how many bytes of `in` belong to the body
  // (framing and data): all of them on need_more; on done, the next byte begins whatever follows
  // the body. Chunk data is appended to `*body` if given. After done or error, feed does nothing
  // (consumed 0) until reset().
  Status feed(std::string_view in, std::size_t& consumed, std::string* body = nullptr);
  void reset() { reset({max_body_, max_line_, max_trailers_}); }
  void reset(ChunkedLimits limits);

  bool done() const { return state_ == State::done; }
  bool failed() const { return state_ == State::error; }
  bool started() const { return state_ != State::size_first || body_bytes_ > 0; }
  std::uint64_t body_bytes() const { return body_bytes_; }  // decoded so far
  Error error_kind() const;
  const char* error() const;  // "" unless failed()

 private:
  enum class State : std::uint8_t {
    size_first,  // the first hex digit of a chunk size
    size,        // more hex digits
    size_space,  // spaces or tabs after the size
    extension,   // after ';', up to the line end
    size_lf,     // after the CR of the size line
    data,
    data_cr,  // the CRLF after chunk data
    data_lf,
    trailer_start,  // a trailer line, or the empty line that ends the body
    trailer_name,
    trailer_value,
    trailer_lf,  // after the CR of a trailer line
    end_lf,      // after the CR of the empty last line
    done,
    error,
  };

  // Why decoding failed; a byte instead of a pointer keeps the decoder small (the load engine
  // holds one per connection).
  enum class Reason : std::uint8_t {
    none,
    body_over_limit,
    size_too_large,
    trailers_too_large,
    size_line_too_long,
    missing_size,
    invalid_size,
    invalid_size_line,
    control_in_extension,
    cr_without_lf,
    data_too_long,
    folded_trailer,
    invalid_trailer_name,
    control_in_trailer,
  };

  Status fail(Reason reason);
  bool end_size_line();  // false: failed

  std::uint64_t chunk_left_ = 0;  // the size being read, then the data bytes still due
  std::uint64_t body_bytes_ = 0;
  std::uint64_t max_body_ = 0;
  std::uint32_t line_bytes_ = 0;  // of the current chunk-size line, then of all trailer lines
  std::uint32_t max_trailers_ = 0;
  std::uint16_t max_line_ = 0;
  State state_ = State::size_first;
  Reason reason_ = Reason::none;
};

}  // namespace chaosplus::net
