#pragma once
// Every kind of phase activity, in one explicit list (no static registration): the name a phase
// gives it and the JSON Schema it brings. A kind's settings make its activity themselves
// (core/activity.h: ActivityConfig::make), so the runner needs no entry here. The schema file's
// definitions for each kind are kept equal to these (tests/unit/spec/activity_kinds_test.cpp).
#include <span>
#include <string_view>

namespace chaosplus::spec {

struct ActivityKind {
  std::string_view name;  // its key in a phase: "load"
  // A JSON object of schema definitions; the one named like the kind is the block a phase gives,
  // the others are what it refers to.
  std::string_view schema;
};

std::span<const ActivityKind> activity_kinds();
const ActivityKind* find_activity_kind(std::string_view name);  // nullptr when unknown

}  // namespace chaosplus::spec
