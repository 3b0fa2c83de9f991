#include "fuzz/oracles.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace chaosplus::fuzz {
namespace {

// Bodies are searched for leaks only this far: error pages are short, and a huge body must not
// cost the hot path.
constexpr std::size_t kLeakScanBytes = 64 * 1024;

// How far the shown text of a leak reaches past its needle.
enum class Extent : std::uint8_t {
  needle,      // the needle itself
  token,       // the needle and what follows up to a space, quote or bracket (a path, a version)
  digit_token  // like token, and only when a digit follows the needle ("nginx/1.25")
};

struct Pattern {
  std::string_view kind;
  std::string_view needle;
  Extent extent = Extent::needle;
};

// Text that no healthy error body holds: stack traces of common runtimes, database error text,
// absolute file paths and version banners. Literal needles: a substring search per pattern costs
// far less than a regex, and error bodies are searched on every 4xx and 5xx.
constexpr std::array kPatterns{
    Pattern{"python traceback", "Traceback (most recent call last)"},
    Pattern{"java stack trace", "\tat java."},
    Pattern{"java stack trace", "at java.lang."},
    Pattern{"java stack trace", "Exception in thread \""},
    Pattern{"java stack trace", "at org.springframework."},
    Pattern{".NET stack trace", "   at System."},
    Pattern{".NET stack trace", "System.NullReferenceException"},
    Pattern{"node stack trace", "at Object.<anonymous>"},
    Pattern{"node stack trace", "(node:internal/"},
    Pattern{"go panic", "goroutine 1 [running]"},
    Pattern{"go panic", "panic: runtime error"},
    Pattern{"rust panic", "panicked at "},
    Pattern{"ruby stack trace", ":in `"},
    Pattern{"php error", "PHP Fatal error"},
    Pattern{"php error", "Stack trace:\n#0"},
    Pattern{"native stack trace", "#0 0x"},
    Pattern{"native stack trace", "terminate called after throwing"},
    Pattern{"native stack trace", "AddressSanitizer"},
    Pattern{"native stack trace", "Segmentation fault"},
    Pattern{"c++ exception", "std::out_of_range"},
    Pattern{"c++ exception", "std::invalid_argument"},
    Pattern{"c++ exception", "std::logic_error"},
    Pattern{"c++ exception", "std::runtime_error"},
    Pattern{"c++ exception", "std::bad_alloc"},
    Pattern{"c++ exception", "std::length_error"},
    Pattern{"c++ exception", "basic_string::"},
    Pattern{"c++ exception", "stoi"},
    Pattern{"postgresql error", "syntax error at or near"},
    Pattern{"postgresql error", "ERROR:  "},
    Pattern{"postgresql error", "org.postgresql."},
    Pattern{"postgresql error", "PG::"},
    Pattern{"postgresql error", "psycopg2."},
    Pattern{"mysql error", "You have an error in your SQL syntax"},
    Pattern{"mysql error", "com.mysql.jdbc"},
    Pattern{"mysql error", "mysql_fetch"},
    Pattern{"sql error", "SQLSTATE["},
    Pattern{"sqlite error", "SQLITE_ERROR"},
    Pattern{"sqlite error", "sqlite3.OperationalError"},
    Pattern{"sqlite error", "SQL logic error"},
    Pattern{"sqlite error", "unrecognized token:"},
    Pattern{"oracle error", "ORA-", Extent::digit_token},
    Pattern{"mssql error", "Unclosed quotation mark after the character string"},
    Pattern{"file path", "/home/", Extent::token},
    Pattern{"file path", "/usr/", Extent::token},
    Pattern{"file path", "/var/", Extent::token},
    Pattern{"file path", "/opt/", Extent::token},
    Pattern{"file path", "/srv/", Extent::token},
    Pattern{"file path", "/root/", Extent::token},
    Pattern{"file path", "C:\\", Extent::token},
    Pattern{"version banner", "PostgreSQL ", Extent::digit_token},
    Pattern{"version banner", "MySQL ", Extent::digit_token},
    Pattern{"version banner", "nginx/", Extent::digit_token},
    Pattern{"version banner", "Apache/", Extent::digit_token},
    Pattern{"version banner", "PHP/", Extent::digit_token},
    Pattern{"version banner", "Werkzeug/", Extent::digit_token},
    Pattern{"version banner", "Python/", Extent::digit_token},
    Pattern{"version banner", "OpenSSL/", Extent::digit_token},
    Pattern{"version banner", "Jetty(", Extent::digit_token},
};

bool ends_token(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0 || c == '"' || c == '\'' || c == '<' || c == '>' ||
         c == ',' || c == ')' || c == '(' || c == ']' || c == '[' || c == '}' || c == '{' || c == ';' || c == '`';
}

// The shown text of a match of `p` at `at`, or "" when it does not count there.
std::string_view extent_at(std::string_view body, std::size_t at, const Pattern& p) {
  const std::size_t after = at + p.needle.size();
  if (p.extent == Extent::needle) return body.substr(at, p.needle.size());
  if (p.extent == Extent::digit_token &&
      (after >= body.size() || std::isdigit(static_cast<unsigned char>(body[after])) == 0))
    return {};
  std::size_t end = after;
  while (end < body.size() && end - at < 200 && !ends_token(body[end])) ++end;
  // A bare prefix ("/usr/" alone, "/home/ " in prose) names no file.
  if (p.extent == Extent::token && end - after < 2) return {};
  return body.substr(at, end - at);
}

bool is_word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

std::string strip_tags(std::string_view text) {
  std::string out;
  bool in_tag = false;
  for (char c : text) {
    if (c == '<') in_tag = true;
    else if (c == '>') in_tag = false;
    else if (!in_tag) out += c;
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The message of a JSON error body: {"error": "..."}, {"error": {"message": "..."}}, {"detail": "..."}.
std::optional<std::string> json_message(const Json& json, int depth = 0) {
  if (!json.is_object() || depth > 2) return std::nullopt;
  for (const char* key : {"error", "message", "detail", "title", "reason", "error_description"}) {
    const auto it = json.find(key);
    if (it == json.end()) continue;
    if (it->is_string()) return it->get<std::string>();
    if (auto inner = json_message(*it, depth + 1)) return inner;
  }
  return std::nullopt;
}

std::string excerpt(std::string_view body, std::size_t limit = 200) {
  std::string out;
  for (char c : body.substr(0, limit)) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  if (body.size() > limit) out += "...";
  return out;
}

std::string status_line(const net::Response& response) {
  return std::to_string(response.status) + (response.reason.empty() ? "" : " " + response.reason);
}

Verdict verdict(std::string oracle, Severity severity, std::string signature, std::string title, std::string evidence,
                Trigger trigger, std::string wfc = {}) {
  return Verdict{std::move(oracle),   severity,       std::move(signature), std::move(title),
                 std::move(evidence), std::move(wfc), std::move(trigger)};
}

}  // namespace

std::optional<Leak> find_leak(std::string_view body, std::string_view request) {
  body = body.substr(0, std::min(body.size(), kLeakScanBytes));
  for (const Pattern& p : kPatterns) {
    for (std::size_t at = body.find(p.needle); at != std::string_view::npos; at = body.find(p.needle, at + 1)) {
      // "stoi" alone is a word inside others ("stoic"): it counts only as a whole word.
      if (p.needle == "stoi" &&
          ((at > 0 && is_word_char(body[at - 1])) || (at + 4 < body.size() && is_word_char(body[at + 4]))))
        continue;
      const std::string_view shown = extent_at(body, at, p);
      if (shown.empty()) continue;
      // The request's own text sent back (a path echoed in a 404) is not a leak of the server's.
      if (!request.empty() && request.find(shown) != std::string_view::npos) continue;
      return Leak{std::string(p.kind), std::string(shown)};
    }
  }
  return std::nullopt;
}

std::string mask_digits(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_word_char(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    bool digit = false;
    while (end < text.size() && (is_word_char(text[end]) || text[end] == '-')) {
      digit = digit || std::isdigit(static_cast<unsigned char>(text[end])) != 0;
      ++end;
    }
    if (digit) out += '#';
    else out.append(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string normalize_message(std::string_view body) {
  std::string line;
  const std::string_view trimmed = trim(body);
  if (!trimmed.empty() && (trimmed.front() == '{' || trimmed.front() == '[') && trimmed.size() < kLeakScanBytes) {
    const Json json = Json::parse(trimmed, nullptr, false);
    if (!json.is_discarded()) {
      if (auto message = json_message(json)) line = *message;
      else line = json.is_object() && !json.empty() ? "{" + json.begin().key() + "...}" : "";
    }
  }
  if (line.empty()) {
    const std::string text = strip_tags(trimmed.substr(0, std::min<std::size_t>(trimmed.size(), 4096)));
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = std::min(text.find('\n', start), text.size());
      const std::string_view candidate = trim(std::string_view(text).substr(start, end - start));
      if (!candidate.empty()) {
        line = std::string(candidate);
        break;
      }
      start = end + 1;
    }
  }
  std::string masked = mask_digits(trim(line));
  if (masked.size() > 80) masked.resize(80);
  return masked;
}

std::string describe_operation(const openapi::Operation* operation, const RequestCase& request) {
  if (operation != nullptr) return operation->method + " " + operation->path;
  if (!request.method.empty()) return request.method + " " + request.path;
  return "raw request";
}

Oracles::Oracles(const openapi::Document* document) {
  if (document != nullptr) checker_ = std::make_unique<openapi::ResponseChecker>(*document);
}

Oracles::~Oracles() = default;

std::vector<Verdict> Oracles::judge(const OracleInput& in) {
  std::vector<Verdict> out;
  const Reply& reply = *in.reply;
  const std::string what = describe_operation(in.operation, *in.request);
  // A raw protocol mutation may be refused by closing or by waiting for bytes that never come:
  // both are correct answers to malformed framing. Only answers (5xx, leaks) and crashes count.
  switch (reply.outcome) {
    case Outcome::refused:
    case Outcome::connect_failed: return out;
    case Outcome::timeout:
      // A hang while a fault slows the system is the fault's doing.
      if (!in.raw && !in.fault_active)
        out.push_back(
            verdict("timeout", Severity::high, "no answer within the timeout", what + " hangs",
                    "no complete answer within the timeout (" + std::to_string(reply.latency_ns / 1'000'000) + " ms)",
                    {"outcome", "timeout"}));
      return out;
    case Outcome::reset:
      if (!in.raw)
        out.push_back(verdict("connection_reset", Severity::high, "reset before an answer",
                              what + " resets the connection", "connection reset: " + reply.error,
                              {"outcome", "reset"}));
      return out;
    case Outcome::closed:
      if (!in.raw)
        out.push_back(verdict("closed_without_response", Severity::high, "closed before an answer",
                              what + " closes the connection without an answer", "connection closed: " + reply.error,
                              {"outcome", "closed"}));
      return out;
    case Outcome::bad_response:
      if (!in.raw)
        out.push_back(verdict("malformed_response", Severity::medium, "not an HTTP/1.1 response",
                              what + " answers with bytes that are not HTTP/1.1", reply.error,
                              {"outcome", "bad_response"}));
      return out;
    case Outcome::response: break;
  }
  const net::Response& response = reply.response;
  const int status = response.status;
  if (status >= 500 && status <= 599) {
    // Under a fault, 503 and 504 are the system degrading as it should; a 500 still is a bug.
    // 503 with Retry-After is the server saying on purpose that it is unavailable for now (overload, a
    // dependency down): degradation it announces, not a crash.
    const bool degraded =
        (in.fault_active && (status == 503 || status == 504)) || (status == 503 && response.has_header("Retry-After"));
    // 501 (a transfer coding it does not implement) and 505 (an HTTP version it does not speak) are
    // what RFC 9112 asks of a server given such framing: correct answers to raw mutations.
    const bool protocol_refusal = in.raw && (status == 501 || status == 505);
    if (!degraded && !protocol_refusal) {
      const std::string message = normalize_message(response.body);
      out.push_back(verdict("server_error", Severity::high, std::to_string(status) + " " + message,
                            what + " answers " + std::to_string(status) + (message.empty() ? "" : ": " + message),
                            status_line(response) + ": " + excerpt(response.body),
                            {"status_equals", std::to_string(status)}, "100"));
    }
  }
  if (status >= 400) {
    if (auto leak = find_leak(response.body, in.bytes)) {
      out.push_back(verdict(
          "error_leak", Severity::medium, leak->kind, what + " leaks internals in its error body (" + leak->kind + ")",
          status_line(response) + ", body shows '" + excerpt(leak->marker, 120) + "': " + excerpt(response.body),
          {"body_contains", leak->marker}));
    }
  }
  if (in.raw || status >= 500) return out;
  if (checker_ && in.operation != nullptr && !reply.body_truncated) {
    if (auto mismatch = checker_->check(*in.operation, status, response.header("Content-Type"), response.body)) {
      const std::string& m = *mismatch;
      if (m.starts_with("status ")) {
        out.push_back(verdict("status_undocumented", Severity::low, "status " + std::to_string(status),
                              what + " answers " + std::to_string(status) + ", which it does not document", m,
                              {"status_equals", std::to_string(status)}, "200"));
      } else if (m.starts_with("body ")) {
        out.push_back(verdict("schema_mismatch", Severity::medium, std::to_string(status) + " " + mask_digits(m),
                              what + " answers " + std::to_string(status) + " with a body its schema does not allow",
                              m + "; body: " + excerpt(response.body), {"schema_mismatch", ""}, "201"));
      } else {
        out.push_back(verdict("content_type_mismatch", Severity::low, std::to_string(status) + " " + mask_digits(m),
                              what + " answers " + std::to_string(status) + " with an undocumented content type", m,
                              {"schema_mismatch", ""}, "201"));
      }
    }
  }
  if (status >= 200 && status <= 299 && in.claims_invalid) {
    // One finding per place the input was wrong ("body.sku"), not per wrong value.
    const std::string& mutation = in.request->mutation;
    const std::string where = mutation.substr(0, mutation.find(':'));
    out.push_back(verdict("accepted_invalid", Severity::low, mask_digits(where.empty() ? "invalid input" : where),
                          what + " accepts invalid input with " + std::to_string(status) +
                              (mutation.empty() ? "" : " (" + mutation + ")"),
                          status_line(response) + " to a request made invalid: " + mutation, {"status_class", "2xx"}));
  }
  return out;
}

}  // namespace chaosplus::fuzz
