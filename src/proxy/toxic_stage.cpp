#include "proxy/toxic_stage.h"

#include <algorithm>
#include <deque>

#include "proxy/token_bucket.h"

namespace chaosplus::proxy {

namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

std::size_t to_size(std::int64_t value) { return static_cast<std::size_t>(std::max<std::int64_t>(value, 0)); }

// Toxicity lost the roll: bytes pass untouched.
class PassStage final : public ToxicStage {
 public:
  using ToxicStage::ToxicStage;
  bool acting() const override { return false; }
  Step advance(TimePoint now, StageOutput& out) override {
    pass_all(now, out);
    return {};
  }
  void reconfigure(const ToxicSpec&, TimePoint) override {}
};

// Each chunk waits latency ± jitter after it arrives; a chunk never overtakes an earlier one.
class LatencyStage final : public ToxicStage {
 public:
  LatencyStage(std::uint64_t id, double roll, const ToxicSpec& spec, std::uint64_t seed)
      : ToxicStage(id, roll), random_(seed) {
    reconfigure(spec, {});
  }

  void take(std::string_view bytes, TimePoint now) override {
    if (bytes.empty() || end_ != StreamEnd::none) return;
    auto delay = latency_;
    if (jitter_.count() > 0) delay += microseconds(random_.between(-jitter_.count(), jitter_.count()));
    TimePoint release = std::max(now + std::max(delay, microseconds(0)), last_release_);
    last_release_ = release;
    if (!chunks_.empty() && chunks_.back().release == release) {
      chunks_.back().size += bytes.size();
    } else {
      chunks_.push_back({bytes.size(), release});
    }
    held_.append(bytes);
  }

  Step advance(TimePoint now, StageOutput& out) override {
    while (!chunks_.empty() && chunks_.front().release <= now) {
      out.write(held_.front(chunks_.front().size), now);
      held_.consume(chunks_.front().size);
      chunks_.pop_front();
    }
    if (chunks_.empty()) {
      pass_end(now, out);
      return {};
    }
    return {chunks_.front().release, ConnectionFate::carry_on};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint) override {
    latency_ = milliseconds(spec.attribute("latency"));
    jitter_ = milliseconds(spec.attribute("jitter"));
  }

 private:
  struct Chunk {
    std::size_t size;
    TimePoint release;
  };
  std::deque<Chunk> chunks_;
  TimePoint last_release_{};
  microseconds latency_{0};
  microseconds jitter_{0};
  FastRandom random_;
};

// Bytes leave no faster than `rate` KB/s (1 KB = 1000 bytes, as in Toxiproxy).
class BandwidthStage final : public ToxicStage {
 public:
  BandwidthStage(std::uint64_t id, double roll, const ToxicSpec& spec, TimePoint now)
      : ToxicStage(id, roll), bucket_(rate_of(spec), burst_for_rate(rate_of(spec)), now) {}

  Step advance(TimePoint now, StageOutput& out) override {
    while (!held_.empty()) {
      std::size_t piece = std::min(held_.size(), bucket_.burst());
      if (bucket_.available(now) < piece) return {bucket_.ready_at(piece, now), ConnectionFate::carry_on};
      bucket_.take(piece);
      out.write(held_.front(piece), now);
      held_.consume(piece);
    }
    pass_end(now, out);
    return {};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint now) override {
    bucket_.set_rate(rate_of(spec), burst_for_rate(rate_of(spec)), now);
  }

 private:
  static double rate_of(const ToxicSpec& spec) { return static_cast<double>(spec.attribute("rate")) * 1000.0; }
  TokenBucket bucket_;
};

// Nothing gets through; with a timeout the connection is closed when it passes. Held bytes stay
// (bounded by the connection's buffer cap), so removing the toxic lets them through in order.
class TimeoutStage final : public ToxicStage {
 public:
  TimeoutStage(std::uint64_t id, double roll, const ToxicSpec& spec, TimePoint now) : ToxicStage(id, roll) {
    reconfigure(spec, now);
  }

