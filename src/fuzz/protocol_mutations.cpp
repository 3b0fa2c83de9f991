#include "fuzz/protocol_mutations.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <vector>

namespace chaosplus::fuzz {
namespace {

// A rendered request taken apart: its request line, header lines (without line ends) and body.
struct Parts {
  std::string request_line;
  std::vector<std::string> headers;
  std::string body;
};

Parts split(const std::string& bytes) {
  Parts parts;
  const std::size_t head_end = bytes.find("\r\n\r\n");
  const std::string head = bytes.substr(0, head_end);
  parts.body = head_end == std::string::npos ? std::string() : bytes.substr(head_end + 4);
  std::size_t start = 0;
  bool first = true;
  while (start <= head.size()) {
    std::size_t end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size();
    std::string line = head.substr(start, end - start);
    if (first) {
      parts.request_line = std::move(line);
      first = false;
    } else if (!line.empty()) {
      parts.headers.push_back(std::move(line));
    }
    start = end + 2;
  }
  return parts;
}

bool is_header(const std::string& line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  }
  return true;
}

void drop_header(Parts& parts, std::string_view name) {
  std::erase_if(parts.headers, [name](const std::string& line) { return is_header(line, name); });
}

std::string join(const Parts& parts, std::string_view eol = "\r\n") {
  std::string out = parts.request_line;
  out += eol;
  for (const std::string& line : parts.headers) {
    out += line;
    out += eol;
  }
  out += eol;
  out += parts.body;
  return out;
}

std::string hex(std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  if (n == 0) return "0";
  std::string out;
  while (n != 0) {
    out.insert(out.begin(), kDigits[n % 16]);
    n /= 16;
  }
  return out;
}

// The body as one chunk and the last chunk.
std::string chunked(const std::string& body) {
  std::string out;
  if (!body.empty()) out += hex(body.size()) + "\r\n" + body + "\r\n";
  return out + "0\r\n\r\n";
}

template <typename T, std::size_t N>
const T& pick(const std::array<T, N>& options, Rng& rng) {
  return options[rng.below(N)];
}

std::string method_of(const std::string& request_line) { return request_line.substr(0, request_line.find(' ')); }

std::string target_of(const std::string& request_line) {
  const std::size_t a = request_line.find(' ');
  const std::size_t b = request_line.rfind(' ');
  if (a == std::string::npos || b == a) return "/";
  return request_line.substr(a + 1, b - a - 1);
}

std::string mutate_bytes_for(ProtocolMutation kind, Parts parts, Rng& rng, std::string& what) {
  switch (kind) {
    case ProtocolMutation::content_length_and_chunked: {
      drop_header(parts, "Content-Length");
      const std::string body = parts.body;
      // CL.TE: the Content-Length counts only part of the chunked body (or more than all of it).
      const std::string framed = chunked(body);
      const std::size_t length = rng.chance(0.5) ? framed.size() / 2 : framed.size() + 7;
      parts.headers.push_back("Content-Length: " + std::to_string(length));
      parts.headers.push_back("Transfer-Encoding: chunked");
      parts.body = framed;
      what = "Content-Length " + std::to_string(length) + " with a chunked body of " + std::to_string(framed.size());
      return join(parts);
    }
    case ProtocolMutation::two_content_lengths: {
      drop_header(parts, "Content-Length");
      const std::size_t n = parts.body.size();
      parts.headers.push_back("Content-Length: " + std::to_string(n));
      parts.headers.push_back("Content-Length: " + std::to_string(n + 1 + rng.below(16)));
      what = "two different Content-Length headers";
      return join(parts);
    }
    case ProtocolMutation::bad_chunk_size: {
      drop_header(parts, "Content-Length");
      parts.headers.push_back("Transfer-Encoding: chunked");
      static constexpr std::array<std::string_view, 6> kSizes{"-1", "fffffffffffffffff1", "zz", "0x10", "1 ; x", "+5"};
      const std::string_view size = pick(kSizes, rng);
      const std::string body = parts.body.empty() ? std::string("x") : parts.body;
      if (rng.chance(0.25)) {
        // A chunk whose data is not followed by CRLF.
        parts.body = hex(body.size()) + "\r\n" + body + "XX0\r\n\r\n";
        what = "chunk data not followed by CRLF";
      } else {
        parts.body = std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
        what = "chunk size '" + std::string(size) + "'";
      }
      return join(parts);
    }
    case ProtocolMutation::obfuscated_transfer_encoding: {
      drop_header(parts, "Content-Length");
      static constexpr std::array<std::string_view, 6> kForms{
          "Transfer-Encoding: xchunked",          "Transfer-Encoding:  chunked ",
          "Transfer-Encoding: chunked, identity", "Transfer-Encoding: identity, chunked, identity",
          "Transfer-Encoding\t: chunked",         "Transfer-encoding: CHUNKED"};
      const std::string_view form = pick(kForms, rng);
      parts.headers.emplace_back(form);
      parts.headers.push_back("Content-Length: " + std::to_string(parts.body.size()));
      parts.body = chunked(parts.body);
      what = "'" + std::string(form) + "' beside Content-Length";
      return join(parts);
    }
    case ProtocolMutation::bare_lf: what = "LF line ends"; return join(parts, "\n");
    case ProtocolMutation::obs_fold: {
      const std::size_t at = parts.headers.empty() ? 0 : rng.below(parts.headers.size());
      parts.headers.insert(parts.headers.begin() + static_cast<std::ptrdiff_t>(at), "X-Folded: first");
      parts.headers.insert(parts.headers.begin() + static_cast<std::ptrdiff_t>(at) + 1,
                           rng.chance(0.5) ? " continued" : "\tcontinued");
      what = "a header folded onto the next line";
      return join(parts);
    }
    case ProtocolMutation::many_headers: {
      const std::size_t count = 100 + rng.below(9901);  // up to 10,000
      for (std::size_t i = 0; i < count; ++i) parts.headers.push_back("X-Many-" + std::to_string(i) + ": v");
      what = std::to_string(count) + " extra header lines";
      return join(parts);
    }
    case ProtocolMutation::huge_header_line: {
      const std::size_t size = 8 * 1024 + rng.below(56 * 1024 + 1);  // 8 to 64 KiB
      parts.headers.push_back("X-Huge: " + std::string(size, 'a'));
      what = "a header line of " + std::to_string(size) + " bytes";
      return join(parts);
    }
    case ProtocolMutation::invalid_method: {
      static constexpr std::array<std::string_view, 5> kMethods{"G@T", "GET\x01", "get", "", "PROPFIND"};
      std::string method(pick(kMethods, rng));
      if (rng.chance(0.2)) method = std::string(4096, 'G');
      parts.request_line = method + parts.request_line.substr(parts.request_line.find(' '));
      what = "method '" + (method.size() > 16 ? method.substr(0, 16) + "..." : method) + "'";
      return join(parts);
    }
    case ProtocolMutation::invalid_version: {
      static constexpr std::array<std::string_view, 5> kVersions{"HTTP/1.2", "HTTP/9.9", "HTTP/1.1x", "FOO/1.1", ""};
      const std::string_view version = pick(kVersions, rng);
      const std::string line = method_of(parts.request_line) + " " + target_of(parts.request_line);
      parts.request_line = version.empty() ? line : line + " " + std::string(version);
      what = version.empty() ? "an HTTP/0.9-style request line" : "version '" + std::string(version) + "'";
      return join(parts);
    }
    case ProtocolMutation::absolute_form_target:
      parts.request_line =
          method_of(parts.request_line) + " http://other.invalid" + target_of(parts.request_line) + " HTTP/1.1";
      what = "an absolute-form target naming another host";
      return join(parts);
    case ProtocolMutation::missing_host:
      drop_header(parts, "Host");
      what = "no Host header";
      return join(parts);
    case ProtocolMutation::duplicate_host:
      parts.headers.push_back("Host: other.invalid");
      what = "two Host headers";
      return join(parts);
    case ProtocolMutation::nul_in_header:
      parts.headers.push_back(std::string("X-Nul: a\0b", 10));
      what = "a NUL byte in a header value";
      return join(parts);
    case ProtocolMutation::space_before_colon: {
      drop_header(parts, "Content-Length");
      parts.headers.push_back("Content-Length : " + std::to_string(parts.body.size()));
      what = "a space before a header's colon";
      return join(parts);
    }
    case ProtocolMutation::content_length_too_long: {
      drop_header(parts, "Content-Length");
      parts.headers.push_back("Content-Length: " + std::to_string(parts.body.size() + 1 + rng.below(64)));
      what = "Content-Length larger than the body sent";
      return join(parts);
    }
  }
  return join(parts);
}

}  // namespace

