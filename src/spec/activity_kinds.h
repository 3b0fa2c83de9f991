#pragma once
// Every kind of phase activity, in one explicit list (no static registration): the name a phase
// gives it, the JSON Schema it brings and the loader's reader of its block. A kind's settings make its activity
// themselves (core/activity.h: ActivityConfig::make), so the runner needs no entry here. The schema file's definitions
// for each kind are kept equal to these (tests/unit/spec/activity_kinds_test.cpp).
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "spec/experiment.h"

namespace chaosplus::spec {

struct YamlNode;
namespace reading {
class Builder;
}

// Reads a kind's block of a phase (`block`) into an activity, reporting problems through the
// loader's builder (spec/builder.h); `what` names the phase for messages ("phase 'rush'").
using ActivityReader = std::optional<ActivitySpec> (*)(reading::Builder& builder, const YamlNode& block,
                                                       const std::string& what, const std::string& phase);

struct ActivityKind {
  std::string_view name;  // its key in a phase: "load"
  // A JSON object of schema definitions; the one named like the kind is the block a phase gives,
  // the others are what it refers to.
  std::string_view schema;
  ActivityReader read;
};

std::span<const ActivityKind> activity_kinds();
const ActivityKind* find_activity_kind(std::string_view name);  // nullptr when unknown

}  // namespace chaosplus::spec
