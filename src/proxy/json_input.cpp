#include "proxy/json_input.h"

#include <vector>

namespace chaosplus::proxy {

namespace {

using nlohmann::json;

constexpr std::size_t kMaxQuoted = 64;       // characters of a string value shown in a message
constexpr std::size_t kMaxParserText = 240;  // of nlohmann's own message, which quotes the input

// nlohmann's messages start with "[json.exception.parse_error.101] "; the tag helps nobody.
std::string parser_message(const std::exception& e) {
  std::string text = e.what();
  if (text.starts_with("[json.exception.")) {
    if (auto end = text.find("] "); end != std::string::npos) text.erase(0, end + 2);
  }
  if (text.size() > kMaxParserText) text = text.substr(0, kMaxParserText) + "...";
  return text;
}

// Tracks which object key the parser is under, so an error can name the field it was reading.
class FieldTracker {
 public:
  bool on_event(int depth, json::parse_event_t event, const json& parsed) {
    const auto level = static_cast<std::size_t>(depth < 0 ? 0 : depth);
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        keys_.resize(level);
        keys_.emplace_back();
        break;
      case json::parse_event_t::key:
        if (level > 0 && level <= keys_.size() && parsed.is_string()) keys_[level - 1] = parsed.get<std::string>();
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end: keys_.resize(level); break;
      case json::parse_event_t::value: break;
    }
    return true;  // keep everything: the tracker only watches
  }

  // "attributes.latency"; empty at the top level or inside arrays only.
  std::string field() const {
    std::string out;
    for (const auto& key : keys_) {
      if (key.empty()) continue;
      if (!out.empty()) out += '.';
      out += key;
    }
    return out;
  }

 private:
  std::vector<std::string> keys_;  // per open container: the last key read (empty in arrays)
};

std::string short_string(std::string_view text) {
  std::string shown(text.substr(0, kMaxQuoted));
  // Cut strings may end inside a UTF-8 sequence: replace what is broken instead of throwing.
  std::string out = json(shown).dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxQuoted) out.insert(out.size() - 1, "...");
  return out;
}

}  // namespace

std::size_t json_nesting(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<json> parse_json(std::string_view text, std::size_t max_depth) {
  // Checked before parsing: a deep value would be refused only after costing the parser's memory,
  // and every recursive walk over it later (dump(), comparisons) could overflow the stack.
  if (json_nesting(text, max_depth) > max_depth) {
    return Error{"invalid JSON: arrays and objects nested deeper than " + std::to_string(max_depth) + " levels"};
  }
  FieldTracker tracker;
  try {
    return json::parse(text, [&tracker](int depth, json::parse_event_t event, json& parsed) {
      return tracker.on_event(depth, event, parsed);
    });
  } catch (const json::out_of_range& e) {
    // nlohmann refuses numbers beyond a double's range (1e309) with out_of_range 406.
    const std::string field = tracker.field();
    const std::string where = field.empty() ? "" : "field '" + field + "': ";
    return Error{"invalid JSON: " + where + parser_message(e) + " (numbers must fit a double)"};
  } catch (const json::exception& e) {
    return Error{"invalid JSON: " + parser_message(e)};
  }
}

std::string describe(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case json::value_t::string: return short_string(value.get_ref<const std::string&>());
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return value.dump();
    case json::value_t::array: return "an array of " + std::to_string(value.size()) + " items";
    case json::value_t::object: return "an object with " + std::to_string(value.size()) + " fields";
    case json::value_t::binary:
    case json::value_t::discarded: break;
  }
  return "a value of another kind";
}

}  // namespace chaosplus::proxy
