// The worker's per-second accounting: every outcome counts in the second its request was meant
// for; seconds close once their jobs are resolved and go to the engine through the mailbox.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>

#include "load/worker_internal.h"

namespace chaosplus::load {

void Worker::serve_snapshot() {
  const std::uint64_t wanted = wanted_.load(std::memory_order_acquire);
  if (wanted == served_.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(mailbox_mutex_);
    for (auto& c : closed_) mailbox_.closed.push_back(std::move(c));
    mailbox_.open_from = first_open_;
    mailbox_.active_users = active_users_;
    mailbox_.open_connections = open_conns_;
  }
  closed_.clear();
  served_.store(wanted, std::memory_order_release);
}

bool Worker::snapshot(WorkerSnapshot& out, std::int64_t wait_ns) {
  const std::uint64_t ticket = wanted_.fetch_add(1, std::memory_order_acq_rel) + 1;
  const std::int64_t deadline = now_ns() + wait_ns;
  while (served_.load(std::memory_order_acquire) < ticket) {
    if (finished_ns() != 0 || now_ns() > deadline) break;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::lock_guard lock(mailbox_mutex_);
  const bool fresh = served_.load(std::memory_order_acquire) >= ticket || finished_ns() != 0;
  out.closed = std::move(mailbox_.closed);
  mailbox_.closed.clear();
  out.open_from = mailbox_.open_from;
  out.active_users = mailbox_.active_users;
  out.open_connections = mailbox_.open_connections;
  return fresh;
}

SecondCounts& Worker::second_of(std::int64_t intended_ns) {
  const std::int64_t second = std::max<std::int64_t>(0, (intended_ns - start_ns_) / kSecondNs);
  const std::int64_t index = std::max<std::int64_t>(0, second - first_open_);
  while (open_seconds_.size() <= static_cast<std::size_t>(index)) {
    OpenSecond fresh;
    fresh.counts.second = first_open_ + static_cast<std::int64_t>(open_seconds_.size());
    open_seconds_.push_back(std::move(fresh));
  }
  return open_seconds_[static_cast<std::size_t>(index)].counts;
}

void Worker::expect(const Job& job) {
  second_of(job.intended_ns);  // makes sure it is open
  const std::int64_t index = (job.intended_ns - start_ns_) / kSecondNs - first_open_;
  if (index >= 0) ++open_seconds_[static_cast<std::size_t>(index)].unresolved;
}

void Worker::settle(const Job& job) {
  const std::int64_t index = (job.intended_ns - start_ns_) / kSecondNs - first_open_;
  if (index < 0 || static_cast<std::size_t>(index) >= open_seconds_.size()) return;  // closed already
  auto& open = open_seconds_[static_cast<std::size_t>(index)];
  if (open.unresolved > 0) --open.unresolved;
}

void Worker::close_front(double length_s) {
  if (open_seconds_.empty()) second_of(start_ns_ + first_open_ * kSecondNs);
  SecondCounts counts = std::move(open_seconds_.front().counts);
  open_seconds_.pop_front();
  counts.length_s = length_s;
  counters_.add(counts.counters);
  closed_.push_back(std::move(counts));
  ++first_open_;
}

void Worker::close_seconds(std::int64_t now) {
  while (true) {
    const std::int64_t over_ns = now - (start_ns_ + (first_open_ + 1) * kSecondNs);
    if (over_ns < 0) break;
    const bool settled = open_seconds_.empty() || open_seconds_.front().unresolved == 0;
    // Past the timeout every request of the second has been answered or failed, but for jobs
    // that waited for a connection all that time: they count in a later second.
    if (!(settled && over_ns >= kSettleNs) && over_ns < timeout_ns_ + kSettleNs) break;
    close_front(1.0);
  }
  // The next second's counters (a histogram of some 200 KB) are made here, between requests, not
  // on a request's path when its first outcome comes.
  second_of(now + kSecondNs);
}

void Worker::close_all(std::int64_t final_ns) {
  const std::int64_t ran_ns = std::max<std::int64_t>(0, final_ns - start_ns_);
  const std::int64_t seconds = std::max<std::int64_t>(1, (ran_ns + kSecondNs - 1) / kSecondNs);
  // Seconds past the last one (made ahead, or a connect that failed as the loop stopped) fold into
  // it: the run has `seconds` ticks, and every count is in one of them.
  second_of(start_ns_ + (seconds - 1) * kSecondNs);
  while (first_open_ + static_cast<std::int64_t>(open_seconds_.size()) > seconds) {
    OpenSecond extra = std::move(open_seconds_.back());
    open_seconds_.pop_back();
    SecondCounts& last = open_seconds_.back().counts;
    last.counters.add(extra.counts.counters);
    last.latency.merge(extra.counts.latency);
  }
  while (first_open_ < seconds || !open_seconds_.empty()) {
    const double left = static_cast<double>(ran_ns - first_open_ * kSecondNs) / 1e9;
    close_front(std::clamp(left, 0.0, 1.0));
  }
}

}  // namespace chaosplus::load
