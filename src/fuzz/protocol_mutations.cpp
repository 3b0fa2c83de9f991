#include "fuzz/protocol_mutations.h"

#include <algorithm>
#include <cctype>

namespace chaosplus::fuzz {
namespace {

bool is_named(const std::string& line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != std::tolower(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

// A rendered request taken apart: request line, header lines, body.
struct Parts {
  std::string request_line;
  std::vector<std::string> headers;
  std::string body;

  static Parts of(const std::string& rendered) {
    Parts p;
    const std::size_t end = rendered.find("\r\n\r\n");
    const std::string head = rendered.substr(0, end);
    p.body = end == std::string::npos ? "" : rendered.substr(end + 4);
    std::size_t start = 0;
    bool first = true;
    while (start <= head.size()) {
      const std::size_t eol = head.find("\r\n", start);
      const std::string line = head.substr(start, eol == std::string::npos ? std::string::npos : eol - start);
      if (first) {
        p.request_line = line;
        first = false;
      } else if (!line.empty()) {
        p.headers.push_back(line);
      }
      if (eol == std::string::npos) break;
      start = eol + 2;
    }
    return p;
  }

  void drop(std::string_view name) {
    headers.erase(
        std::remove_if(headers.begin(), headers.end(), [&](const std::string& l) { return is_named(l, name); }),
        headers.end());
  }

  std::string bytes(const char* eol = "\r\n") const {
    std::string out = request_line + eol;
    for (const auto& h : headers) out += h + eol;
    return out + eol + body;
  }
};

std::string hex(std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[n % 16]);
    n /= 16;
  } while (n != 0);
  return out;
}

std::string chunked(const std::string& body) {
  return (body.empty() ? "" : hex(body.size()) + "\r\n" + body + "\r\n") + "0\r\n\r\n";
}

}  // namespace

std::string_view protocol_mutation_name(ProtocolMutation kind) {
  switch (kind) {
    case ProtocolMutation::content_length_and_chunked: return "CL.TE conflict";
    case ProtocolMutation::two_content_lengths: return "two Content-Lengths";
    case ProtocolMutation::bad_chunk_size: return "bad chunk size";
    case ProtocolMutation::obfuscated_transfer_encoding: return "obfuscated Transfer-Encoding";
    case ProtocolMutation::bare_lf: return "bare LF line ends";
    case ProtocolMutation::obs_fold: return "obs-fold header";
    case ProtocolMutation::many_headers: return "many headers";
    case ProtocolMutation::huge_header_line: return "huge header line";
    case ProtocolMutation::invalid_method: return "invalid method";
    case ProtocolMutation::invalid_version: return "invalid version";
    case ProtocolMutation::absolute_form_target: return "absolute-form target";
    case ProtocolMutation::missing_host: return "missing Host";
    case ProtocolMutation::duplicate_host: return "duplicate Host";
    case ProtocolMutation::nul_in_header: return "NUL in header";
    case ProtocolMutation::space_before_colon: return "space before colon";
  }
  return "protocol";
}

RequestCase protocol_mutation(const RequestCase& valid, const net::Url& base, ProtocolMutation kind, Rng& rng,
                              const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  RequestCase valid_shape = valid;
  valid_shape.raw.reset();
  Parts p = Parts::of(render(valid_shape, base, extra_headers));
  std::string variant;
  std::string out;
  const std::size_t space = p.request_line.find(' ');
  const std::size_t last_space = p.request_line.rfind(' ');
  switch (kind) {
    case ProtocolMutation::content_length_and_chunked: {
      // The body framed chunked, and a Content-Length of the unframed body: one side reads less.
      p.drop("Content-Length");
      const std::string cl = "Content-Length: " + std::to_string(p.body.size());
      const bool cl_first = rng.chance(0.5);
      p.headers.push_back(cl_first ? cl : "Transfer-Encoding: chunked");
      p.headers.push_back(cl_first ? "Transfer-Encoding: chunked" : cl);
      p.body = chunked(p.body);
      variant = cl_first ? "Content-Length first" : "Transfer-Encoding first";
      out = p.bytes();
      break;
    }
    case ProtocolMutation::two_content_lengths: {
      // The second one smaller, never larger: a server that believes it must not wait for bytes that never come.
      p.drop("Content-Length");
      const std::size_t smaller = p.body.empty() ? 0 : rng.below(p.body.size());
      p.headers.push_back("Content-Length: " + std::to_string(p.body.size()));
      p.headers.push_back("Content-Length: " + std::to_string(smaller));
      variant = std::to_string(p.body.size()) + " and " + std::to_string(smaller);
      out = p.bytes();
      break;
    }
    case ProtocolMutation::bad_chunk_size: {
      p.drop("Content-Length");
      p.headers.push_back("Transfer-Encoding: chunked");
      const std::string data = p.body.empty() ? "x" : p.body;
      static const char* kSizes[] = {"-1", "fffffffffffffffffff1", "zz", "0x10", " 1", "1 ;"};
      const auto pick = rng.below(std::size(kSizes) + 1);
      if (pick == std::size(kSizes)) {
        p.body = hex(data.size()) + "\r\n" + data + "0\r\n\r\n";  // no CRLF after the chunk data
        variant = "missing CRLF after chunk";
      } else {
        p.body = std::string(kSizes[pick]) + "\r\n" + data + "\r\n0\r\n\r\n";
        variant = std::string("chunk size '") + kSizes[pick] + "'";
      }
      out = p.bytes();
      break;
    }
    case ProtocolMutation::obfuscated_transfer_encoding: {
      static const char* kForms[] = {"Transfer-Encoding: xchunked",          "Transfer-Encoding : chunked",
                                     "Transfer-Encoding: chunked, identity", "Transfer-Encoding:\tchunked",
                                     "Transfer-Encoding: CHUNKED",           "Transfer-Encoding: identity"};
      const char* form = kForms[rng.below(std::size(kForms))];
      p.headers.push_back(form);  // alongside the Content-Length, with an unchunked body
      variant = form;
      out = p.bytes();
      break;
    }
    case ProtocolMutation::bare_lf:
      variant = "LF only";
      out = p.bytes("\n");
      break;
    case ProtocolMutation::obs_fold:
      p.headers.insert(p.headers.begin() + static_cast<std::ptrdiff_t>(rng.below(p.headers.size() + 1)),
                       rng.chance(0.5) ? "X-Folded: first\r\n second" : "X-Folded: first\r\n\tsecond");
      variant = "continuation line";
      out = p.bytes();
      break;
    case ProtocolMutation::many_headers: {
      const std::size_t count = rng.chance(0.5) ? 1000 : 10000;
      for (std::size_t i = 0; i < count; ++i) p.headers.push_back("X-Many-" + std::to_string(i) + ": v");
      variant = std::to_string(count) + " headers";
      out = p.bytes();
      break;
    }
    case ProtocolMutation::huge_header_line:
      p.headers.push_back("X-Huge: " + std::string(64 * 1024, 'a'));
      variant = "64 KiB";
      out = p.bytes();
      break;
    case ProtocolMutation::invalid_method: {
      static const char* kMethods[] = {"G ET", "GE\x01T", "GET\x7f", "(GET)", "G\xc3\xa9T"};
      std::string method = rng.chance(0.2) ? std::string(4096, 'A') : kMethods[rng.below(std::size(kMethods))];
      variant = method.size() > 16 ? "4096-byte method" : "method '" + method + "'";
      if (space != std::string::npos) p.request_line.replace(0, space, method);
      out = p.bytes();
      break;
    }
    case ProtocolMutation::invalid_version: {
      static const char* kVersions[] = {"HTTP/1.2", "HTTP/9.9", "HTTP/1.1x", "HTTP/1", "http/1.1", "HTTP/1.01", ""};
      const std::string version = kVersions[rng.below(std::size(kVersions))];
      if (last_space != std::string::npos) p.request_line.erase(last_space);
      if (!version.empty()) p.request_line += " " + version;
      variant = version.empty() ? "no version (HTTP/0.9 style)" : "'" + version + "'";
      out = p.bytes();
      break;
    }
    case ProtocolMutation::absolute_form_target:
      if (space != std::string::npos) p.request_line.insert(space + 1, "http://other.example");
      variant = "other host than Host";
      out = p.bytes();
      break;
    case ProtocolMutation::missing_host:
      p.drop("Host");
      variant = "no Host";
      out = p.bytes();
      break;
    case ProtocolMutation::duplicate_host:
      p.headers.insert(p.headers.begin() + 1, "Host: other.example");
      variant = "second Host other.example";
      out = p.bytes();
      break;
    case ProtocolMutation::nul_in_header:
      p.headers.push_back(std::string("X-Nul: a\0b", 10));
      variant = "X-Nul";
      out = p.bytes();
      break;
    case ProtocolMutation::space_before_colon: {
      auto it = std::find_if(p.headers.begin(), p.headers.end(),
                             [](const std::string& l) { return is_named(l, "Content-Length"); });
      if (it == p.headers.end()) it = p.headers.begin();
      if (it != p.headers.end()) it->insert(it->find(':'), " ");
      variant = it != p.headers.end() ? it->substr(0, it->find(':') + 1) : "";
      out = p.bytes();
      break;
    }
  }
  RequestCase r;
  r.operation_id = valid.operation_id;
  r.method = valid.method;
  r.path = valid.path;
  r.raw = std::move(out);
  r.expect_valid = false;
  r.mutation = "protocol: " + std::string(protocol_mutation_name(kind)) + (variant.empty() ? "" : ": " + variant);
  return r;
}

RequestCase protocol_mutation(const RequestCase& valid, const net::Url& base, Rng& rng,
                              const std::vector<std::pair<std::string, std::string>>& extra_headers) {
  const auto kind = static_cast<ProtocolMutation>(rng.below(kProtocolMutationCount));
  return protocol_mutation(valid, base, kind, rng, extra_headers);
}

}  // namespace chaosplus::fuzz
