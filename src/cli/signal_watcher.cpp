#include "cli/signal_watcher.h"

#include <csignal>
#include <ctime>

#include "core/units.h"

namespace chaosplus::cli {
namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void SignalWatcher::block() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

SignalWatcher::SignalWatcher(HaltSwitch& halt)
    : thread_([this, &halt] {
        sigset_t set = stop_signals();
        timespec tick{0, 100'000'000};  // wake up to notice the end of the command
        while (!done_.load()) {
          int sig = sigtimedwait(&set, nullptr, &tick);
          if (sig > 0) halt.trigger("received " + signal_name(sig));
        }
      }) {}

SignalWatcher::~SignalWatcher() {
  done_.store(true);
  thread_.join();
}

}  // namespace chaosplus::cli
