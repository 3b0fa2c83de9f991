#include "openapi/source.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace chaosplus::openapi {

std::string pointer_segment(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string where(const std::string& file, Mark mark) {
  if (mark.line <= 0) return file + ": ";
  return file + ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column) + ": ";
}

Mark SourceFile::mark_of(std::string pointer) const {
  while (true) {
    if (auto found = marks.find(pointer); found != marks.end()) return found->second;
    if (pointer.empty()) return {};
    pointer.erase(pointer.rfind('/'));
  }
}

namespace {

// ---- JSON: positions of values, by a scanner over text nlohmann already accepted --------------

// Walks valid JSON text and notes where each value starts. It never recurses (the nesting lives in
// `frames`), so a deep document cannot exhaust the stack here.
class JsonMarks {
 public:
  explicit JsonMarks(std::string_view text) : text_(text) {}

  std::unordered_map<std::string, Mark> scan() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        advance();
      } else if (c == '{' || c == '[') {
        const std::string pointer = value_pointer();
        note(pointer, here());
        frames_.push_back({c == '{', pointer, 0, {}, true});
        advance();
      } else if (c == '}' || c == ']') {
        if (!frames_.empty()) frames_.pop_back();
        advance();
      } else if (c == ',') {
        if (!frames_.empty()) {
          if (frames_.back().object) frames_.back().expect_key = true;
          else ++frames_.back().index;
        }
        advance();
      } else if (c == ':') {
        if (!frames_.empty()) frames_.back().expect_key = false;
        advance();
      } else if (c == '"') {
        const Mark start = here();
        const std::size_t begin = pos_;
        advance();
        while (pos_ < text_.size() && text_[pos_] != '"') {
          if (text_[pos_] == '\\') advance();
          advance();
        }
        advance();
        if (!frames_.empty() && frames_.back().object && frames_.back().expect_key) {
          frames_.back().key = nlohmann::json::parse(text_.substr(begin, pos_ - begin)).get<std::string>();
        } else {
          note(value_pointer(), start);
        }
      } else {
        note(value_pointer(), here());
        while (pos_ < text_.size() && std::string_view(" \t\r\n,]}").find(text_[pos_]) == std::string_view::npos) {
          advance();
        }
      }
    }
    return std::move(marks_);
  }

  struct Frame {
    bool object;
    std::string base;
    std::size_t index;
    std::string key;
    bool expect_key;
  };

  // Where the first key given twice in one object is (nlohmann keeps the last silently).
  std::optional<std::pair<std::string, Mark>> duplicate;

 private:
  void note(const std::string& pointer, Mark mark) {
    if (auto [at, fresh] = marks_.emplace(pointer, mark); !fresh && !duplicate) duplicate = {pointer, mark};
  }

  std::string value_pointer() const {
    if (frames_.empty()) return "";
    const Frame& top = frames_.back();
    return top.base + "/" + (top.object ? pointer_segment(top.key) : std::to_string(top.index));
  }
  Mark here() const { return {line_, column_}; }
  void advance() {
    if (pos_ >= text_.size()) return;
    const auto c = static_cast<unsigned char>(text_[pos_++]);
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if ((c & 0xC0) != 0x80) {  // columns count characters, not UTF-8 continuation bytes
      ++column_;
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  std::vector<Frame> frames_;
  std::unordered_map<std::string, Mark> marks_;
};

Mark mark_at_byte(std::string_view text, std::size_t byte) {
  Mark mark{1, 1};
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++mark.line;
      mark.column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++mark.column;
    }
  }
  return mark;
}

// Depth of a parsed JSON value, without recursing deeper than the bound.
bool deeper_than(const Json& value, int limit) {
  if (limit < 0) return true;
  if (value.is_object() || value.is_array()) {
    for (const auto& child : value) {
      if (deeper_than(child, limit - 1)) return true;
    }
  }
  return false;
}

// Well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF): what JSON text must be,
// and what nlohmann checks only when the value is written out, by throwing.
bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    std::uint32_t code = 0;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) length = 2, code = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) length = 3, code = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) length = 4, code = c & 0x07;
    else return false;
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) ||
        (length == 4 && (code < 0x10000 || code > 0x10FFFF))) {
      return false;
    }
    i += length;
  }
  return true;
}

// ---- YAML ----------------------------------------------------------------------------------------

Mark to_mark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0 || m.column < 0) return {};
  return {m.line + 1, m.column + 1};
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? : the YAML 1.2 core schema's floats.
bool is_float(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
  std::size_t i = 0;
  std::size_t digits = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    std::size_t exponent = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

// A plain (unquoted) scalar's value under the YAML 1.2 core schema: `yes` stays text.
Json plain_scalar(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "~") return nullptr;
  std::string_view digits = s;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (all_digits(digits.front() == '-' ? digits.substr(1) : digits)) {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec == std::errc{} && ptr == digits.data() + digits.size()) return value;
    return std::strtod(s.c_str(), nullptr);
  }
  if (is_float(s)) return std::strtod(s.c_str(), nullptr);
  return s;
}

