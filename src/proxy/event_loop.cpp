#include "proxy/event_loop.h"

#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace chaosplus::proxy {

namespace {

// Distinguished from every Watcher* by being odd; events for these fds carry these tags.
constexpr std::uint64_t kTimerTag = 1;
constexpr std::uint64_t kWakeupTag = 3;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  net::Fd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return Error{errno_text("epoll_create1")};
  net::Fd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer.valid()) return Error{errno_text("timerfd_create")};
  net::Fd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wakeup.valid()) return Error{errno_text("eventfd")};
  for (auto [fd, tag] : {std::pair{timer.get(), kTimerTag}, std::pair{wakeup.get(), kWakeupTag}}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = tag;
    if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, fd, &event) != 0) return Error{errno_text("epoll_ctl")};
  }
  return std::unique_ptr<EventLoop>(new EventLoop(std::move(epoll), std::move(timer), std::move(wakeup)));
}

EventLoop::EventLoop(net::Fd epoll, net::Fd timer, net::Fd wakeup)
    : epoll_(std::move(epoll)), timer_fd_(std::move(timer)), wakeup_fd_(std::move(wakeup)) {}

EventLoop::~EventLoop() = default;

Status EventLoop::watch(int fd, std::uint32_t events, Watcher* watcher) {
  epoll_event event{};
  event.events = events | EPOLLET;
  event.data.ptr = watcher;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &event) != 0) return Error{errno_text("epoll_ctl add")};
  return ok_status();
}

void EventLoop::unwatch(int fd) { ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::set_timer(std::uint64_t key, TimePoint when) { timers_.push({when, key}); }

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wakeup_fd_.get(), &one, sizeof one);
}

void EventLoop::stop() {
  stopping_.store(true);
  post([] {});
}

bool EventLoop::in_loop_thread() const { return loop_thread_.load() == std::this_thread::get_id(); }

void EventLoop::arm_timer() {
  TimePoint next = timers_.empty() ? TimePoint::max() : timers_.top().when;
  if (next == armed_for_) return;
  armed_for_ = next;
  itimerspec spec{};
  if (next != TimePoint::max()) {
    auto since_epoch = std::chrono::duration_cast<std::chrono::nanoseconds>(next.time_since_epoch()).count();
    // steady_clock is CLOCK_MONOTONIC on Linux; an all-zero value would disarm, so use >= 1ns.
    since_epoch = std::max<std::int64_t>(since_epoch, 1);
    spec.it_value.tv_sec = static_cast<time_t>(since_epoch / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(since_epoch % 1'000'000'000);
  }
  ::timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr);
}

void EventLoop::fire_timers() {
  std::uint64_t expirations = 0;
  [[maybe_unused]] auto n = ::read(timer_fd_.get(), &expirations, sizeof expirations);
  armed_for_ = TimePoint::max();
  TimePoint now = std::chrono::steady_clock::now();
  // Only entries due now; handlers may add new ones (possibly due at once: they run next turn).
  std::vector<TimerEntry> due;
  while (!timers_.empty() && timers_.top().when <= now) {
    due.push_back(timers_.top());
    timers_.pop();
  }
  for (const auto& entry : due) {
    if (timer_handler_) timer_handler_(entry.key, entry.when);
  }
}

void EventLoop::run_tasks() {
  std::uint64_t count = 0;
  [[maybe_unused]] auto n = ::read(wakeup_fd_.get(), &count, sizeof count);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(tasks_mutex_);
    tasks.swap(tasks_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::run() {
  loop_thread_.store(std::this_thread::get_id());
  std::array<epoll_event, 256> events{};
  while (!stopping_.load()) {
    arm_timer();
    int timeout_ms = spin_ ? 0 : -1;
    spin_ = false;
    int count = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), timeout_ms);
    if (count < 0) {
      if (errno == EINTR) continue;
      break;  // a broken epoll fd: nothing sensible is left to do
    }
    bool timer_due = false;
    bool tasks_due = false;
    for (int i = 0; i < count; ++i) {
      std::uint64_t tag = events[i].data.u64;
      if (tag == kTimerTag) {
        timer_due = true;
      } else if (tag == kWakeupTag) {
        tasks_due = true;
      } else {
        static_cast<Watcher*>(events[i].data.ptr)->on_ready(events[i].events);
      }
    }
    // A timer set in the past never makes the timerfd fire before the next wait; check here too.
    if (timer_due || (!timers_.empty() && timers_.top().when <= std::chrono::steady_clock::now())) {
      fire_timers();
    }
    if (tasks_due) run_tasks();
    if (turn_handler_) turn_handler_();
  }
  loop_thread_.store(std::thread::id{});
}

}  // namespace chaosplus::proxy
