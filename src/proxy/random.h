#pragma once
// A tiny seeded generator (SplitMix64) for the per-connection randomness of toxics: jitter,
// slice sizes, toxicity rolls. Eight bytes of state, so every toxic stage can own one and a
// seed reproduces a run.
#include <cstdint>

namespace chaosplus::proxy {

class FastRandom {
 public:
  explicit FastRandom(std::uint64_t seed = 0) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform in [low, high], both included; low <= high.
  std::int64_t between(std::int64_t low, std::int64_t high) {
    auto span = static_cast<std::uint64_t>(high - low) + 1;
    if (span == 0) return static_cast<std::int64_t>(next());  // the whole 64-bit range
    return low + static_cast<std::int64_t>(next() % span);
  }

 private:
  std::uint64_t state_;
};

}  // namespace chaosplus::proxy