// Counts the values of the first document as they would be once aliases are expanded, from the
// parser's events and without building anything: an alias bomb (anchors of lists of aliases of
// anchors...) is told before converting it would take seconds and gigabytes.
class ExpandedSize : public YAML::EventHandler {
 public:
  std::optional<YAML::Mark> too_many;  // where the count crossed kMaxValues

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto size = sizes_.find(anchor);
    add(mark, size == sizes_.end() ? 1 : size->second);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Open {
    YAML::Mark mark;
    YAML::anchor_t anchor;
    std::size_t size;
  };
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) sizes_[anchor] = 1;
    add(mark, 1);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) { open_.push_back({mark, anchor, 1}); }
  void close() {
    if (open_.empty()) return;
    const Open done = open_.back();
    open_.pop_back();
    if (done.anchor != YAML::NullAnchor) sizes_[done.anchor] = done.size;
    add(done.mark, done.size);
  }
  // Saturating: sizes of aliases of aliases would overflow 64 bits after a few levels.
  void add(const YAML::Mark& mark, std::size_t size) {
    std::size_t& total = open_.empty() ? total_ : open_.back().size;
    total = std::min(total + std::min(size, kMaxValues + 1), kMaxValues + 1);
    if (total > kMaxValues && !too_many) too_many = mark;
  }

  std::vector<Open> open_;
  std::map<YAML::anchor_t, std::size_t> sizes_;
  std::size_t total_ = 0;
};

class YamlReader {
 public:
  explicit YamlReader(SourceFile& out) : out_(out) {}

  std::optional<std::string> error;  // the first problem, with its place

  Json convert(const YAML::Node& node, const std::string& pointer, int depth, Mark fallback) {
    if (error) return nullptr;
    Mark mark = to_mark(node.Mark());
    if (mark.line == 0) mark = fallback;
    out_.marks.emplace(pointer, mark);
    if (++count_ > kMaxValues) {
      fail(mark, pointer,
           "the document has more than " + std::to_string(kMaxValues) +
               " values (YAML aliases expanding?), expected a smaller document");
      return nullptr;
    }
    if (depth > kMaxDepth) {
      fail(mark, pointer,
           "values nested more than " + std::to_string(kMaxDepth) + " levels deep, expected a flatter document");
      return nullptr;
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null: return nullptr;
      case YAML::NodeType::Scalar:
        if (!valid_utf8(node.Scalar())) {
          fail(mark, pointer, "found text that is not valid UTF-8, expected UTF-8 text");
          return nullptr;
        }
        return scalar(node);
      case YAML::NodeType::Sequence: {
        Json array = Json::array();
        std::size_t index = 0;
        for (const auto& item : node) {
          array.push_back(convert(item, pointer + "/" + std::to_string(index++), depth + 1, mark));
        }
        return array;
      }
      case YAML::NodeType::Map: {
        Json object = Json::object();
        std::vector<Json> merged;  // `<<: *base` maps, applied after the keys written here
        for (const auto& pair : node) {
          // Copies: yaml-cpp's iterator hands out a temporary pair, references into it dangle.
          const YAML::Node key = pair.first;
          const YAML::Node value = pair.second;
          Mark key_mark = to_mark(key.Mark());
          if (key_mark.line == 0) key_mark = mark;
          if (!key.IsScalar()) {
            fail(key_mark, pointer, "found a list, a map or nothing as a key, expected a text key");
            return nullptr;
          }
          const std::string& name = key.Scalar();
          const std::string child = pointer + "/" + pointer_segment(name);
          if (!valid_utf8(name)) {
            fail(key_mark, pointer, "found a key that is not valid UTF-8, expected UTF-8 text");
            return nullptr;
          }
          if (object.contains(name)) {
            fail(key_mark, child, "duplicate key '" + name + "', expected each key once in a map");
            return nullptr;
          }
          // A key with no value reads as null positioned at the next token; the key is the better place.
          Json converted = convert(value, child, depth + 1, key_mark);
          if (name == "<<" && key.Tag() == "?" && (converted.is_object() || converted.is_array())) {
            // YAML merge key: the keys of the map (or maps) it names, where this map does not set them.
            if (converted.is_object()) {
              merged.push_back(std::move(converted));
            } else {
              for (auto& item : converted) {
                if (item.is_object()) merged.push_back(std::move(item));
              }
            }
            continue;
          }
          if (value.IsNull() || !value.IsDefined()) out_.marks[child] = key_mark;
          object[name] = std::move(converted);
        }
        for (auto& base : merged) {
          for (auto it = base.begin(); it != base.end(); ++it) {
            if (!object.contains(it.key())) object[it.key()] = std::move(it.value());
          }
        }
        return object;
      }
    }
    return nullptr;
  }

