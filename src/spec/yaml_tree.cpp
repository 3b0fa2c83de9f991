#include "spec/yaml_tree.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>

namespace chaosplus::spec {
namespace {

Mark to_mark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// YAML 1.2 core schema integers: [-+]?[0-9]+ (that fit 64 bits; larger ones read as numbers).
bool is_integer(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  return is_digits(s);
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_float(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  std::size_t i = 0;
  std::size_t int_digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  std::size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits == 0 && frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exp_digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

YamlNode::Kind infer_plain_kind(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return YamlNode::Kind::boolean;
  }
  if (s == "null" || s == "Null" || s == "NULL" || s == "~" || s.empty()) return YamlNode::Kind::null;
  if (is_integer(s)) {
    std::int64_t value = 0;
    std::string_view digits = s.front() == '+' ? s.substr(1) : s;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc{} && ptr == digits.data() + digits.size()) return YamlNode::Kind::integer;
    return YamlNode::Kind::number;
  }
  if (is_float(s)) return YamlNode::Kind::number;
  return YamlNode::Kind::string;
}

// Notes where documents start, without building them. yaml-cpp's LoadAll loops forever on some
// malformed inputs (it keeps "finding" a document at the same place), so documents are counted here
// with a bound, and a document that starts where the previous one did means the parser is stuck.
// It also notes the first value nested deeper than kMaxDepth: yaml-cpp gives up on very deep files
// (thousands of levels) with just "bad file", and this is the place to point at instead.
class DocumentStarts : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  std::optional<YAML::Mark> too_deep;