std::string_view protocol_mutation_name(ProtocolMutation kind) {
  switch (kind) {
    case ProtocolMutation::content_length_and_chunked: return "CL.TE conflict";
    case ProtocolMutation::two_content_lengths: return "two Content-Lengths";
    case ProtocolMutation::bad_chunk_size: return "bad chunk size";
    case ProtocolMutation::obfuscated_transfer_encoding: return "obfuscated Transfer-Encoding";
    case ProtocolMutation::bare_lf: return "bare LF";
    case ProtocolMutation::obs_fold: return "obs-fold";
    case ProtocolMutation::many_headers: return "many headers";
    case ProtocolMutation::huge_header_line: return "huge header line";
    case ProtocolMutation::invalid_method: return "invalid method";
    case ProtocolMutation::invalid_version: return "invalid version";
    case ProtocolMutation::absolute_form_target: return "absolute-form target";
    case ProtocolMutation::missing_host: return "missing Host";
    case ProtocolMutation::duplicate_host: return "duplicate Host";
    case ProtocolMutation::nul_in_header: return "NUL in header";
    case ProtocolMutation::space_before_colon: return "space before colon";
    case ProtocolMutation::content_length_too_long: return "Content-Length too long";
  }
  return "protocol";
}

RequestCase protocol_mutation(const RequestCase& valid, const net::Url& base, ProtocolMutation kind, Rng& rng,
                              const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  RequestCase out = valid;
  std::string what;
  out.raw = mutate_bytes_for(kind, split(render(valid, base, extra_headers)), rng, what);
  out.raw_body.reset();
  out.expect_valid = false;
  out.mutation = "protocol: " + std::string(protocol_mutation_name(kind)) + ": " + what;
  return out;
}

RequestCase protocol_mutation(const RequestCase& valid, const net::Url& base, Rng& rng,
                              const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  const auto kind = static_cast<ProtocolMutation>(rng.below(kProtocolMutationCount));
  return protocol_mutation(valid, base, kind, rng, extra_headers);
}

}  // namespace chaosplus::fuzz