 private:
  static Json scalar(const YAML::Node& node) {
    const std::string& raw = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "?") return plain_scalar(raw);
    if (tag == "!" || tag == "tag:yaml.org,2002:str") return raw;
    // An explicit core tag (!!int, !!bool...) reads as the plain scalar would.
    return plain_scalar(raw);
  }

  void fail(Mark mark, const std::string& pointer, const std::string& message) {
    if (!error) error = where(out_.path, mark) + (pointer.empty() ? "/" : pointer) + ": " + message;
  }

  SourceFile& out_;
  std::size_t count_ = 0;
};

// The last segment of a JSON pointer, unescaped: the key it names.
std::string unescape_last(const std::string& pointer) {
  std::string out;
  const std::string segment = pointer.substr(pointer.rfind('/') + 1);
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '~' && i + 1 < segment.size()) {
      out += segment[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += segment[i];
    }
  }
  return out;
}

// `not_json` is set when the text is not JSON at all (it may still be YAML).
Result<SourceFile> parse_json(std::string_view text, SourceFile file, bool& not_json) {
  not_json = false;
  try {
    file.root = Json::parse(text);
  } catch (const Json::parse_error& e) {
    not_json = true;
    // nlohmann's message names the byte; the place is said as line:column instead.
    std::string what = e.what();
    if (const auto colon = what.rfind(": "); colon != std::string::npos) what = what.substr(colon + 2);
    const std::size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    return Error{where(file.path, mark_at_byte(text, byte)) + "invalid JSON: " + what, ErrorCode::invalid_argument};
  }
  if (deeper_than(file.root, kMaxDepth)) {
    return Error{where(file.path, {1, 1}) + "/: values nested more than " + std::to_string(kMaxDepth) +
                     " levels deep, expected a flatter document",
                 ErrorCode::invalid_argument};
  }
  // Counted on the parsed value before the positions are noted: noting them is the slow part.
  std::size_t values = 0;
  std::vector<const Json*> stack{&file.root};
  while (!stack.empty() && values <= kMaxValues) {
    const Json* value = stack.back();
    stack.pop_back();
    ++values;
    if (value->is_structured()) {
      for (const auto& child : *value) stack.push_back(&child);
    }
  }
  if (values > kMaxValues) {
    return Error{file.path + ": the document has more than " + std::to_string(kMaxValues) +
                     " values, expected a smaller document",
                 ErrorCode::invalid_argument};
  }
  JsonMarks scanner(text);
  file.marks = scanner.scan();
  if (scanner.duplicate) {
    const auto& [pointer, mark] = *scanner.duplicate;
    return Error{where(file.path, mark) + pointer + ": duplicate key '" + unescape_last(pointer) +
                     "', expected each key once in an object",
                 ErrorCode::invalid_argument};
  }
  return file;
}

Result<SourceFile> parse_yaml(std::string_view text, SourceFile file) {
  YAML::Node node;
  try {
    const std::string source(text);
    std::istringstream stream(source);
    YAML::Parser parser(stream);
    ExpandedSize size;
    parser.HandleNextDocument(size);
    if (size.too_many) {
      const Mark mark = to_mark(*size.too_many);
      return Error{where(file.path, mark.line ? mark : Mark{1, 1}) + "the document has more than " +
                       std::to_string(kMaxValues) + " values (YAML aliases expanding?), expected a smaller document",
                   ErrorCode::invalid_argument};
    }
    node = YAML::Load(source);
  } catch (const YAML::DeepRecursion& e) {
    const Mark mark = to_mark(e.mark);
    return Error{where(file.path, mark.line ? mark : Mark{1, 1}) + "/: values nested too deep (yaml-cpp stopped at " +
                     std::to_string(e.depth()) + " levels), expected a flatter document",
                 ErrorCode::invalid_argument};
  } catch (const YAML::Exception& e) {
    const Mark mark = to_mark(e.mark);
    return Error{where(file.path, mark.line ? mark : Mark{1, 1}) + "invalid YAML: " + e.msg,
                 ErrorCode::invalid_argument};
  }
  YamlReader reader(file);
  file.root = reader.convert(node, "", 0, Mark{1, 1});
  if (reader.error) return Error{*reader.error, ErrorCode::invalid_argument};
  return file;
}

}  // namespace

Result<SourceFile> parse_source(std::string_view text, const std::string& path) {
  SourceFile file;
  file.path = path;
  if (text.size() > kMaxFileBytes) {
    return Error{path + ": found a file of " + std::to_string(text.size()) + " bytes, expected at most " +
                     std::to_string(kMaxFileBytes),
                 ErrorCode::invalid_argument};
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 byte order mark
  // JSON by content: its first character opens an object or a list. YAML may start so too (a flow
  // map), so text that is not JSON is read as YAML before the JSON error is told.
  std::size_t first = 0;
  while (first < text.size() && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  if (first < text.size() && (text[first] == '{' || text[first] == '[')) {
    bool not_json = false;
    auto json = parse_json(text, file, not_json);
    if (json.ok() || !not_json) return json;
    auto yaml = parse_yaml(text, std::move(file));
    if (yaml.ok()) return yaml;
    return json;
  }
  return parse_yaml(text, std::move(file));
}

}  // namespace chaosplus::openapi
