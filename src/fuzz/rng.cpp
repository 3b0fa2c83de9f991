#include "fuzz/rng.h"

namespace chaosplus::fuzz {
namespace {

// splitmix64 (Steele, Lea, Flood): spreads one 64-bit seed over the four words of xoshiro's state,
// so that neighbouring seeds (1, 2, 3...) give unrelated streams and the state is never all zero.
std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& word : s_) word = splitmix64(seed);
}

// xoshiro256** (Blackman, Vigna): fast, 256 bits of state, passes BigCrush; only integer
// operations with defined wrap-around, so every platform gives the same stream.
std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

// Rejection sampling: draws below `threshold` (= 2^64 mod bound) are thrown away, so every residue
// is equally likely (a plain `next() % bound` favours the small ones). At most half the draws are
// rejected in the worst case, far fewer for the small bounds the generators use.
std::uint64_t Rng::below(std::uint64_t bound) {
  if (bound == 0) return 0;
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = next();
    if (r >= threshold) return r % bound;
  }
}

std::int64_t Rng::between(std::int64_t low, std::int64_t high) {
  if (low > high) {
    const std::int64_t t = low;
    low = high;
    high = t;
  }
  // The width in unsigned arithmetic (defined wrap-around); 0 means the whole 64-bit range.
  const std::uint64_t width = static_cast<std::uint64_t>(high) - static_cast<std::uint64_t>(low) + 1;
  const std::uint64_t offset = width == 0 ? next() : below(width);
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(low) + offset);
}

// The top 53 bits scaled by 2^-53: every value a multiple of 2^-53, exactly representable.
double Rng::unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

bool Rng::chance(double probability) {
  if (!(probability > 0)) return false;  // also NaN
  if (probability >= 1) return true;
  return unit() < probability;
}

Rng Rng::fork() { return Rng(next()); }

}  // namespace chaosplus::fuzz
