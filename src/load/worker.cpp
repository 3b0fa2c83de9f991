#include "load/worker.h"

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <thread>

#include "load/arrival_schedule.h"
#include "load/worker_internal.h"

namespace chaosplus::load {

// A growable ring of pending jobs; capacity doubles up to `limit`.
class Worker::JobQueue {
 public:
  explicit JobQueue(std::uint64_t limit) : limit_(std::max<std::uint64_t>(limit, 16)) { ring_.resize(64); }
  bool empty() const { return size_ == 0; }
  std::uint64_t size() const { return size_; }
  bool push(const Job& j) {
    if (size_ == ring_.size()) {
      if (ring_.size() >= limit_) return false;
      std::vector<Job> bigger(std::min<std::uint64_t>(ring_.size() * 2, limit_));
      for (std::uint64_t i = 0; i < size_; ++i) bigger[i] = ring_[(head_ + i) % ring_.size()];
      ring_ = std::move(bigger);
      head_ = 0;
    }
    ring_[(head_ + size_) % ring_.size()] = j;
    ++size_;
    return true;
  }
  Job pop() {
    Job j = ring_[head_];
    head_ = (head_ + 1) % ring_.size();
    --size_;
    return j;
  }

 private:
  std::vector<Job> ring_;
  std::uint64_t head_ = 0, size_ = 0, limit_;
};

Worker::Worker(const SharedPlan& plan, WorkerShare share)
    : plan_(plan), share_(share), conns_(static_cast<std::size_t>(share.connections)) {
  for (std::size_t i = 0; i < conns_.size(); ++i) conns_[i].index = static_cast<std::uint32_t>(i);
  idle_.reserve(conns_.size());
  timeout_ns_ = to_ns(plan.options.timeout);
  read_buffer_.resize(kReadBuffer);
  if (plan.scenario->is_mix()) flow_stats_.resize(plan.scenario->flows().size());
}

Worker::~Worker() {
  for (auto& c : conns_) close_conn(c);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Status Worker::init() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) return Error{std::string("epoll_create1: ") + std::strerror(errno)};
  const auto& o = plan_.options;
  // Open-model arrivals without a user wait here; user jobs can never exceed the user count.
  pending_ = std::make_unique<JobQueue>(plan_.model == Model::open ? o.max_pending : UINT32_MAX);
  if (plan_.model == Model::open) {
    schedule_ = std::make_unique<ArrivalSchedule>(o.rate, o.rate_stages, 1.0 / share_.count,
                                                  static_cast<double>(share_.index) / share_.count);
  }
  if (plan_.model != Model::open || plan_.open_sessions) {
    // Users are split evenly; this worker owns [user_base_, user_base_ + n).
    const std::uint64_t total = plan_.total_users;
    user_base_ = total * static_cast<std::uint64_t>(share_.index) / static_cast<std::uint64_t>(share_.count);
    const std::uint64_t end =
        total * static_cast<std::uint64_t>(share_.index + 1) / static_cast<std::uint64_t>(share_.count);
    const std::uint64_t n = end - user_base_;
    if (n >= kNoUser) return Error{"too many users for one thread"};
    users_.assign(n, UserState::stopped);
    user_step_.assign(n, 0);
    if (plan_.scenario->is_mix() && !plan_.open_sessions) user_pass_.assign(n, 0);
    if (plan_.scenario->variable_count() > 0) user_vars_.resize(n);
    if (plan_.open_sessions) {
      if (n == 0) return Error{"max sessions is smaller than the number of threads"};
      free_sessions_.reserve(n);
      for (std::uint64_t u = n; u-- > 0;) free_sessions_.push_back(static_cast<std::uint32_t>(u));
      user_target_ = n;  // every slot may be busy; none is ramping down
    }
  }
  return ok_status();
}

void Worker::add_timer(std::int64_t when, std::uint32_t id, std::uint32_t kind) {
  timers_.push_back({when, id, kind});
  std::push_heap(timers_.begin(), timers_.end(), std::greater<>());
}

void Worker::fail(Conn& c, ErrorKind kind, std::int64_t now) {
  const bool had_job = c.state == ConnState::writing || c.state == ConnState::reading;
  const Job job = c.job;
  // A failed request counts in the second it was meant for; a failed connect, when it failed.
  ++second_of(had_job ? job.intended_ns : now).counters.errors[static_cast<std::size_t>(kind)];
  if (had_job) settle(job);
  if (c.state == ConnState::idle) std::erase(idle_, c.index);
  close_conn(c);
  // Reconnect after a growing pause, so a refusing server is not hammered in a tight loop.
  c.backoff_ns = std::clamp(c.backoff_ns * 2, kMinBackoffNs, kMaxBackoffNs);
  add_timer(now + c.backoff_ns, c.index, kReconnectTimer);
  if (had_job && !flow_stats_.empty()) ++flow_stats_[plan_.scenario->flow_of(job.step)].failed;
  if (had_job) finish_job(job, now, nullptr);
}

