#include "runner/live_view.h"

#include <poll.h>

#include <cstdio>
#include <ostream>

#include "runner/writes_line.h"

namespace chaosplus::runner {
namespace {

std::string stamp(Duration elapsed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "[%7.2fs] ", std::chrono::duration<double>(elapsed).count());
  return buf;
}

// "; touched 12 connection(s) (28 passed by), 57 request(s), 34567 bytes": what a fault touched, if it told.
std::string reach_text(const Event& e) {
  if (e.find("reach.connections") == nullptr) return {};
  auto count = [&](const char* key) { return static_cast<long long>(e.number(key)); };
  std::string out = "; touched " + std::to_string(count("reach.connections")) + " connection(s)";
  if (count("reach.connections_skipped") > 0) {
    out += " (" + std::to_string(count("reach.connections_skipped")) + " passed by)";
  }
  out += ", " + std::to_string(count("reach.requests")) + " request(s)";
  if (count("reach.requests_skipped") > 0) {
    out += " (" + std::to_string(count("reach.requests_skipped")) + " matching passed by)";
  }
  if (count("reach.bytes") > 0) out += ", " + std::to_string(count("reach.bytes")) + " bytes";
  return out;
}

}  // namespace

LiveView::LiveView(std::ostream& out, bool status_line, Duration total, std::chrono::steady_clock::time_point run_start)
    : out_(out), status_line_(status_line), total_(total), start_(run_start) {
  if (status_line_) redraw_ = std::thread([this] { redraw_loop(); });
}

LiveView::~LiveView() { stop(); }

void LiveView::stop() {
  if (stopping_.exchange(true)) return;
  if (redraw_.joinable()) redraw_.join();
  if (status_line_) {
    std::lock_guard lock(mutex_);
    out_ << "\r\033[K" << std::flush;
  }
}

void LiveView::on_event(const Event& e) {
  const std::string& t = e.type;
  std::string text;
  {
    std::lock_guard lock(mutex_);
    if (t == "phase.started") {
      phase_ = e.text("phase");
      text = "phase " + phase_ + " started (" + e.text("duration") + ")";
    } else if (t == "phase.ended") {
      text = "phase " + e.text("phase") + " ended";
    } else if (t == "fault.injected") {
      active_faults_.insert(e.text("summary"));
      text = "fault injected: " + e.text("summary");
    } else if (t == "fault.reverted") {
      if (auto it = active_faults_.find(e.text("summary")); it != active_faults_.end()) active_faults_.erase(it);
      text = std::string(e.flag("ok") ? "fault reverted: " : "fault revert FAILED: ") + e.text("summary") +
             (e.flag("ok") ? "" : " (" + e.text("error") + ")") + reach_text(e);
    } else if (t == "fault.failed") {
      text = "fault could not be injected: " + e.text("summary") + ": " + e.text("error");
    } else if (t == "probe.result") {
      const std::string stage = e.text("stage");
      const std::string probe = e.text("probe");
      const bool ok = e.flag("ok");
      if (stage != "during") {
        text = "steady state " + stage + ": " + probe + (ok ? " ok" : " FAILED: " + e.text("detail"));
      } else {
        if (status_line_) recent_[probe].add(Sample{e.elapsed, ok, e.number("latency_ms") / 1000.0});
        auto [it, inserted] = probe_ok_.try_emplace(probe, true);
        if (it->second != ok) {
          text = "probe " + probe + (ok ? " is passing again" : " started failing: " + e.text("detail"));
        }
        it->second = ok;
      }
    } else if (t == "guardrail.tripped") {
      text = "GUARDRAIL tripped: " + e.text("message");
    } else if (t == "run.halted") {
      text = "halt: " + e.text("reason") + "; reverting everything";
    } else if (t == "target.started") {
      text = "target " + e.text("target") + " started (pid " + std::to_string(static_cast<long>(e.number("pid"))) + ")";
    } else if (t == "proxy.placed") {
      text = "fault proxy for " + e.text("target") + " on " + e.text("listen") + " -> " + e.text("upstream");
    } else if (t == "rollback.done") {
      text = "rollback " + e.text("name") + (e.flag("ok") ? " ok" : " FAILED: " + e.text("error"));
    } else if (t == "recovery.done") {
      text = "recovered leftovers of earlier runs: " + std::to_string(static_cast<long>(e.number("reverted"))) +
             " change(s) reverted";
    } else if (t == "load.started") {
      text = "load " + e.text("load") + " started against " + e.text("url");
    } else if (t == "load.summary") {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "load %s: %.0f requests, %.0f req/s, error rate %.2f%%, p50 %.1fms, p99 %.1fms, max %.1fms",
                    e.text("load").c_str(), e.number("requests"), e.number("rps"), e.number("error_rate") * 100,
                    e.number("p50_ms"), e.number("p99_ms"), e.number("max_ms"));
      text = buf;
      if (!e.text("thresholds").empty()) text += "; thresholds: " + e.text("thresholds");
    } else if (t == "writes.started") {
      text = "writes " + e.text("name") + " started into " + e.text("table");
    } else if (t == "writes.summary") {
      text = writes_line(e, true);
    } else if (t == "load.tick") {
      last_load_ = e.text("load");
      last_load_rps_ = e.number("rps");
      last_load_p99_ms_ = e.number("p99_ms");
    } else if (t == "run.error") {
      text = "error: " + e.text("message");
    } else if (t == "timeline.slipped") {
      text = "timeline SLIPPED: " + e.text("where") + " came " +
             std::to_string(static_cast<long>(e.number("late_ms"))) + " ms late";
    } else if (t == "fault.skipped") {
      text = "fault skipped: " + e.text("fault") + " on " + e.text("target") + ": " + e.text("reason");
    }
    if (t == "load.summary" && !e.text("bottleneck").empty()) text += "; WARNING: " + e.text("bottleneck");
  }
  if (!text.empty()) print_line(e, text);
}

void LiveView::print_line(const Event& e, const std::string& text) {
  std::lock_guard lock(mutex_);
  if (status_line_) out_ << "\r\033[K";
  out_ << stamp(e.elapsed) << text << "\n";
  if (status_line_) out_ << status_text();
  out_ << std::flush;
}

std::string LiveView::status_text() const {
  using namespace std::chrono;
  const Duration elapsed = steady_clock::now() - start_;
  char head[96];
  std::snprintf(head, sizeof head, "%s %.1fs/%.1fs", phase_.empty() ? "starting" : phase_.c_str(),
                duration<double>(elapsed).count(), duration<double>(total_).count());
  std::string s = head;
  for (const auto& [probe, ok] : probe_ok_) {
    const auto window = recent_.find(probe);
    WindowStats w = window == recent_.end() ? WindowStats{} : window->second.stats(elapsed, seconds(10));
    char part[128];
    std::snprintf(part, sizeof part, " | %s %.0f%% p99 %.0fms", probe.c_str(), w.success_rate * 100, w.p99 * 1000);
    s += part;
  }
  if (!last_load_.empty()) {
    char part[128];
    std::snprintf(part, sizeof part, " | load %s %.0f req/s p99 %.0fms", last_load_.c_str(), last_load_rps_,
                  last_load_p99_ms_);
    s += part;
  }
  s += " | faults: " + std::to_string(active_faults_.size());
  return s;
}

void LiveView::redraw_loop() {
  while (!stopping_.load()) {
    {
      std::lock_guard lock(mutex_);
      out_ << "\r\033[K" << status_text() << std::flush;
    }
    ::poll(nullptr, 0, 250);  // redraw four times a second
  }
}

}  // namespace chaosplus::runner
