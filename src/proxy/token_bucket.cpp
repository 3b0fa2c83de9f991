#include "proxy/token_bucket.h"

#include <algorithm>
#include <cmath>

namespace chaosplus::proxy {

TokenBucket::TokenBucket(double bytes_per_second, std::size_t burst, TimePoint now)
    : rate_(bytes_per_second),
      burst_(std::max<std::size_t>(burst, 1)),
      tokens_(static_cast<double>(burst_)),
      last_(now) {}

void TokenBucket::refill(TimePoint now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * rate_);
  last_ = now;
}

std::size_t TokenBucket::available(TimePoint now) {
  refill(now);
  // The epsilon absorbs rounding, so the instant ready_at() returned really has the tokens.
  return static_cast<std::size_t>(std::floor(tokens_ + 1e-6));
}

void TokenBucket::take(std::size_t n) { tokens_ = std::max(0.0, tokens_ - static_cast<double>(n)); }

TokenBucket::TimePoint TokenBucket::ready_at(std::size_t n, TimePoint now) {
  refill(now);
  double missing = static_cast<double>(std::min(n, burst_)) - tokens_;
  if (missing <= 0) return now;
  auto wait = std::chrono::duration<double>(missing / rate_);
  // Round up so that at the returned instant the tokens are really there.
  return now + std::chrono::ceil<std::chrono::nanoseconds>(wait);
}

void TokenBucket::set_rate(double bytes_per_second, std::size_t burst, TimePoint now) {
  refill(now);
  rate_ = bytes_per_second;
  burst_ = std::max<std::size_t>(burst, 1);
  tokens_ = std::min(tokens_, static_cast<double>(burst_));
}

std::size_t burst_for_rate(double bytes_per_second) {
  double burst = bytes_per_second * 0.02;
  return static_cast<std::size_t>(std::clamp(burst, 1.0, 256.0 * 1024));
}

}  // namespace chaosplus::proxy