void Worker::make_idle(Conn& c) {
  if (!pending_->empty()) {
    start_request(c, pending_->pop());
  } else {
    c.state = ConnState::idle;
    idle_.push_back(c.index);
  }
}

void Worker::submit(const Job& job) {
  expect(job);
  if (!idle_.empty()) {
    Conn& c = conns_[idle_.back()];
    idle_.pop_back();
    start_request(c, job);
    return;
  }
  // No free connection: the job waits, and the generator is (for now) the bottleneck.
  ++second_of(job.intended_ns).counters.queued;
  if (!pending_->push(job)) {
    ++second_of(job.intended_ns).counters.dropped;
    settle(job);
    if (job.user == kNoUser) return;
    if (plan_.open_sessions) {
      end_session(job.user);
    } else {
      users_[job.user] = UserState::stopped;  // cannot happen: bounded by users
    }
  }
}

void Worker::start_request(Conn& c, const Job& job) {
  c.job = job;
  const std::size_t step = job.step;
  const std::string& fixed = plan_.static_requests[step];
  if (!fixed.empty()) {
    c.out = fixed.data();
    c.out_len = static_cast<std::uint32_t>(fixed.size());
  } else {
    static const std::vector<std::string> kNoVars;
    const auto& vars = (job.user != kNoUser && !user_vars_.empty()) ? user_vars_[job.user] : kNoVars;
    plan_.scenario->build_request(step, vars, plan_.host_header, c.out_buffer);
    c.out = c.out_buffer.data();
    c.out_len = static_cast<std::uint32_t>(c.out_buffer.size());
  }
  const bool extracts = job.user != kNoUser && plan_.scenario->step_extracts(step);
  if (extracts) {
    if (!c.capture) c.capture = std::make_unique<ResponseCapture>();
    c.capture->clear();
    c.parser.capture_into(c.capture.get());
  } else if (c.capturing) {
    c.parser.capture_into(nullptr);
  }
  c.capturing = extracts;
  c.parser.expect_no_body(plan_.scenario->steps()[step].method == "HEAD");
  if (job.user != kNoUser) users_[job.user] = UserState::busy;
  c.out_off = 0;
  // Read now, not taken from the caller: whatever the loop did since it looked at the clock (a
  // stall, a stop signal between two steps) is not the request's time, and must not make an answer
  // that comes right after the send look like a timeout.
  c.sent_ns = now_ns();
  c.state = ConnState::writing;
  write_some(c);
}

void Worker::complete(Conn& c) {
  const std::int64_t now = now_ns();
  const int status = c.parser.status();
  const auto corrected = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - c.job.intended_ns) / 1000);
  const auto actual = static_cast<std::uint64_t>(std::max<std::int64_t>(0, now - c.sent_ns) / 1000);
  SecondCounts& second = second_of(c.job.intended_ns);
  ++second.counters.requests;
  ++second.counters.status[static_cast<std::size_t>(status)];
  second.latency.record(corrected);
  settle(c.job);
  ++responses_;
  latency_.record(corrected);
  uncorrected_.record(actual);
  if (!flow_stats_.empty()) {
    FlowStats& f = flow_stats_[plan_.scenario->flow_of(c.job.step)];
    ++f.requests;
    if (status >= 400) ++f.failed;
    f.latency.record(corrected);
  }
  c.backoff_ns = 0;
  const Job job = c.job;
  if (c.capturing && job.user != kNoUser && !user_vars_.empty()) {
    plan_.scenario->extract(job.step, *c.capture, user_vars_[job.user]);
  }
  const bool keep = c.parser.keep_alive();
  c.parser.reset();
  if (share_.max_requests != 0 && responses_ >= share_.max_requests) done_ = true;
  if (!keep) {
    close_conn(c);
    connect(c, now);
    finish_job(job, now, nullptr);
    return;
  }
  c.state = ConnState::idle;
  finish_job(job, now, &c);
  if (c.state == ConnState::idle) make_idle(c);
}

