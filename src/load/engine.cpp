#include "load/engine.h"

#include <arpa/inet.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>

#include "core/loopback.h"
#include "load/multi_process.h"
#include "load/scenario.h"
#include "load/worker.h"
#include "net/url.h"

namespace chaosplus::load {

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status resolve(const std::string& host, int port, sockaddr_storage& out, socklen_t& len) {
  std::memset(&out, 0, sizeof out);
  const std::string h = is_localhost_name(host) ? "127.0.0.1" : host;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, h.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
    return ok_status();
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, h.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return ok_status();
  }
  return Error{"cannot use address '" + host + "'"};
}

std::uint64_t max_rss_kib() {
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  return static_cast<std::uint64_t>(self.ru_maxrss) + static_cast<std::uint64_t>(children.ru_maxrss);
}

// Seconds closed by the workers, merged; a second becomes a tick once every worker has closed it.
class TickMerger {
 public:
  TickMerger(std::size_t workers, const RunHooks& hooks, Report& report)
      : open_from_(workers, 0), hooks_(hooks), report_(report) {}

  void take(std::size_t worker, WorkerSnapshot& snap) {
    for (SecondCounts& c : snap.closed) {
      auto [it, fresh] = seconds_.try_emplace(c.second);
      SecondCounts& merged = it->second;
      if (fresh) merged.length_s = 0;
      merged.second = c.second;
      merged.length_s = std::max(merged.length_s, c.length_s);
      merged.counters.add(c.counters);
      merged.latency.merge(c.latency);
    }
    open_from_[worker] = snap.open_from;
  }

  // Ticks for every second all workers have closed, in order.
  void emit(std::uint64_t users, std::uint64_t conns) {
    const std::int64_t closed_below = *std::min_element(open_from_.begin(), open_from_.end());
    while (!seconds_.empty() && seconds_.begin()->first < closed_below) {
      const SecondCounts& c = seconds_.begin()->second;
      Tick t;
      t.second = c.second;
      t.length_s = c.length_s;
      t.at_s = static_cast<double>(c.second) + c.length_s;
      t.counters = c.counters;
      set_tick_latency(t, c.latency);
      t.active_users = users;
      t.open_connections = conns;
      if (hooks_.on_tick) hooks_.on_tick(t);
      if (hooks_.on_tick_latency) hooks_.on_tick_latency(t, c.latency);
      report_.ticks.push_back(std::move(t));
      seconds_.erase(seconds_.begin());
    }
  }

 private:
  std::map<std::int64_t, SecondCounts> seconds_;
  std::vector<std::int64_t> open_from_;
  const RunHooks& hooks_;
  Report& report_;
};

}  // namespace

void set_tick_latency(Tick& t, const LatencyHistogram& interval) {
  t.p50_us = interval.value_at_percentile(50);
  t.p90_us = interval.value_at_percentile(90);
  t.p99_us = interval.value_at_percentile(99);
  t.p999_us = interval.value_at_percentile(99.9);
  t.max_us = interval.max();
}

void start_scenario_summaries(Report& report, const SharedPlan& plan) {
  if (!plan.scenario->is_mix()) return;
  report.seed = plan.seed;
  for (const ScenarioFlow& f : plan.scenario->flows()) {
    ScenarioSummary s;
    s.name = f.name;
    s.weight = f.weight;
    report.scenarios.push_back(std::move(s));
  }
}

namespace {

void add_flow_stats(Report& report, const SharedPlan& plan, const std::vector<std::unique_ptr<Worker>>& workers) {
  start_scenario_summaries(report, plan);
  for (auto& w : workers) {
    const auto& stats = w->flow_stats();
    for (std::size_t i = 0; i < stats.size() && i < report.scenarios.size(); ++i) {
      ScenarioSummary& s = report.scenarios[i];
      s.iterations += stats[i].iterations;
      s.requests += stats[i].requests;
      s.failed += stats[i].failed;
      s.latency.merge(stats[i].latency);
    }
  }
}

}  // namespace

