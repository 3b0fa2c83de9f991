#pragma once
// Token-bucket arithmetic for the bandwidth toxic. Time comes in as an argument (never read from
// a clock here), so the arithmetic is testable with made-up instants.
#include <chrono>
#include <cstddef>

namespace chaosplus::proxy {

class TokenBucket {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // `bytes_per_second` > 0; the bucket starts full with `burst` (>= 1) bytes.
  TokenBucket(double bytes_per_second, std::size_t burst, TimePoint now);

  // Bytes that may be sent now (whole bytes, at most `burst`).
  std::size_t available(TimePoint now);
  // Spends `n` bytes; n <= available(now).
  void take(std::size_t n);
  // The earliest instant at which `n` (<= burst) bytes are available.
  TimePoint ready_at(std::size_t n, TimePoint now);

  void set_rate(double bytes_per_second, std::size_t burst, TimePoint now);
  std::size_t burst() const { return burst_; }

 private:
  void refill(TimePoint now);

  double rate_;  // bytes per second
  std::size_t burst_;
  double tokens_;
  TimePoint last_;
};

// The burst the bandwidth toxic uses for a rate: about 20 ms worth of bytes, so data leaves in
// steady small pieces, at least 1 byte and at most 256 KiB.
std::size_t burst_for_rate(double bytes_per_second);

}  // namespace chaosplus::proxy