void Worker::finish_job(const Job& job, std::int64_t now, Conn* conn) {
  if (job.user == kNoUser) return;  // an open-model arrival: nothing follows
  const std::uint32_t u = job.user;
  if (u >= user_target_) {  // ramping down: this user leaves at the end of its request
    users_[u] = UserState::stopped;
    --active_users_;
    return;
  }
  const ScenarioFlow& flow = plan_.scenario->flows()[plan_.scenario->flow_of(job.step)];
  const bool last_step = job.step + 1 >= flow.first + flow.count;
  if (last_step && plan_.open_sessions) {  // the session ran its scenario once
    end_session(u);
    return;
  }
  const std::size_t next = last_step ? begin_pass(u) : job.step + 1;
  user_step_[u] = static_cast<std::uint16_t>(next);
  const Duration think = plan_.scenario->steps()[job.step].think;
  if (think > Duration::zero()) {
    users_[u] = UserState::thinking;
    add_timer(now + to_ns(think), u, kUserTimer);
    return;
  }
  const Job again{now, u, static_cast<std::uint32_t>(next)};
  users_[u] = UserState::queued;
  // Keep-alive fast path: the same connection sends the next request at once, unless others wait.
  if (conn != nullptr && conn->state == ConnState::idle && pending_->empty()) {
    expect(again);
    start_request(*conn, again);
  } else {
    submit(again);
  }
}

void Worker::run_timers(std::int64_t now) {
  while (!timers_.empty() && timers_.front().when <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), std::greater<>());
    const Timer t = timers_.back();
    timers_.pop_back();
    if (t.kind == kReconnectTimer) {
      Conn& c = conns_[t.id];
      if (c.state == ConnState::closed && c.index < next_to_open_) connect(c, now);
      continue;
    }
    const std::uint32_t u = t.id;
    if (users_[u] != UserState::thinking) continue;
    if (u >= user_target_) {
      users_[u] = UserState::stopped;
      --active_users_;
      continue;
    }
    users_[u] = UserState::queued;
    // Latency counts from when the user meant to send (the timer's time), not from when a
    // connection became free.
    submit(Job{t.when, u, user_step_[u]});
  }
}

std::uint32_t Worker::begin_pass(std::uint32_t user) {
  if (user_pass_.empty()) return 0;  // one scenario: it starts at step 0
  const std::size_t f = plan_.scenario->pick_flow(plan_.seed, user_base_ + user, user_pass_[user]++);
  ++flow_stats_[f].iterations;
  return static_cast<std::uint32_t>(plan_.scenario->flows()[f].first);
}

void Worker::issue_arrivals(std::int64_t now) {
  while (next_arrival_ <= now) {
    std::uint32_t step = 0;
    if (!flow_stats_.empty()) {
      // Each arrival draws its scenario; the worker's index is
      // the stream, so runs with the same seed and threads draw the same sequence.
      const std::size_t f = plan_.scenario->pick_flow(plan_.seed, share_.index, arrivals_++);
      ++flow_stats_[f].iterations;
      step = static_cast<std::uint32_t>(plan_.scenario->flows()[f].first);
    }
    if (!plan_.open_sessions) {
      submit(Job{next_arrival_, kNoUser, step});
    } else if (free_sessions_.empty()) {
      ++second_of(next_arrival_).counters.dropped;  // as many sessions in flight as allowed
    } else {
      const std::uint32_t u = free_sessions_.back();
      free_sessions_.pop_back();
      ++active_users_;
      peak_users_ = std::max(peak_users_, active_users_);
      // A data row per session: sessions are numbered across workers like the mix's draws.
      const std::uint64_t session =
          sessions_started_++ * static_cast<std::uint64_t>(share_.count) + static_cast<std::uint64_t>(share_.index);
      if (!user_vars_.empty()) plan_.scenario->initial_variables(session, user_vars_[u]);
      user_step_[u] = static_cast<std::uint16_t>(step);
      users_[u] = UserState::queued;
      submit(Job{next_arrival_, u, step});
    }
    const auto next = schedule_->next();
    next_arrival_ = next ? start_ns_ + to_ns(*next) : INT64_MAX;
  }
}

void Worker::end_session(std::uint32_t user) {
  users_[user] = UserState::stopped;
  free_sessions_.push_back(user);
  --active_users_;
}

void Worker::set_user_target(std::uint64_t target, std::int64_t now, bool stagger) {
  target = std::min<std::uint64_t>(target, users_.size());
  const std::uint64_t old = user_target_;
  user_target_ = target;
  if (target <= old) return;  // users above the target stop at their next boundary
  // The first step's think time (in a mix, the first scenario's).
  const std::int64_t spread = stagger ? to_ns(plan_.scenario->steps()[0].think) : 0;
  for (std::uint64_t u = old; u < target; ++u) {
    if (users_[u] != UserState::stopped) continue;  // still finishing: it simply stays
    ++active_users_;
    if (!user_vars_.empty()) plan_.scenario->initial_variables(user_base_ + u, user_vars_[u]);
    user_step_[u] = static_cast<std::uint16_t>(begin_pass(static_cast<std::uint32_t>(u)));
    // Spread the first requests over one think time, so N users do not all fire at once.
    const std::int64_t offset =
        spread > 0 ? static_cast<std::int64_t>(static_cast<double>(spread) * static_cast<double>(u - old) /
                                               static_cast<double>(target - old))
                   : 0;
    users_[u] = UserState::thinking;
    add_timer(now + offset, static_cast<std::uint32_t>(u), kUserTimer);
  }
  peak_users_ = std::max(peak_users_, active_users_);
}

