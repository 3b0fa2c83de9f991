#pragma once
// What values.cpp and edge_values.cpp share. Private to the fuzz module.
#include <cstdint>
#include <optional>
#include <vector>

#include "fuzz/request_case.h"

namespace chaosplus::fuzz::detail {

// The schema's examples, example and default (after `extra`, a parameter's or media type's own).
std::vector<Json> examples_of(const Json& schema, const std::vector<Json>* extra);

// The integers an integer schema allows (int32 format included); nullopt when none.
struct IntRange {
  std::int64_t low = INT64_MIN, high = INT64_MAX;
  bool has_low = false, has_high = false;  // bounds the schema sets (int32's own are not counted)
};
std::optional<IntRange> integer_range(const Json& schema);

}  // namespace chaosplus::fuzz::detail
