#include "fuzz/engine.h"

#include <algorithm>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "fuzz/engine_internal.h"
#include "fuzz/target_watch.h"

namespace chaosplus::fuzz {
namespace detail {
namespace {

// Shares of the strategies among generated requests (follow-ups come first, up to a quarter of a
// batch). Raw protocol mutations each open a connection of their own: kept rare.
constexpr double kRawShare = 0.02;
constexpr double kCorpusShare = 0.25;
constexpr double kInvalidShare = 0.25;
constexpr double kByteShare = 0.2;  // of corpus mutations: byte-level damage of the body
constexpr std::size_t kFollowUpsPerBatch = kBatchSize / 4;
constexpr std::int64_t kPumpSliceNs = 50'000'000;  // how long a pump may block: stops are seen this fast

}  // namespace

std::string_view strategy_name(Strategy strategy) {
  switch (strategy) {
    case Strategy::valid: return "valid";
    case Strategy::invalid: return "invalid";
    case Strategy::corpus: return "corpus";
    case Strategy::follow_up: return "follow_up";
    case Strategy::raw: return "raw";
  }
  return "?";
}

Engine::Engine(const FuzzOptions& options, const FuzzHooks& hooks, std::shared_ptr<const openapi::Document> document,
               net::Url base, SenderOptions sender_options)
    : options_(options),
      hooks_(hooks),
      document_(std::move(document)),
      base_(std::move(base)),
      sender_options_(std::move(sender_options)),
      stop_(hooks.stop != nullptr ? hooks.stop : &own_stop_),
      rng_(options.seed),
      oracles_(document_.get()),
      weights_(document_->operations.size(), 1.0),
      pid_(options.pid) {
  const std::string& target = base_.target;
  base_path_ = target.substr(0, std::min(target.find('?'), target.size()));
  if (base_path_.ends_with('/')) base_path_.pop_back();
}

Engine::~Engine() = default;

std::int64_t Engine::elapsed_ms() const { return (steady_now_ns() - start_ns_) / 1'000'000; }

const openapi::Operation& Engine::pick_operation() {
  double total = 0;
  for (double w : weights_) total += w;
  double r = rng_.unit() * total;
  for (std::size_t i = 0; i < weights_.size(); ++i) {
    if (r < weights_[i]) return document_->operations[i];
    r -= weights_[i];
  }
  return document_->operations.back();
}

RequestCase Engine::valid(const openapi::Operation& operation) {
  return valid_case(operation, rng_, harvest_.source(operation));
}

RequestCase Engine::invalid(const openapi::Operation& operation) {
  return invalid_case(operation, rng_, harvest_.source(operation));
}

Slot Engine::make_slot(std::uint64_t index) {
  Slot slot;
  slot.index = index;
  const double r = rng_.unit();
  if (r < kRawShare) {
    const openapi::Operation& op = pick_operation();
    slot.strategy = Strategy::raw;
    slot.request = protocol_mutation(valid(op), base_, rng_, options_.headers);
    return slot;
  }
  const RequestCase* parent = r < kRawShare + kCorpusShare ? corpus_.pick(rng_) : nullptr;
  if (parent != nullptr) {
    slot.operation = document_->find(parent->operation_id);
    slot.strategy = Strategy::corpus;
    slot.request = rng_.chance(kByteShare) ? mutate_bytes(*parent, rng_)
                                           : mutate(*parent, rng_, MutationContext{slot.operation, nullptr});
    return slot;
  }
  const openapi::Operation& op = pick_operation();
  slot.operation = &op;
  if (r < kRawShare + kCorpusShare + kInvalidShare) {
    slot.strategy = Strategy::invalid;
    slot.request = invalid(op);
  } else {
    slot.strategy = Strategy::valid;
    slot.request = valid(op);
  }
  return slot;
}

std::unique_ptr<Batch> Engine::make_batch() {
  auto batch = std::make_unique<Batch>();
  const std::uint64_t left = options_.max_requests > next_index_ ? options_.max_requests - next_index_ : 0;
  const std::size_t size = static_cast<std::size_t>(std::min<std::uint64_t>(kBatchSize, left));
  batch->slots.reserve(size);
  std::size_t follow_ups = 0;
  while (batch->slots.size() < size) {
    if (!follow_ups_.empty() && follow_ups < kFollowUpsPerBatch) {
      FollowUp f = std::move(follow_ups_.front());
      follow_ups_.pop_front();
      if (crash_guard_.matches(f.request)) continue;  // a confirmed crash again: the slot goes to a fresh case
      Slot slot;
      slot.index = next_index_++;
      slot.strategy = Strategy::follow_up;
      slot.request = std::move(f.request);
      slot.operation = f.operation;
      slot.probe = f.probe;
      slot.setup = std::move(f.setup);
      batch->slots.push_back(std::move(slot));
      ++follow_ups;
      continue;
    }
    batch->slots.push_back(guarded_slot(next_index_++));
  }
  for (Slot& slot : batch->slots) {
    slot.bytes =
        render(slot.request, base_, slot.strategy == Strategy::raw ? decltype(options_.headers){} : credentials(slot));
  }
  return batch;
}

void Engine::send_batch(Batch& batch) {
  for (std::size_t i = 0; i < batch.slots.size(); ++i) {
    Slot& slot = batch.slots[i];
    if (hooks_.on_request) hooks_.on_request(slot.index, slot.bytes);
    const bool own = slot.strategy == Strategy::raw;
    if (own) ++batch.raw;
    const bool head = slot.request.method == "HEAD";
    Batch* b = &batch;
    sender_->send(
        slot.bytes,
        [this, b, i](Reply&& reply) {
          Slot& s = b->slots[i];
          if (s.answered) return;
          s.answered = true;
          s.cancelled = cancelling_;
          s.reply = std::move(reply);
          ++b->answered;
          if (s.strategy == Strategy::raw) ++b->raw_answered;
        },
        own, head);
  }
}

bool Engine::should_stop(std::int64_t now_ns) {
  if (stop_->triggered()) {
    summary_.ended = "stopped";
    return true;
  }
  if (gave_up_) {
    summary_.ended = "target did not come back";
    return true;
  }
  if (now_ns >= end_ns_) {
    summary_.ended = "duration";
    return true;
  }
  return false;
}

void Engine::progress(std::int64_t now_ns) {
  if (now_ns - last_progress_ns_ < 1'000'000'000) return;
  if (hooks_.on_progress) {
    FuzzProgress p;
    p.elapsed_s = static_cast<double>(now_ns - start_ns_) / 1e9;
    p.requests = summary_.requests;
    p.rps = static_cast<double>(summary_.requests - requests_at_last_progress_) * 1e9 /
            static_cast<double>(now_ns - last_progress_ns_);
    p.findings = log_.size();
    p.corpus = corpus_.size();
    hooks_.on_progress(p);
  }
  last_progress_ns_ = now_ns;
  requests_at_last_progress_ = summary_.requests;
}

// Lets what is in flight finish (briefly), then cancels the rest; answered batches are still judged.
void Engine::drain() {
  const std::int64_t deadline =
      steady_now_ns() + std::min<std::int64_t>(1'000'000'000, std::chrono::nanoseconds(options_.timeout).count());
  while (sender_->in_flight() > 0 && steady_now_ns() < deadline && !stop_->triggered()) {
    sender_->pump(std::min(deadline, steady_now_ns() + kPumpSliceNs));
  }
  cancelling_ = true;
  sender_->cancel_all();
  for (auto& batch : in_flight_) process(*batch);
  in_flight_.clear();
  judge_finishing();
  finishing_.clear();
}

void Engine::judge_finishing() {
  for (auto& batch : finishing_) process(*batch);
  std::erase_if(finishing_, [](const std::unique_ptr<Batch>& b) { return b->complete(); });
}

Result<FuzzSummary> Engine::run() {
  auto sender = Sender::open(sender_options_);
  if (!sender) return Error{sender.error(), sender.code()};
  sender_ = std::move(sender).value();
  start_ns_ = steady_now_ns();
  end_ns_ = start_ns_ + std::chrono::nanoseconds(options_.duration).count();
  last_progress_ns_ = start_ns_;
  last_memory_ns_ = 0;
  pid_ = current_pid();
  if (pid_) program_ = executable(*pid_);
  summary_.ended = "request cap";
  bool stopped = false;
  while (!stopped) {
    while (in_flight_.size() < kBatchesInFlight && next_index_ < options_.max_requests) {
      in_flight_.push_back(make_batch());
      send_batch(*in_flight_.back());
    }
    if (in_flight_.empty()) break;  // the cap is reached and everything is judged
    Batch& front = *in_flight_.front();
    while (!front.ready()) {
      const std::int64_t now = steady_now_ns();
      if (should_stop(now)) {
        stopped = true;
        break;
      }
      // Returns as soon as enough replies arrived that the front batch may be done.
      const std::size_t waiting = (front.slots.size() - front.raw) - (front.answered - front.raw_answered);
      const std::size_t others = sender_->in_flight() > waiting ? sender_->in_flight() - waiting : 0;
      sender_->pump(std::min(end_ns_, now + kPumpSliceNs), others + 1);
      progress(steady_now_ns());
      watch_memory(steady_now_ns());
    }
    if (stopped) break;
    if (target_down_in(front)) handle_death();
    process(front);
    if (!front.complete()) finishing_.push_back(std::move(in_flight_.front()));
    in_flight_.pop_front();
    judge_finishing();
    if (hooks_.context != nullptr && !hooks_.context->any_fault_active()) recheck_pending(false);
    if (should_stop(steady_now_ns())) break;
  }
  drain();
  summary_.elapsed_s = static_cast<double>(steady_now_ns() - start_ns_) / 1e9;
  recheck_pending(true);
  if (options_.minimize) minimize_findings();
  summary_.corpus = corpus_.size();
  summary_.behaviours = corpus_.behaviours();
  summary_.pool_values = harvest_.size();
  summary_.findings = log_.all();
  return std::move(summary_);
}

}  // namespace detail

Result<std::pair<std::string, std::string>> parse_header(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return Error{"'" + std::string(text) + "': expected 'Name: value'", ErrorCode::invalid_argument};
  std::string name(text.substr(0, colon));
  std::string value(text.substr(colon + 1));
  value.erase(0, value.find_first_not_of(" \t"));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
  if (name.find_first_of(" \t\r\n") != std::string::npos || value.find_first_of("\r\n") != std::string::npos)
    return Error{"'" + std::string(text) + "': expected 'Name: value' on one line, without spaces in the name",
                 ErrorCode::invalid_argument};
  return std::pair{std::move(name), std::move(value)};
}

Result<FuzzSummary> run_fuzz(const FuzzOptions& options, const FuzzHooks& hooks) {
  std::shared_ptr<const openapi::Document> document = options.document;
  if (!document) {
    auto loaded = openapi::load(options.openapi);
    if (!loaded) return Error{loaded.error(), ErrorCode::invalid_argument};
    document = std::make_shared<const openapi::Document>(std::move(loaded).value());
  }
  if (document->operations.empty())
    return Error{(document->file.empty() ? options.openapi : document->file) +
                     ": the document has no operation, expected paths with at least one method",
                 ErrorCode::invalid_argument};
  auto base = net::Url::parse(options.base_url);
  if (!base) return Error{"base URL " + options.base_url + ": " + base.error(), ErrorCode::invalid_argument};
  if (!allowed_hosts().allows_host(base->host))
    return Error{"base URL " + options.base_url + ": not on the allow-list; " + allow_hint(),
                 ErrorCode::invalid_argument};
  if (options.connections < 1)
    return Error{"connections: expected at least 1, found " + std::to_string(options.connections),
                 ErrorCode::invalid_argument};
  if (options.timeout <= Duration::zero())
    return Error{"timeout: expected a positive duration", ErrorCode::invalid_argument};
  SenderOptions sender;
  sender.base = *base;
  sender.connections = options.connections;
  sender.timeout = options.timeout;
  sender.tls = options.tls;
  detail::Engine engine(options, hooks, std::move(document), *base, std::move(sender));
  return engine.run();
}

}  // namespace chaosplus::fuzz