void Worker::housekeeping(std::int64_t now) {
  next_housekeeping_ = now + kHousekeepingNs;
  const auto& o = plan_.options;
  if (plan_.model != Model::open && !o.vu_stages.empty()) {
    // This worker's share of the level: the global level split as the users were.
    const double level = stage_level(o.vu_stages, static_cast<double>(o.vus), Duration(now - start_ns_));
    const auto global = static_cast<std::uint64_t>(std::llround(level));
    const auto i = static_cast<std::uint64_t>(share_.index), n = static_cast<std::uint64_t>(share_.count);
    const std::uint64_t mine = global * (i + 1) / n - global * i / n;
    set_user_target(mine, now, false);
  }
  if (now >= next_timeout_scan_) {
    next_timeout_scan_ = now + kTimeoutScanNs;
    for (auto& c : conns_) {
      const bool busy = c.state == ConnState::writing || c.state == ConnState::reading;
      if (busy && now - c.sent_ns > timeout_ns_) {
        // An answer may be waiting unread: after a stall of this loop (a busy machine), the scan
        // can come before the events. It is a late response, not a timeout.
        const std::uint32_t generation = c.generation;
        const std::int64_t sent = c.sent_ns;
        if (c.state == ConnState::reading) read_ready(c);
        if (c.generation == generation && c.sent_ns == sent &&
            (c.state == ConnState::writing || c.state == ConnState::reading)) {
          fail(c, ErrorKind::timeout, now);
        }
      } else if ((c.state == ConnState::connecting || c.state == ConnState::handshaking) &&
                 now - c.since_ns > timeout_ns_)
        fail(c, ErrorKind::timeout, now);
    }
  }
}

void Worker::run(std::int64_t start_ns, std::int64_t end_ns, const std::atomic<bool>& stop) {
  start_ns_ = start_ns;
  std::int64_t now = now_ns();
  next_housekeeping_ = now;
  next_timeout_scan_ = now + kTimeoutScanNs;
  if (plan_.model == Model::open) {
    const auto first = schedule_->next();
    next_arrival_ = first ? start_ns_ + to_ns(*first) : INT64_MAX;
  } else if (plan_.options.vu_stages.empty()) {
    set_user_target(users_.size(), now, plan_.model == Model::users);
  }
  std::vector<epoll_event> events(kMaxEvents);
  bool have_pwait2 = true;
  while (true) {
    now = now_ns();
    if (done_ || now >= end_ns || stop.load(std::memory_order_relaxed)) break;
    while (next_to_open_ < conns_.size() && connecting_ < kMaxConnecting) connect(conns_[next_to_open_++], now);
    run_timers(now);
    issue_arrivals(now);
    if (now >= next_housekeeping_) housekeeping(now);
    close_seconds(now);
    serve_snapshot();
    std::int64_t wake = std::min({end_ns, next_housekeeping_, next_arrival_});
    if (!timers_.empty()) wake = std::min(wake, timers_.front().when);
    const std::int64_t wait = std::max<std::int64_t>(0, wake - now_ns());
    int n;
    if (have_pwait2) {
      timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
      n = ::epoll_pwait2(epoll_fd_, events.data(), kMaxEvents, &ts, nullptr);
      if (n < 0 && errno == ENOSYS) {
        have_pwait2 = false;
        continue;
      }
    } else {
      n = ::epoll_wait(epoll_fd_, events.data(), kMaxEvents, static_cast<int>((wait + 999'999) / 1'000'000));
    }
    for (int i = 0; i < n; ++i) {
      const epoll_event& e = events[static_cast<std::size_t>(i)];
      Conn& c = conns_[static_cast<std::uint32_t>(e.data.u64)];
      if (c.fd >= 0 && c.generation == static_cast<std::uint32_t>(e.data.u64 >> 32)) on_event(c, e.events);
    }
  }
  const std::int64_t finished = now_ns();
  for (auto& c : conns_) close_conn(c);
  // Requests still in flight are not counted (as in wrk); every second up to the end is closed,
  // the last one as long as it ran.
  close_all(std::min(finished, end_ns));
  {
    // The last numbers go to the mailbox before the run is marked finished, so a snapshot that
    // sees the mark also sees them.
    std::lock_guard lock(mailbox_mutex_);
    for (auto& c : closed_) mailbox_.closed.push_back(std::move(c));
    mailbox_.open_from = INT64_MAX;
    mailbox_.active_users = active_users_;
    mailbox_.open_connections = 0;
  }
  closed_.clear();
  finished_ns_.store(finished, std::memory_order_release);
}

}  // namespace chaosplus::load
