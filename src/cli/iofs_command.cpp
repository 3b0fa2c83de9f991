// `chaosplus iofs` (hidden): the FUSE daemon of an I/O fault (faults/io_faults.cpp starts it). It
// joins the mount namespace of the target, opens the folder there before mounting over it (the
// descriptor reaches the files underneath), mounts its pass-through file system over the folder
// in that namespace only, and serves until unmounted, signalled, or its runner or target is gone.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "iofs/mounts.h"
#include "iofs/passthrough.h"
#include "iofs/rules.h"
#include "targets/process.h"

namespace chaosplus::cli {
namespace {

struct IofsOptions {
  int pid = 0;
  unsigned long long start_time = 0;
  std::string dir;
  std::string rules;
  std::string stats;
};

int run_iofs(const IofsOptions& o) {
  std::ifstream in(o.rules);
  std::stringstream text;
  text << in.rdbuf();
  auto rule = iofs::rule_from_json(text.str());
  if (!in || !rule) {
    std::cerr << "iofs: rules " << o.rules << ": " << (rule ? "unreadable" : rule.error()) << "\n";
    return kExitInvalid;
  }
  const targets::ProcessId target{o.pid, o.start_time};
  if (!targets::is_alive(target)) {
    std::cerr << "iofs: target pid " << o.pid << " is not running\n";
    return 1;
  }
  // Before any thread starts: a process with threads cannot join another mount namespace.
  const std::string ns_path = "/proc/" + std::to_string(o.pid) + "/ns/mnt";
  const int ns = ::open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0 || ::setns(ns, CLONE_NEWNS) != 0) {
    std::cerr << "iofs: joining the mount namespace " << ns_path << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  ::close(ns);
  if (iofs::iofs_on_top(0, o.dir)) {
    std::cerr << "iofs: " << o.dir << " already has an I/O fault mounted over it\n";
    return 1;
  }
  const int root = ::open(o.dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    std::cerr << "iofs: " << o.dir << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  // main() blocks the stop signals for its watcher thread; here libfuse handles them.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
  iofs::ServeOptions options;
  options.root_fd = root;
  options.mountpoint = o.dir;
  options.rule = *rule;
  options.stats_path = o.stats;
  const pid_t parent = ::getppid();
  // Nothing runs on after the run: a runner killed with -9 leaves us with another parent.
  options.keep_going = [parent, target] { return ::getppid() == parent && targets::is_alive(target); };
  const int rc = iofs::serve(options);
  ::close(root);
  return rc;
}

}  // namespace

void add_iofs_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("iofs", "The FUSE file system of an I/O fault (started by `chaosplus run`)");
  cmd->group("");  // hidden: not for people
  auto o = std::make_shared<IofsOptions>();
  cmd->add_option("--pid", o->pid, "the target's pid (its mount namespace is joined)")->required();
  cmd->add_option("--start-time", o->start_time, "the target's start time (/proc/PID/stat field 22)")->required();
  cmd->add_option("--dir", o->dir, "the absolute folder to mount over")->required();
  cmd->add_option("--rules", o->rules, "the rule file (JSON) the fault wrote")->required();
  cmd->add_option("--stats", o->stats, "where to write, when done, how many calls it picked and faulted (JSON)");
  cmd->callback([o, &exit_code] { exit_code = run_iofs(*o); });
}

}  // namespace chaosplus::cli