  void OnDocumentStart(const YAML::Mark& mark) override {
    starts.push_back(mark);
    open_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { value_at(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { value_at(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string&) override {
    value_at(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    value_at(mark);
    open_.push_back({false, 0});
  }
  void OnSequenceEnd() override { open_.pop_back(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    value_at(mark);
    open_.push_back({true, 0});
  }
  void OnMapEnd() override { open_.pop_back(); }

 private:
  // A value inside n open lists and maps is at depth n, as Reader::convert counts (keys do not count).
  void value_at(const YAML::Mark& mark) {
    const bool key = !open_.empty() && open_.back().map && open_.back().children % 2 == 0;
    if (!open_.empty()) ++open_.back().children;
    if (!key && open_.size() > static_cast<std::size_t>(kMaxDepth) && !too_deep) too_deep = mark;
  }
  struct Open {
    bool map;
    std::size_t children;
  };
  std::vector<Open> open_;
};

std::string too_deep_message() {
  return "values nested more than " + std::to_string(kMaxDepth) + " levels deep, expected a flatter document";
}

class Reader {
 public:
  Reader(const EnvLookup& env, YamlDocument& doc) : env_(env), doc_(doc) {}

  YamlNode convert(const YAML::Node& node, const std::string& pointer, int depth, Mark fallback) {
    YamlNode out;
    out.pointer = pointer;
    out.mark = to_mark(node.Mark());
    if (out.mark.line == 0) out.mark = fallback;
    if (++count_ > kMaxNodes) {
      if (!count_reported_) {
        count_reported_ = true;
        issue(out, "the document has more than " + std::to_string(kMaxNodes) +
                       " values (aliases expanding?), expected a smaller experiment");
      }
      return out;
    }
    if (depth > kMaxDepth) {
      issue(out, too_deep_message());
      return out;
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: out.kind = YamlNode::Kind::null; break;
      case YAML::NodeType::Scalar: read_scalar(node, out); break;
      case YAML::NodeType::Sequence: {
        out.kind = YamlNode::Kind::sequence;
        std::size_t index = 0;
        for (const auto& item : node) {
          out.items.push_back(convert(item, pointer + "/" + std::to_string(index++), depth + 1, out.mark));
        }
        break;
      }
      case YAML::NodeType::Map: {
        out.kind = YamlNode::Kind::map;
        std::map<std::string, Mark> seen;
        for (const auto& pair : node) {
          // Copies: yaml-cpp's iterator hands out a temporary pair, references into it dangle.
          const YAML::Node key = pair.first;
          const YAML::Node value = pair.second;
          Mark key_mark = to_mark(key.Mark());
          if (key_mark.line == 0) key_mark = out.mark;
          if (!key.IsScalar()) {
            doc_.issues.push_back({key_mark, pointer,
                                   std::string("found ") +
                                       (key.IsNull()  ? "an empty key"
                                        : key.IsMap() ? "a map as a key"
                                                      : "a list as a key") +
                                       ", expected a text key"});
            continue;
          }
          const std::string& name = key.Scalar();
          if (auto [pos, fresh] = seen.emplace(name, key_mark); !fresh) {
            doc_.issues.push_back({key_mark, pointer + "/" + pointer_segment(name),
                                   "duplicate key '" + name + "' (first at line " + std::to_string(pos->second.line) +
                                       "), expected each key once in a map"});
            continue;
          }
          YamlEntry entry;
          entry.key = name;
          entry.key_mark = key_mark;
          // A key with no value reads as null positioned at the next token; the key is the better place.
          entry.value = convert(value, pointer + "/" + pointer_segment(name), depth + 1, key_mark);
          if (entry.value.kind == YamlNode::Kind::null) entry.value.mark = key_mark;
          out.entries.push_back(std::move(entry));
        }
        break;
      }
    }
    return out;
  }

 private:
  void issue(const YamlNode& at, std::string message) {
    doc_.issues.push_back({at.mark, at.pointer, std::move(message)});
  }

  void read_scalar(const YAML::Node& node, YamlNode& out) {
    const std::string& raw = node.Scalar();
    const bool plain = node.Tag() == "?";
    if (raw.size() > kMaxScalarLength) {
      doc_.oversized_scalar = true;
      issue(out, "found a value of " + std::to_string(raw.size()) + " characters, expected at most " +
                     std::to_string(kMaxScalarLength));
      out.kind = YamlNode::Kind::string;
      out.text = raw.substr(0, kMaxScalarLength);
      return;
    }
    Interpolation result = interpolate(raw, env_);
    for (const auto& error : result.errors) {
      Mark mark = out.mark;
      // In a one-line plain scalar the offset maps straight onto columns.
      if (plain && raw.find('\n') == std::string::npos && mark.line > 0) mark.column += static_cast<int>(error.offset);
      doc_.issues.push_back({mark, out.pointer, error.message});
    }
    // Not a ?: with `raw`: its result would be a copy, and the interpolated text would be copied too.
    if (result.errors.empty()) {
      out.text = std::move(result.text);
    } else {
      out.text = raw;
    }
    if (out.text.size() > kMaxScalarLength) {
      doc_.oversized_scalar = true;
      issue(out, "found a value of " + std::to_string(out.text.size()) +
                     " characters after interpolation, expected at most " + std::to_string(kMaxScalarLength));
      out.text.resize(kMaxScalarLength);
    }
    out.kind = plain ? infer_plain_kind(out.text) : YamlNode::Kind::string;
    if (out.kind == YamlNode::Kind::null) out.text.clear();
  }

  const EnvLookup& env_;
  YamlDocument& doc_;
  std::size_t count_ = 0;
  bool count_reported_ = false;
};

}  // namespace

const YamlEntry* YamlNode::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

std::string pointer_segment(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string describe_found(const YamlNode& node) {
  switch (node.kind) {
    case YamlNode::Kind::null: return "nothing";
    case YamlNode::Kind::sequence: return "a list";
    case YamlNode::Kind::map: return "a map";
    case YamlNode::Kind::boolean: return "the boolean " + node.text;
    case YamlNode::Kind::integer:
    case YamlNode::Kind::number: return "the number " + node.text;
    case YamlNode::Kind::string: {
      constexpr std::size_t kShown = 40;
      if (node.text.size() <= kShown) return "text '" + node.text + "'";
      return "text '" + node.text.substr(0, kShown) + "...'";
    }
  }
  return "a value";
}

namespace {

// The ${...} reference that starts at `at` ("${" included), or "" when there is none.
std::string reference_at(std::string_view source, std::size_t at) {
  if (source.compare(at, 2, "${") != 0) return "";
  const std::size_t close = source.find_first_of("}\n", at + 2);
  if (close == std::string_view::npos || source[close] != '}') return "";
  return std::string(source.substr(at, close - at + 1));
}

// What a user most likely did when yaml-cpp loses track of a flow collection: an unquoted ${VAR}
// (its braces are flow indicators) or an unquoted ': ' in a value. Empty for other errors.
std::string flow_hint(std::string_view source, const YAML::Mark& mark, const std::string& message) {
  if (message.find("flow") == std::string::npos || mark.pos < 0) return "";
  const auto pos = static_cast<std::size_t>(mark.pos);
  if (pos >= source.size()) return "";
  const bool sequence = message.find("sequence") != std::string::npos;
  const bool map = message.find("map") != std::string::npos;
  const std::string inside = sequence ? "[ ... ]" : map ? "{ ... }" : "{ ... } or [ ... ]";
  // yaml-cpp stops at the '{' of "${"; a flow spanning lines may stop elsewhere on the line.
  const std::size_t line_start = source.rfind('\n', pos) == std::string_view::npos ? 0 : source.rfind('\n', pos) + 1;
  const std::size_t line_end = std::min(source.find('\n', pos), source.size());
  const std::string_view line = source.substr(line_start, line_end - line_start);
  std::string reference = pos > 0 ? reference_at(source, pos - 1) : "";
  if (reference.empty()) {
    for (std::size_t at = line.find("${"); at != std::string_view::npos && reference.empty();
         at = line.find("${", at + 2)) {
      reference = reference_at(line, at);
    }
  }
  if (!reference.empty()) {
    return "; a " + reference + " inside " + inside + " must be quoted: \"" + reference +
           "\" (its braces are YAML flow indicators; block style keeps a number a number)";
  }
  // A ': ' after a flow opener on the same line: a value such as `cwd: /srv/a: b`.
  const bool opened_on_line = line.substr(0, pos - line_start).find_first_of("{[") != std::string_view::npos;
  if (source[pos] == ':' && opened_on_line) return "; a value that contains ': ' inside " + inside + " must be quoted";
  return "; check that each " + inside +
         " is closed, and quote values in it that contain ',', '[', ']', '{', '}' or ': '";
}

}  // namespace

YamlDocument read_yaml(std::string_view text, const EnvLookup& env) {
  YamlDocument doc;
  if (text.size() > kMaxFileBytes) {
    doc.issues.push_back({{1, 1},
                          "",
                          "found a file of " + std::to_string(text.size()) + " bytes, expected at most " +
                              std::to_string(kMaxFileBytes)});
    return doc;
  }
  const std::string source(text);
  DocumentStarts starts;
  YAML::Node first;
  try {
    std::istringstream stream(source);
    YAML::Parser parser(stream);
    while (starts.starts.size() < 2 && parser.HandleNextDocument(starts)) {
      if (starts.starts.size() == 2 && starts.starts[0].pos == starts.starts[1].pos) {
        const YAML::Mark& stuck = starts.starts[0];
        const std::size_t pos = stuck.pos >= 0 ? static_cast<std::size_t>(stuck.pos) : 0;
        const std::string found = pos < source.size() ? "'" + source.substr(pos, 1) + "'" : "the end of the file";
        doc.issues.push_back({to_mark(stuck).line ? to_mark(stuck) : Mark{1, 1}, "",
                              "invalid YAML: unexpected " + found + ", expected a key, a value or a list item"});
        return doc;
      }
    }
    first = YAML::Load(source);
  } catch (const YAML::DeepRecursion& e) {
    const Mark mark = to_mark(starts.too_deep.value_or(e.mark));
    doc.issues.push_back({mark.line ? mark : Mark{1, 1}, "", too_deep_message()});
    return doc;
  } catch (const YAML::Exception& e) {
    Mark mark = to_mark(e.mark);
    if (mark.line == 0) mark = {1, 1};
    doc.issues.push_back({mark, "", "invalid YAML: " + e.msg + flow_hint(source, e.mark, e.msg)});
    return doc;
  }
  if (starts.starts.size() > 1) {
    const Mark mark = to_mark(starts.starts[1]);
    doc.issues.push_back(
        {mark.line ? mark : Mark{1, 1}, "", "found a second YAML document, expected one experiment per file"});
  }
  Reader reader(env, doc);
  doc.root = reader.convert(first, "", 0, Mark{1, 1});
  return doc;
}

}  // namespace chaosplus::spec
