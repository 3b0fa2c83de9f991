#pragma once
// The files of one OpenAPI document and the `$ref`s between them: local ("#/components/schemas/X",
// with JSON pointer escapes and percent-encoding) and relative files ("other.yaml#/X",
// "./schemas/pet.json"), a reference inside a file resolving relative to that file. Schemas come
// out with their references inlined and the OpenAPI 3.0 dialect turned into JSON Schema; a
// reference cycle is cut after kCycleRepeats expansions with {"x-chaosplus-cycle": true}.
// Problems are collected as messages "file:line:col: /pointer: what was expected".
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "openapi/source.h"

namespace chaosplus::openapi {

// How many times one schema may be expanded inside itself before the cycle marker replaces it.
inline constexpr int kCycleRepeats = 2;
// References expanded inside one another before the rest are cut as a cycle is (a web of schemas
// that all refer to each other would otherwise expand exponentially).
inline constexpr std::size_t kMaxRefChain = 12;
// References one schema (a body's, a parameter's...) may expand before the rest are cut so.
inline constexpr std::size_t kMaxExpansionsPerSchema = 2000;
// Hops of $ref to $ref followed before giving up on a chain.
inline constexpr int kMaxRefHops = 64;

// A value inside one of the document's files.
struct Node {
  const SourceFile* file = nullptr;
  std::string pointer;
  const Json* value = nullptr;

  Node at(const std::string& key) const;  // a child of an object (value null when absent)
  Node at(std::size_t index) const;       // an item of a list
};

class Workspace {
 public:
  // `root` is the document's own file; files it references are read from disk relative to it.
  explicit Workspace(SourceFile root);

  Node root() const;

  // Follows `$ref`s from `node` (an object with "$ref", possibly a chain of them) to the value they
  // name. Without "$ref" it returns `node`. Empty after recording an error.
  std::optional<Node> deref(const Node& node);

  // The schema at `node` with references inlined and normalized to one JSON Schema dialect.
  Json schema(const Node& node);

  void error(const Node& at, const std::string& message);
  void error(const SourceFile& file, const std::string& pointer, const std::string& message);
  const std::vector<std::string>& errors() const { return errors_; }
  Location location(const Node& node) const;

 private:
  std::optional<Node> resolve(const Node& at, const std::string& ref);
  const SourceFile* file(const Node& at, const std::string& relative);
  Json inline_schema(const Node& node, int depth, std::vector<std::string>& chain);
  Json inline_children(const Node& node, int depth, std::vector<std::string>& chain);
  Json too_large(const Node& node);

  // A reference's expansion that met no cycle, for reuse at the same depth or shallower.
  struct Expanded {
    Json schema;
    std::size_t weight;
    int depth;
    std::size_t chain;
  };
  std::map<std::string, Expanded> expanded_;
  std::size_t cuts_ = 0;
  std::size_t expansions_left_ = kMaxExpansionsPerSchema;

  std::map<std::string, std::unique_ptr<SourceFile>> files_;  // by normalized path
  const SourceFile* root_ = nullptr;
  std::map<std::string, std::string> unreadable_;  // path -> why, told once
  std::vector<std::string> errors_;
  std::size_t inlined_ = 0;
  bool too_large_told_ = false;
};

// "a list", "an object", "text 'abc'", "the number 5", "true", "nothing": how to name what was found.
std::string describe(const Json& value);

// Turns the OpenAPI 3.0 schema dialect into JSON Schema, in place, for one schema object:
// `nullable: true` -> "null" among the types, boolean exclusiveMinimum/Maximum -> numbers.
void normalize_schema(Json& schema);

}  // namespace chaosplus::openapi
