#pragma once
// Strings that match a regular expression, for `pattern` in a schema. Covers the subset API
// documents use (literals, classes and ranges, \d \w \s and their negations, '.', groups with
// alternation, the quantifiers * + ? {n} {n,} {n,m}, anchors); a pattern using more (lookaround,
// backreferences, unicode classes) gives nullopt and the caller falls back to examples. Private
// to the fuzz module.
#include <cstddef>
#include <optional>
#include <string>

#include "fuzz/rng.h"

namespace chaosplus::fuzz::pattern {

// Unbounded repetitions (*, +, {n,}) add at most `extra_repeat` beyond their minimum.
std::optional<std::string> generate(const std::string& pattern, Rng& rng, std::size_t extra_repeat = 4);

}  // namespace chaosplus::fuzz::pattern
