#pragma once
// A log-linear histogram of integer values (HdrHistogram's bucket scheme): every value up to
// `highest` is kept with a relative error below 10^-digits, recording is O(1) with no allocation,
// and histograms with the same layout merge by adding counts. The load engine records
// microseconds, one histogram per worker thread, merged at the end.
#include <cstdint>
#include <utility>
#include <vector>

namespace chaosplus::load {

class LatencyHistogram {
 public:
  // `significant_digits` in 1..5; `highest` >= 2 (values above it are recorded as `highest`).
  explicit LatencyHistogram(std::uint64_t highest = 3'600'000'000ULL, int significant_digits = 3);

  void record(std::uint64_t value) { record_n(value, 1); }
  void record_n(std::uint64_t value, std::uint64_t count);
  // Adds every count of `other`; false (and nothing added) if the layouts differ.
  bool merge(const LatencyHistogram& other);
  void reset();

  std::uint64_t count() const { return total_; }
  std::uint64_t min() const { return total_ == 0 ? 0 : min_; }  // exact
  std::uint64_t max() const { return max_; }                    // exact (after clamping to highest)
  double mean() const;
  // The value below which `percentile` (0..100) of the recorded values lie, as HdrHistogram
  // reports it: the highest value equivalent to the value at that rank; 0 when empty.
  std::uint64_t value_at_percentile(double percentile) const;

  // Values that share a counter with `value` lie in [lowest_equivalent, highest_equivalent].
  std::uint64_t lowest_equivalent(std::uint64_t value) const;
  std::uint64_t highest_equivalent(std::uint64_t value) const;

  std::uint64_t highest() const { return highest_; }
  int significant_digits() const { return digits_; }
  // (lowest equivalent value, count) of every non-empty counter, in value order: enough to
  // rebuild the histogram elsewhere (record_n of each pair).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> nonzero() const;

 private:
  std::size_t index_of(std::uint64_t value) const;
  std::uint64_t value_of(std::size_t index) const;

  std::uint64_t highest_;
  int digits_;
  int sub_bucket_half_magnitude_ = 0;
  std::uint64_t sub_bucket_count_ = 0;
  std::uint64_t sub_bucket_half_count_ = 0;
  std::uint64_t sub_bucket_mask_ = 0;
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  std::uint64_t min_ = UINT64_MAX;
  std::uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace chaosplus::load
