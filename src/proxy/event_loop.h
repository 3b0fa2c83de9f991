#pragma once
// One epoll loop on one thread: file-descriptor readiness (edge-triggered), timers keyed by a
// number with nanosecond precision (timerfd), and tasks posted from other threads (eventfd).
// Everything but post() and stop() must be called on the loop's own thread.
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <utility>
#include <vector>

#include "core/result.h"
#include "net/socket.h"

namespace chaosplus::proxy {

class EventLoop {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  class Watcher {
   public:
    virtual void on_ready(std::uint32_t events) = 0;

   protected:
    ~Watcher() = default;
  };

  // Called for a due timer with its key and the instant it was set for.
  using TimerHandler = std::function<void(std::uint64_t key, TimePoint when)>;
  // Called once per turn after events, timers and tasks: a place for deferred work.
  using TurnHandler = std::function<void()>;

  static Result<std::unique_ptr<EventLoop>> create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void on_timer(TimerHandler handler) { timer_handler_ = std::move(handler); }
  void on_turn(TurnHandler handler) { turn_handler_ = std::move(handler); }

  // Edge-triggered interest in `events` (EPOLLIN | EPOLLOUT | EPOLLRDHUP ...).
  Status watch(int fd, std::uint32_t events, Watcher* watcher);
  void unwatch(int fd);

  // Fires the timer handler with `key` at `when` (or on the next turn if `when` has passed).
  // Setting the same key twice leaves both entries; the handler tells stale ones by `when`.
  void set_timer(std::uint64_t key, TimePoint when);
  // Makes the next wait return at once (for work deferred to the turn handler).
  void wake_soon() { spin_ = true; }

  // Any thread: runs `task` on the loop thread, in posting order.
  void post(std::function<void()> task);
  // Any thread: run() returns after the current turn.
  void stop();
  void run();
  bool in_loop_thread() const;

 private:
  EventLoop(net::Fd epoll, net::Fd timer, net::Fd wakeup);
  void arm_timer();
  void fire_timers();
  void run_tasks();

  struct TimerEntry {
    TimePoint when;
    std::uint64_t key;
    bool operator>(const TimerEntry& other) const { return when > other.when; }
  };

  net::Fd epoll_;
  net::Fd timer_fd_;
  net::Fd wakeup_fd_;
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers_;
  TimePoint armed_for_ = TimePoint::max();
  TimerHandler timer_handler_;
  TurnHandler turn_handler_;
  bool spin_ = false;

  std::mutex tasks_mutex_;
  std::vector<std::function<void()>> tasks_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> loop_thread_{};
};

}  // namespace chaosplus::proxy
