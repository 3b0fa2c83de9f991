#include "load/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace chaosplus::load {

LatencyHistogram::LatencyHistogram(std::uint64_t highest, int significant_digits)
    : highest_(std::max<std::uint64_t>(highest, 2)), digits_(std::clamp(significant_digits, 1, 5)) {
  // Enough linear sub-buckets to tell apart values that differ by one part in 10^digits.
  std::uint64_t needed = 2;
  for (int i = 0; i < digits_; ++i) needed *= 10;
  sub_bucket_count_ = std::bit_ceil(needed);
  sub_bucket_half_magnitude_ = std::countr_zero(sub_bucket_count_) - 1;
  sub_bucket_half_count_ = sub_bucket_count_ / 2;
  sub_bucket_mask_ = sub_bucket_count_ - 1;
  // Each bucket doubles the range covered by the previous one.
  std::size_t buckets = 1;
  for (std::uint64_t untrackable = sub_bucket_count_; untrackable <= highest_; untrackable <<= 1) {
    ++buckets;
    if (untrackable > (UINT64_MAX >> 2)) break;
  }
  counts_.assign((buckets + 1) * sub_bucket_half_count_, 0);
}

std::size_t LatencyHistogram::index_of(std::uint64_t value) const {
  const int bucket = (64 - std::countl_zero(value | sub_bucket_mask_)) - (sub_bucket_half_magnitude_ + 1);
  const std::uint64_t sub = value >> bucket;
  return (static_cast<std::size_t>(bucket + 1) << sub_bucket_half_magnitude_) + (sub - sub_bucket_half_count_);
}

std::uint64_t LatencyHistogram::value_of(std::size_t index) const {
  int bucket = static_cast<int>(index >> sub_bucket_half_magnitude_) - 1;
  std::uint64_t sub = (index & (sub_bucket_half_count_ - 1)) + sub_bucket_half_count_;
  if (bucket < 0) {
    sub -= sub_bucket_half_count_;
    bucket = 0;
  }
  return sub << bucket;
}

void LatencyHistogram::record_n(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  value = std::min(value, highest_);
  counts_[index_of(value)] += count;
  total_ += count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * count;
}

bool LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.counts_.size() != counts_.size() || other.digits_ != digits_) return false;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
  return true;
}

void LatencyHistogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double LatencyHistogram::mean() const { return total_ == 0 ? 0.0 : static_cast<double>(sum_ / total_); }

std::uint64_t LatencyHistogram::lowest_equivalent(std::uint64_t value) const {
  return value_of(index_of(std::min(value, highest_)));
}

std::uint64_t LatencyHistogram::highest_equivalent(std::uint64_t value) const {
  const std::uint64_t low = lowest_equivalent(value);
  const int bucket = (64 - std::countl_zero(low | sub_bucket_mask_)) - (sub_bucket_half_magnitude_ + 1);
  return low + (std::uint64_t{1} << bucket) - 1;
}

std::uint64_t LatencyHistogram::value_at_percentile(double percentile) const {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  const auto wanted = std::max<std::uint64_t>(
      1, static_cast<std::uint64_t>(std::llround(percentile / 100.0 * static_cast<double>(total_))));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) return std::clamp(highest_equivalent(value_of(i)), min(), max_);
  }
  return max_;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> LatencyHistogram::nonzero() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < counts_.size(); ++i)
    if (counts_[i] != 0) out.emplace_back(value_of(i), counts_[i]);
  return out;
}

}  // namespace chaosplus::load