  Step advance(TimePoint now, StageOutput&) override {
    if (deadline_ == TimePoint::max()) return {};
    if (now >= deadline_) return {TimePoint::max(), ConnectionFate::close};
    return {deadline_, ConnectionFate::carry_on};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint now) override {
    auto timeout = spec.attribute("timeout");
    deadline_ = timeout > 0 ? now + milliseconds(timeout) : TimePoint::max();
  }

 private:
  TimePoint deadline_ = TimePoint::max();
};

// Bytes pass until the timeout; then the connection is reset (RST, not FIN).
class ResetPeerStage final : public ToxicStage {
 public:
  ResetPeerStage(std::uint64_t id, double roll, const ToxicSpec& spec, TimePoint now) : ToxicStage(id, roll) {
    reconfigure(spec, now);
  }

  Step advance(TimePoint now, StageOutput& out) override {
    if (now >= deadline_) return {TimePoint::max(), ConnectionFate::reset};
    pass_all(now, out);
    return {deadline_, ConnectionFate::carry_on};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint now) override {
    deadline_ = now + milliseconds(spec.attribute("timeout"));
  }

 private:
  TimePoint deadline_;
};

// Bytes pass; the end of the stream is held back for `delay`.
class SlowCloseStage final : public ToxicStage {
 public:
  SlowCloseStage(std::uint64_t id, double roll, const ToxicSpec& spec) : ToxicStage(id, roll) { reconfigure(spec, {}); }

  void accept_end(StreamEnd how, TimePoint now) override {
    if (end_ != StreamEnd::none) return;
    ToxicStage::accept_end(how, now);
    end_at_ = now + delay_;
  }

  Step advance(TimePoint now, StageOutput& out) override {
    if (!held_.empty()) {
      out.write(held_.all(), now);
      held_.clear();
    }
    if (end_ == StreamEnd::none || ended_) return {};
    if (now < end_at_) return {end_at_, ConnectionFate::carry_on};
    pass_end(now, out);
    return {};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint) override { delay_ = milliseconds(spec.attribute("delay")); }

 private:
  milliseconds delay_{0};
  TimePoint end_at_ = TimePoint::max();
};

// The first `bytes` bytes pass; then the connection is closed.
class LimitDataStage final : public ToxicStage {
 public:
  LimitDataStage(std::uint64_t id, double roll, const ToxicSpec& spec) : ToxicStage(id, roll) { reconfigure(spec, {}); }

  void take(std::string_view bytes, TimePoint now) override {
    if (end_ != StreamEnd::none) return;
    std::size_t room = limit_ > passed_ ? limit_ - passed_ : 0;
    std::string_view taken = bytes.substr(0, room);
    held_.append(taken);
    passed_ += taken.size();
    if (passed_ >= limit_) ToxicStage::accept_end(StreamEnd::close, now);
  }

  Step advance(TimePoint now, StageOutput& out) override {
    pass_all(now, out);
    return {};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint now) override {
    limit_ = to_size(spec.attribute("bytes"));
    if (passed_ >= limit_) ToxicStage::accept_end(StreamEnd::close, now);
  }

 private:
  std::size_t limit_ = 0;
  std::size_t passed_ = 0;
};

// Bytes leave in slices of average ± variation bytes, `delay` apart.
class SlicerStage final : public ToxicStage {
 public:
  SlicerStage(std::uint64_t id, double roll, const ToxicSpec& spec, std::uint64_t seed)
      : ToxicStage(id, roll), random_(seed) {
    reconfigure(spec, {});
  }

  Step advance(TimePoint now, StageOutput& out) override {
    // A cap per step keeps tiny slices of a big chunk from starving every other connection.
    for (int slices = 0; !held_.empty(); ++slices) {
      if (now < next_at_) return {next_at_, ConnectionFate::carry_on};
      if (slices == kSlicesPerStep) return {now, ConnectionFate::carry_on};
      std::size_t size = std::min(held_.size(), slice_size(average_, variation_, random_));
      out.write(held_.front(size), now);
      held_.consume(size);
      if (delay_.count() > 0) next_at_ = now + delay_;
    }
    pass_end(now, out);
    return {};
  }

