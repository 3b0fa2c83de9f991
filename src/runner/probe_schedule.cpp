#include "runner/probe_schedule.h"

#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "runner/verdict_fold.h"

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

Duration probe_timeout(const spec::Probe& p) {
  return std::visit([](const auto& kind) { return kind.timeout; }, p.kind);
}

// The attempts of one probe that are due and not yet started, shared by its workers.
struct Due {
  std::mutex mutex;
  std::condition_variable cv;
  std::int64_t due = 0;
  bool stopping = false;
};

}  // namespace

Event probe_event(const spec::Probe& probe, const probes::ProbeResult& o, const std::string& stage,
                  const std::string& phase) {
  Event e("probe.result");
  e.with("probe", probe.name)
      .with("stage", stage)
      .with("ok", o.ok)
      .with("latency_ms", rounded_ms(o.latency))
      .with("status", std::int64_t{o.status});
  if (!phase.empty()) e.with("phase", phase);
  if (!o.detail.empty()) e.with("detail", o.detail);
  return e;
}

// Enough workers are kept for every attempt that can be in flight within the probe's timeout.
ProbeSchedule::ProbeSchedule(const std::vector<spec::Probe>& probes, HaltSwitch& halt, OnResult on_result)
    : halt_(halt), on_result_(std::move(on_result)) {
  for (const spec::Probe& p : probes) {
    if (!p.every) continue;
    auto schedule = std::make_shared<Due>();
    const Duration every = std::max<Duration>(*p.every, 1ms);
    const auto workers = std::clamp<std::int64_t>(probe_timeout(p) / every + 1, 1, 32);
    for (std::int64_t i = 0; i < workers; ++i) {
      threads_.emplace_back([this, &p, schedule] {
        while (true) {
          {
            std::unique_lock lock(schedule->mutex);
            schedule->cv.wait(lock, [&] { return schedule->due > 0 || schedule->stopping; });
            if (schedule->stopping) return;
            --schedule->due;
          }
          probes::ProbeResult o = probes::run(p);
          if (!stop_.triggered()) on_result_(p, o);
        }
      });
    }
    threads_.emplace_back([this, schedule, every, workers] {
      auto next = Clock::now();
      // Bounded by the run: ends when the phases end or the run halts.
      while (!stop_.triggered() && !halt_.triggered()) {
        {
          std::lock_guard lock(schedule->mutex);
          if (schedule->due < workers) ++schedule->due;  // never queue more than can run
        }
        schedule->cv.notify_one();
        next += every;
        auto now = Clock::now();
        if (next < now) next = now;
        if (stop_.wait_for(next - now)) break;
      }
      {
        std::lock_guard lock(schedule->mutex);
        schedule->stopping = true;
      }
      schedule->cv.notify_all();
    });
  }
}

ProbeSchedule::~ProbeSchedule() { stop(); }

void ProbeSchedule::stop() {
  stop_.trigger("phases over");
  for (auto& t : threads_) t.join();
  threads_.clear();
}

}  // namespace chaosplus::runner
