#pragma once
// One file of an OpenAPI document read into JSON, remembering where each value starts (line,
// column by JSON pointer) so that errors found while resolving and reading the model can point
// into the file. JSON text is read by nlohmann (exact JSON numbers and escapes) and its positions
// by a small scanner; anything else is read as YAML with yaml-cpp.
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/mark.h"
#include "core/result.h"
#include "openapi/document.h"

namespace chaosplus::openapi {

// Bounds that keep hostile or broken documents from exhausting the stack or memory.
inline constexpr std::size_t kMaxFileBytes = std::size_t{32} << 20;
inline constexpr int kMaxDepth = 128;                        // nesting of values in one file
inline constexpr std::size_t kMaxValues = 2'000'000;         // values in one file (YAML aliases included)
inline constexpr int kMaxSchemaDepth = 96;                   // nesting of a schema once references are inlined
inline constexpr std::size_t kMaxInlinedValues = 1'000'000;  // schema values written while inlining, whole document
inline constexpr std::size_t kMaxFiles = 256;                // files one document may reference

struct SourceFile {
  std::string path;  // as given, or as resolved from the referencing file
  Json root;
  std::unordered_map<std::string, Mark> marks;  // JSON pointer -> where its value starts

  // Where `pointer` is, or the closest enclosing value that has a mark.
  Mark mark_of(std::string pointer) const;
};

// Parses `text`; an error is "file:line:col: what was wrong" (the caller adds nothing).
Result<SourceFile> parse_source(std::string_view text, const std::string& path);

// "~" -> "~0", "/" -> "~1".
std::string pointer_segment(std::string_view key);
// "file:line:col: " (or "file: " when the line is not known).
std::string where(const std::string& file, Mark mark);

}  // namespace chaosplus::openapi
