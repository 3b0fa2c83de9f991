#pragma once
// A YAML document as plain values that remember where they came from (line, column, JSON pointer),
// so the loader and the schema check never touch yaml-cpp. Reading it also interpolates ${VAR} in
// scalar values, infers scalar types (YAML 1.2 core schema), and reports what yaml-cpp would let
// through silently: duplicate keys, non-text keys, a second document, runaway size or nesting.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/experiment.h"
#include "spec/interpolate.h"

namespace chaosplus::spec {

struct YamlEntry;

struct YamlNode {
  enum class Kind { null, string, integer, number, boolean, sequence, map };
  Kind kind = Kind::null;
  std::string text;                // scalars: the value after interpolation ("10", "true", "abc")
  Mark mark;                       // where the value starts
  std::string pointer;             // JSON pointer of this value ("" = document root, "/phases/0/name")
  std::vector<YamlNode> items;     // sequence
  std::vector<YamlEntry> entries;  // map, in file order; duplicates are reported and dropped

  bool is_scalar() const { return kind != Kind::sequence && kind != Kind::map && kind != Kind::null; }
  const YamlEntry* find(std::string_view key) const;
};

struct YamlEntry {
  std::string key;
  Mark key_mark;
  YamlNode value;
};

struct YamlIssue {
  Mark mark;
  std::string pointer;
  std::string message;
};

struct YamlDocument {
  std::optional<YamlNode> root;  // empty when the text is not YAML at all
  std::vector<YamlIssue> issues;
  bool oversized_scalar = false;  // a value beyond kMaxScalarLength (regex checks must not see it)
};

// Bounds that keep hostile or broken files from exhausting the stack or memory.
inline constexpr std::size_t kMaxFileBytes = 1 << 20;
inline constexpr std::size_t kMaxScalarLength = 4096;
inline constexpr int kMaxDepth = 64;
inline constexpr std::size_t kMaxNodes = 100000;

YamlDocument read_yaml(std::string_view text, const EnvLookup& env);

// "a list", "a map", "nothing", "text 'abc'", "the number 10", "true": how to name what was found.
std::string describe_found(const YamlNode& node);
// Escapes one JSON pointer segment ("~" -> "~0", "/" -> "~1").
std::string pointer_segment(std::string_view key);

}  // namespace chaosplus::spec
