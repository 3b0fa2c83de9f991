#include "support/prometheus.h"

#include <cstdlib>
#include <limits>
#include <set>
#include <sstream>

namespace chaosplus::testing {
namespace {

bool name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
}

std::size_t read_name(const std::string& line, std::size_t at) {
  std::size_t end = at;
  while (end < line.size() && name_char(line[end], end == at)) ++end;
  return end;
}

bool read_value(const std::string& text, double& out) {
  if (text == "NaN") out = std::numeric_limits<double>::quiet_NaN();
  else if (text == "+Inf" || text == "Inf") out = std::numeric_limits<double>::infinity();
  else if (text == "-Inf") out = -std::numeric_limits<double>::infinity();
  else {
    if (text.empty()) return false;
    char* end = nullptr;
    out = std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size();
  }
  return true;
}

// The family a sample belongs to: its name, or without a _total/_sum/_count/_bucket suffix.
std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
  if (types.contains(name)) return name;
  for (const char* suffix : {"_sum", "_count", "_bucket"}) {
    std::string s(suffix);
    if (name.size() > s.size() && name.ends_with(s) && types.contains(name.substr(0, name.size() - s.size()))) {
      return name.substr(0, name.size() - s.size());
    }
  }
  return {};
}

}  // namespace

std::optional<double> PromPage::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

PromPage parse_prometheus(const std::string& text) {
  PromPage page;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  std::set<std::string> helped;
  std::string current;  // the family whose samples are being read: they must be together
  std::set<std::string> closed;
  auto fail = [&](const std::string& why) {
    page.error = "line " + std::to_string(number) + ": " + why + ": " + line;
    return page;
  };
  if (!text.empty() && text.back() != '\n') return fail("the page must end with a newline");
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, keyword, name;
      words >> hash >> keyword >> name;
      if (keyword == "TYPE") {
        std::string type;
        words >> type;
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!kTypes.contains(type)) return fail("unknown type '" + type + "'");
        if (page.types.contains(name)) return fail("family declared twice");
        if (read_name(name, 0) != name.size() || name.empty()) return fail("bad metric name");
        page.types[name] = type;
      } else if (keyword == "HELP") {
        if (!helped.insert(name).second) return fail("HELP given twice");
      }
      continue;
    }
    PromSample sample;
    std::size_t at = read_name(line, 0);
    if (at == 0) return fail("a sample must start with a metric name");
    sample.name = line.substr(0, at);
    const std::string family = family_of(sample.name, page.types);
    if (family.empty()) return fail("sample of a family without a TYPE line");
    if (family != current) {
      if (closed.contains(family)) return fail("samples of one family are not together");
      if (!current.empty()) closed.insert(current);
      current = family;
    }
    if (at < line.size() && line[at] == '{') {
      ++at;
      while (at < line.size() && line[at] != '}') {
        std::size_t end = read_name(line, at);
        if (end == at) return fail("bad label name");
        std::string key = line.substr(at, end - at);
        if (key.find(':') != std::string::npos) return fail("':' in a label name");
        at = end;
        if (at + 1 >= line.size() || line[at] != '=' || line[at + 1] != '"') return fail("expected =\" after a label");
        at += 2;
        std::string value;
        bool closed_quote = false;
        while (at < line.size()) {
          char c = line[at++];
          if (c == '"') {
            closed_quote = true;
            break;
          }
          if (c == '\\') {
            if (at >= line.size()) return fail("broken escape");
            char e = line[at++];
            if (e == 'n') value += '\n';
            else if (e == '\\' || e == '"') value += e;
            else return fail("unknown escape");
          } else {
            value += c;
          }
        }
        if (!closed_quote) return fail("unterminated label value");
        if (sample.labels.contains(key)) return fail("label given twice");
        sample.labels[key] = value;
        if (at < line.size() && line[at] == ',') ++at;
      }
      if (at >= line.size()) return fail("unterminated label set");
      ++at;  // '}'
    }
    if (at >= line.size() || line[at] != ' ') return fail("expected a space before the value");
    std::istringstream rest(line.substr(at + 1));
    std::string value, timestamp, extra;
    rest >> value >> timestamp >> extra;
    if (!read_value(value, sample.value)) return fail("the value is not a number");
    if (!extra.empty()) return fail("trailing text");
    if (!timestamp.empty() && timestamp.find_first_not_of("-0123456789") != std::string::npos) {
      return fail("bad timestamp");
    }
    page.samples.push_back(std::move(sample));
  }
  return page;
}

}  // namespace chaosplus::testing