  void reconfigure(const ToxicSpec& spec, TimePoint) override {
    average_ = spec.attribute("average_size");
    variation_ = spec.attribute("size_variation");
    delay_ = microseconds(spec.attribute("delay"));
  }

 private:
  static constexpr int kSlicesPerStep = 1024;
  std::int64_t average_ = 1;
  std::int64_t variation_ = 0;
  microseconds delay_{0};
  TimePoint next_at_{};
  FastRandom random_;
};

std::unique_ptr<ToxicStage> make_acting_stage(std::uint64_t toxic_id, const ToxicSpec& spec, double roll,
                                              std::uint64_t seed, TimePoint now) {
  if (!(roll < spec.toxicity)) return std::make_unique<PassStage>(toxic_id, roll);
  switch (spec.type) {
    case ToxicType::latency: return std::make_unique<LatencyStage>(toxic_id, roll, spec, seed);
    case ToxicType::bandwidth: return std::make_unique<BandwidthStage>(toxic_id, roll, spec, now);
    case ToxicType::timeout: return std::make_unique<TimeoutStage>(toxic_id, roll, spec, now);
    case ToxicType::reset_peer: return std::make_unique<ResetPeerStage>(toxic_id, roll, spec, now);
    case ToxicType::slow_close: return std::make_unique<SlowCloseStage>(toxic_id, roll, spec);
    case ToxicType::limit_data: return std::make_unique<LimitDataStage>(toxic_id, roll, spec);
    case ToxicType::slicer: return std::make_unique<SlicerStage>(toxic_id, roll, spec, seed);
    case ToxicType::http_status:
    case ToxicType::http_delay:
    case ToxicType::http_abort: break;  // HTTP toxics act in the connection's HTTP session, not as a stage
  }
  return std::make_unique<PassStage>(toxic_id, roll);
}

}  // namespace

void ToxicStage::take(std::string_view bytes, TimePoint) {
  if (end_ != StreamEnd::none) return;
  held_.append(bytes);
}

void ToxicStage::accept_end(StreamEnd how, TimePoint) {
  if (end_ == StreamEnd::none) end_ = how;
}

void ToxicStage::pass_all(TimePoint now, StageOutput& out) {
  if (!held_.empty()) {
    out.write(held_.all(), now);
    held_.clear();
  }
  pass_end(now, out);
}

void ToxicStage::pass_end(TimePoint now, StageOutput& out) {
  if (end_ != StreamEnd::none && !ended_ && held_.empty()) {
    ended_ = true;
    out.end(end_, now);
  }
}

void ToxicStage::flush(TimePoint now, StageOutput& out) { pass_all(now, out); }

std::size_t slice_size(std::int64_t average, std::int64_t variation, FastRandom& random) {
  std::int64_t size = variation > 0 ? average + random.between(-variation, variation) : average;
  return to_size(std::max<std::int64_t>(size, 1));
}

std::unique_ptr<ToxicStage> draw_stage(std::uint64_t toxic_id, const ToxicSpec& spec, double roll, std::uint64_t seed,
                                       TimePoint now, const std::shared_ptr<ToxicCounters>& counters) {
  auto stage = make_stage(toxic_id, spec, roll, seed, now, counters);
  if (counters) ++(stage->acting() ? counters->connections : counters->connections_skipped);
  return stage;
}

std::unique_ptr<ToxicStage> make_stage(std::uint64_t toxic_id, const ToxicSpec& spec, double roll, std::uint64_t seed,
                                       TimePoint now, std::shared_ptr<ToxicCounters> counters) {
  auto stage = make_acting_stage(toxic_id, spec, roll, seed, now);
  stage->count_into(std::move(counters));
  return stage;
}

}  // namespace chaosplus::proxy
