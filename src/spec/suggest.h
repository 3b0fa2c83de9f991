#pragma once
// "Did you mean ...?" for misspelled keys and names: the closest candidate by edit distance,
// if it is close enough to be a plausible typo.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chaosplus::spec {

// Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate within a distance of max(1, length/3) (2 at least for longer words).
std::optional<std::string> closest_match(std::string_view word, std::span<const std::string> candidates);
std::optional<std::string> closest_match(std::string_view word, std::span<const std::string_view> candidates);

// "a, b, c"
std::string join_names(std::span<const std::string> names);

}  // namespace chaosplus::spec
