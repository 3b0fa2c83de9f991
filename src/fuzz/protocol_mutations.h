#pragma once
// Malformed HTTP/1.1 built from a valid request's bytes: the framing faults that split request
// smuggling, desync and parser crashes come from. Each result carries its bytes in
// RequestCase::raw, `expect_valid` false, and `mutation` naming the kind ("protocol: CL.TE
// conflict"). The engine sends these on connections of their own (Sender::send own_connection).
#include <string_view>
#include <vector>

#include "fuzz/request_case.h"
#include "fuzz/rng.h"

namespace chaosplus::fuzz {

enum class ProtocolMutation {
  content_length_and_chunked,    // Content-Length and Transfer-Encoding: chunked, disagreeing
  two_content_lengths,           // two Content-Length headers with different values
  bad_chunk_size,                // negative, hex overflow, non-hex, or missing CRLF after a chunk
  obfuscated_transfer_encoding,  // "Transfer-Encoding: xchunked", " chunked", "chunked, identity"...
  bare_lf,                       // LF instead of CRLF line ends
  obs_fold,                      // a header continued on the next line (obsolete line folding)
  many_headers,                  // up to 10,000 header lines
  huge_header_line,              // one header line of 64 KiB
  invalid_method,                // a method with non-token characters, or very long
  invalid_version,               // HTTP/1.2, HTTP/9.9, garbage, HTTP/0.9 style request line
  absolute_form_target,          // "GET http://other.example/x HTTP/1.1"
  missing_host,                  // no Host header
  duplicate_host,                // two Host headers
  nul_in_header,                 // a NUL byte inside a header value
  space_before_colon,            // "Content-Length : 5"
};
// (No "Content-Length larger than the body": a correct server waits for the rest, and the engine
// would see a hang that is not a bug.)
inline constexpr int kProtocolMutationCount = 15;

std::string_view protocol_mutation_name(ProtocolMutation kind);  // "CL.TE conflict", ...

// The `kind` variant of `valid` (rendered with `base` and `extra_headers`); Rng picks among the
// variant's forms (which bad chunk size, which header).
RequestCase protocol_mutation(const RequestCase& valid, const net::Url& base, ProtocolMutation kind, Rng& rng,
                              const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
// A kind chosen by `rng`.
RequestCase protocol_mutation(const RequestCase& valid, const net::Url& base, Rng& rng,
                              const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

}  // namespace chaosplus::fuzz
