#pragma once
// The fuzzer's one source of randomness: xoshiro256** seeded through splitmix64, with its own
// draws (no std::uniform_*_distribution, whose results differ between standard libraries), so the
// same seed gives the same request stream everywhere.
#include <cstddef>
#include <cstdint>

namespace chaosplus::fuzz {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  std::uint64_t below(std::uint64_t bound);                   // uniform in [0, bound); 0 when bound is 0
  std::int64_t between(std::int64_t low, std::int64_t high);  // uniform in [low, high]
  double unit();                                              // uniform in [0, 1)
  bool chance(double probability);
  // A new generator for an independent stream (one per operation, per connection...).
  Rng fork();

 private:
  std::uint64_t s_[4];
};

}  // namespace chaosplus::fuzz
