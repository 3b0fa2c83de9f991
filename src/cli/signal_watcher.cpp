#include "cli/signal_watcher.h"

#include <csignal>
#include <ctime>
#include <fstream>
#include <string>

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
// The subcommand of the chaosplus process `pid` ("halt", "server"), read while it waits for the run
// to end: the queued value is the same for both doors to the halt switch.
std::string sender_subcommand(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string program, subcommand;
  std::getline(in, program, '\0');
  std::getline(in, subcommand, '\0');
  return subcommand;
}

// Who asked the run to stop: `chaosplus halt` queues kHaltSignalValue; a signal sent by a process
// (kill, systemd) names its sender; a terminal's Ctrl-C comes from the kernel.
std::string describe_stop(int sig, const siginfo_t& info) {
  const std::string from = info.si_pid > 0 ? " (pid " + std::to_string(info.si_pid) + ")" : "";
  if (info.si_code == SI_QUEUE && info.si_value.sival_int == kHaltSignalValue) {
    if (info.si_pid > 0 && sender_subcommand(info.si_pid) == "server") {
      return "halted from `chaosplus server` (its HALT, dashboard or API)" + from;
    }
    return "halted by `chaosplus halt`" + from;
  }
  if (info.si_code == SI_USER || info.si_code == SI_QUEUE) {
    return "received " + signal_name(sig) + " from pid " + std::to_string(info.si_pid);
  }
  return "received " + signal_name(sig);
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
          siginfo_t info{};
          int sig = sigtimedwait(&set, &info, &tick);
          if (sig > 0) halt.trigger(describe_stop(sig, info));
        }
      }) {}

SignalWatcher::~SignalWatcher() {
  done_.store(true);
  thread_.join();
}

}  // namespace chaosplus::cli
