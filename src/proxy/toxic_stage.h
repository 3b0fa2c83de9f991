#pragma once
// A toxic at work on one direction of one connection. Bytes enter a stage in order, wait there as
// long as the toxic says, and leave in the same order; nothing is ever dropped by a stage except
// what limit_data cuts off. A stage never reads a clock: `now` is passed in, so stages can be
// driven by a test with made-up instants, and by the event loop's timers in the proxy.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "proxy/byte_queue.h"
#include "proxy/random.h"
#include "proxy/toxic.h"
#include "proxy/toxic_counters.h"

namespace chaosplus::proxy {

using TimePoint = std::chrono::steady_clock::time_point;

// How a byte stream ends: `fin` half-closes the far side (the sender shut down writing);
// `close` closes the whole connection (limit_data cut it); `reset` closes it with RST once the
// bytes before it are out (http_abort).
enum class StreamEnd : std::uint8_t { none, fin, close, reset };

// What the connection must do after a stage step.
enum class ConnectionFate : std::uint8_t { carry_on, close, reset };

struct Step {
  TimePoint wake = TimePoint::max();  // call advance() again at this instant (max: only on new input)
  ConnectionFate fate = ConnectionFate::carry_on;
};

// Where a stage hands its bytes on: the next stage, or the socket.
class StageOutput {
 public:
  virtual void write(std::string_view bytes, TimePoint now) = 0;
  virtual void end(StreamEnd how, TimePoint now) = 0;

 protected:
  ~StageOutput() = default;
};

class ToxicStage {
 public:
  ToxicStage(std::uint64_t toxic_id, double roll) : toxic_id_(toxic_id), roll_(roll) {}
  virtual ~ToxicStage() = default;
  ToxicStage(const ToxicStage&) = delete;
  ToxicStage& operator=(const ToxicStage&) = delete;

  std::uint64_t toxic_id() const { return toxic_id_; }
  // The connection's once-only draw against toxicity: the toxic acts iff roll < toxicity.
  double roll() const { return roll_; }
  virtual bool acting() const { return true; }

  // Input from the previous stage, in stream order. After an end, input is ignored. An acting
  // stage counts the bytes in its toxic's counters.
  void accept(std::string_view bytes, TimePoint now) {
    if (counters_ != nullptr && end_ == StreamEnd::none) counters_->bytes += bytes.size();
    take(bytes, now);
  }
  virtual void accept_end(StreamEnd how, TimePoint now);
  // Hands on what is due at `now`.
  virtual Step advance(TimePoint now, StageOutput& out) = 0;
  // New attributes for a live toxic; what the stage holds stays, in order.
  virtual void reconfigure(const ToxicSpec& spec, TimePoint now) = 0;

  // The toxic is going away: hands on everything held, in order, and the end if one is held.
  void flush(TimePoint now, StageOutput& out);
  std::size_t buffered() const { return held_.size(); }

  // The toxic's counters: an acting stage adds what it touches (bytes, requests) to them.
  void count_into(std::shared_ptr<ToxicCounters> counters) {
    shared_ = std::move(counters);
    counters_ = acting() ? shared_.get() : nullptr;
  }
  const std::shared_ptr<ToxicCounters>& counters() const { return shared_; }
  // HTTP requests that went through the connection while this stage was on it.
  void count_requests(std::uint64_t n) {
    if (counters_ != nullptr) counters_->requests += n;
  }

 protected:
  virtual void take(std::string_view bytes, TimePoint now);
  // Hands on all held bytes, then the end once nothing is held.
  void pass_all(TimePoint now, StageOutput& out);
  void pass_end(TimePoint now, StageOutput& out);

  ByteQueue held_;
  StreamEnd end_ = StreamEnd::none;  // the end that follows the held bytes
  bool ended_ = false;               // the end was handed on

 private:
  std::uint64_t toxic_id_;
  double roll_;
  std::shared_ptr<ToxicCounters> shared_;
  ToxicCounters* counters_ = nullptr;  // set while the stage acts: the data path's one check
};

// A stage for `spec` on a new connection (or a connection the toxic is added to). `roll` is the
// connection's draw in [0, 1); when it is not below spec.toxicity the stage passes bytes untouched.
// `seed` feeds the stage's own randomness (jitter, slice sizes). An acting stage counts into
// `counters` (none: it counts nothing).
std::unique_ptr<ToxicStage> make_stage(std::uint64_t toxic_id, const ToxicSpec& spec, double roll, std::uint64_t seed,
                                       TimePoint now, std::shared_ptr<ToxicCounters> counters = nullptr);

// make_stage for a connection's one draw against toxicity, counted in `counters` as a connection
// hit or skipped. (A stage remade because the toxicity changed is not a new draw: make_stage.)
std::unique_ptr<ToxicStage> draw_stage(std::uint64_t toxic_id, const ToxicSpec& spec, double roll, std::uint64_t seed,
                                       TimePoint now, const std::shared_ptr<ToxicCounters>& counters);

// One slice length of the slicer toxic: average ± variation (uniform), at least 1 byte.
std::size_t slice_size(std::int64_t average, std::int64_t variation, FastRandom& random);

}  // namespace chaosplus::proxy