Result<SharedPlan> make_plan(const LoadOptions& options) {
  if (auto s = options.validate(); !s) return Error{s.error()};
  auto url = net::Url::parse(options.url);
  if (!url) return Error{url.error()};
  SharedPlan plan;
  plan.options = options;
  plan.model = options.model();
  if (auto s = resolve(url->host, url->port, plan.target, plan.target_len); !s) return Error{s.error()};
  for (const auto& a : options.source_addresses) {
    sockaddr_storage src{};
    socklen_t len = 0;
    if (auto s = resolve(a, 0, src, len); !s) return Error{"source address: " + s.error()};
    if (src.ss_family != plan.target.ss_family) return Error{"source address " + a + " is not of the target's family"};
    plan.sources.push_back(src);
  }
  plan.host_header = url->authority();
  if (url->scheme == "https") {
    TlsSettings tls = options.tls;
    if (tls.alpn.empty()) tls.alpn = {"http/1.1"};  // the one codec there is; h2 would join here
    auto context = TlsContext::create(tls, url->host);
    if (!context) return Error{context.error()};
    plan.tls = *context;
  }
  if (options.scenario) {
    plan.scenario = options.scenario;
  } else {
    plan.scenario = Scenario::single(options.method, url->target, options.headers, options.body, options.think);
  }
  if (plan.model == Model::open) {
    // Arrivals of multi-step scenarios are sessions: each runs its scenario once, in a user slot.
    for (const ScenarioFlow& f : plan.scenario->flows()) plan.open_sessions = plan.open_sessions || f.count > 1;
    if (plan.open_sessions) {
      if (options.max_sessions == 0) return Error{"max sessions must be at least 1"};
      plan.total_users = options.max_sessions;
    }
  }
  plan.seed = options.seed.value_or(plan.scenario->seed());
  static const std::vector<std::string> kNoVars;
  for (std::size_t i = 0; i < plan.scenario->steps().size(); ++i) {
    std::string bytes;
    if (plan.scenario->step_is_static(i)) plan.scenario->build_request(i, kNoVars, plan.host_header, bytes);
    plan.static_requests.push_back(std::move(bytes));
  }
  if (plan.model == Model::connections) {
    plan.total_users = static_cast<std::uint64_t>(options.connections);
  } else if (plan.model == Model::users) {
    double most = static_cast<double>(options.vus);
    for (const Stage& s : options.vu_stages) most = std::max(most, s.target);
    plan.total_users = static_cast<std::uint64_t>(std::llround(most));
    if (plan.total_users == 0) return Error{"the users model needs --vus N or user stages above 0"};
  }
  return plan;
}

Result<Report> run_plan_threads(const SharedPlan& plan, const RunHooks& hooks, int process_index, int process_count) {
  const auto& o = plan.options;
  const int threads = o.threads;
  const int total_workers = threads * process_count;
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    const int w = process_index * threads + t;
    WorkerShare share;
    share.index = w;
    share.count = total_workers;
    share.connections = static_cast<int>(static_cast<std::int64_t>(o.connections) * (w + 1) / total_workers -
                                         static_cast<std::int64_t>(o.connections) * w / total_workers);
    if (o.max_requests > 0) {
      share.max_requests =
          o.max_requests * static_cast<std::uint64_t>(w + 1) / static_cast<std::uint64_t>(total_workers) -
          o.max_requests * static_cast<std::uint64_t>(w) / static_cast<std::uint64_t>(total_workers);
      share.max_requests = std::max<std::uint64_t>(share.max_requests, 1);
    }
    auto worker = std::make_unique<Worker>(plan, share);
    if (auto s = worker->init(); !s) return Error{s.error()};
    workers.push_back(std::move(worker));
  }
  std::atomic<bool> stop{false};
  const std::int64_t start = now_ns();
  const std::int64_t end = start + o.duration.count();
  std::vector<std::thread> loops;
  for (auto& w : workers) loops.emplace_back([&, worker = w.get()] { worker->run(start, end, stop); });

  Report report;
  HaltSwitch local_halt;
  HaltSwitch& halt = hooks.halt ? *hooks.halt : local_halt;
  auto all_finished = [&] {
    for (auto& w : workers)
      if (w->finished_ns() == 0) return false;
    return true;
  };
  TickMerger ticks(workers.size(), hooks, report);
  WorkerSnapshot snap;
  std::uint64_t users = 0, conns = 0;
  auto collect = [&] {
    users = conns = 0;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      (void)workers[i]->snapshot(snap, 200'000'000);
      ticks.take(i, snap);
      users += snap.active_users;
      conns += snap.open_connections;
    }
  };
  // Seconds close once their requests are resolved: looking a few times a second keeps the
  // timeline close behind the load.
  while (!all_finished() && now_ns() < end && !halt.triggered()) {
    collect();
    ticks.emit(users, conns);
    const std::int64_t slice = std::clamp<std::int64_t>(end - now_ns(), 0, 100'000'000);
    if (halt.wait_for(Duration(slice))) break;
  }
  stop.store(true);
  for (auto& t : loops) t.join();
  collect();  // the rest, up to the last (partial) second
  ticks.emit(users, 0);

  report.model = plan.model;
  report.url = o.url;
  report.threads = threads;
  report.processes = process_count;
  report.connections = o.connections;
  report.target_rate = o.rate_stages.empty() ? o.rate : o.rate_stages.back().target;
  std::int64_t finished_at = start;
  for (auto& w : workers) {
    report.counters.add(w->counters());
    report.latency.merge(w->latency());
    report.uncorrected_latency.merge(w->uncorrected());
    report.peak_connections += w->peak_connections();
    report.users += w->peak_users();
    finished_at = std::max(finished_at, w->finished_ns());
    if (report.tls_error.empty()) report.tls_error = w->first_tls_error();
  }
  add_flow_stats(report, plan, workers);
  report.elapsed_s = static_cast<double>(std::min(finished_at, end) - start) / 1e9;
  report.max_rss_kib = max_rss_kib();
  return report;
}

Result<Report> run_load(const LoadOptions& options, const RunHooks& hooks) {
  auto plan = make_plan(options);
  if (!plan) return Error{plan.error()};
  if (options.processes > 1) return run_in_processes(*plan, hooks);
  return run_plan_threads(*plan, hooks, 0, 1);
}

}  // namespace chaosplus::load
