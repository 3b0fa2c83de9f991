#include "spec/text_rules.h"

#include <cstdio>

namespace chaosplus::spec {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }

std::string shown_control(char c) {
  switch (c) {
    case '\0': return "\\0";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\r': return "\\r";
    default: {
      char text[8];
      std::snprintf(text, sizeof text, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      return text;
    }
  }
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_control(c)) out += shown_control(c);
    else out += c;
  }
  return out;
}

std::optional<std::string> journal_pattern_problem(std::string_view pattern) {
  const std::string written(pattern);
  const std::string expected =
      "expected a file name pattern below the runs folder (run --runs-dir), such as {name}-{run}.jsonl";
  if (pattern.empty()) return "found empty text, " + expected;
  if (pattern.front() == '/') {
    return "found the absolute path '" + written + "', " + expected +
           "; a path anywhere can be given with run --journal";
  }
  for (std::size_t start = 0; start <= pattern.size();) {
    std::size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    if (pattern.substr(start, end - start) == "..") return "found '..' in '" + written + "', " + expected;
    start = end + 1;
  }
  if (pattern.back() == '/') return "found the folder '" + written + "', " + expected;
  for (std::size_t open = pattern.find('{'); open != std::string_view::npos; open = pattern.find('{', open + 1)) {
    const std::size_t close = pattern.find('}', open);
    const std::string_view placeholder = pattern.substr(open, close == std::string_view::npos ? 1 : close - open + 1);
    if (placeholder != "{name}" && placeholder != "{time}" && placeholder != "{run}") {
      return "found '" + std::string(placeholder) + "' in '" + written +
             "', expected only the placeholders {name}, {time} and {run}";
    }
  }
  for (char c : pattern) {
    if (is_control(c)) return "found the control character " + shown_control(c) + ", " + expected;
  }
  return std::nullopt;
}

}  // namespace chaosplus::spec
