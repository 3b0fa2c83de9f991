#include "support/crash_matrix.h"

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "faults/nft_faults.h"
#include "faults/system_tool.h"
#include "faults/undo.h"
#include "faults/veth_lab.h"
#include "runner/ledger.h"
#include "runner/recovery.h"
#include "support/crash_matrix_host.h"
#include "support/kernel.h"
#include "support/leftovers.h"
#include "support/support.h"
#include "targets/process.h"

namespace chaosplus::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kRollbackBegun = "rollback.begun";

std::string ms_text(std::chrono::microseconds d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fms", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

std::string tool_output(const std::vector<std::string>& argv) {
  auto out = faults::run_tool_checked(argv);
  return out ? *out : "<" + out.error() + ">";
}

// --- the journal, read as the run writes it --------------------------------------------------

class JournalTail {
 public:
  explicit JournalTail(std::string path) : path_(std::move(path)) {}

  // Events completed since the last call.
  std::vector<nlohmann::json> read_new() {
    std::vector<nlohmann::json> out;
    std::ifstream in(path_, std::ios::binary);
    if (!in) return out;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    offset_ += chunk.size();
    partial_ += chunk;
    for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n')) {
      auto j = nlohmann::json::parse(partial_.substr(0, nl), nullptr, false);
      partial_.erase(0, nl + 1);
      if (!j.is_discarded() && j.is_object()) out.push_back(std::move(j));
    }
    return out;
  }

 private:
  std::string path_;
  std::size_t offset_ = 0;
  std::string partial_;
};

// Wakes us when the run writes a file in its folder (journal, rollback marker) or when a tool
// binary is executed (exec opens it): no polling for either.
class Inotify {
 public:
  Inotify(const std::string& dir, const std::vector<std::string>& tools)
      : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (fd_ < 0 || ::inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MODIFY) < 0) {
      throw std::runtime_error("inotify on " + dir);
    }
    for (const auto& tool : tools) {
      const int wd = ::inotify_add_watch(fd_, tool.c_str(), IN_OPEN);
      if (wd < 0) throw std::runtime_error("inotify on " + tool);
      tool_watches_.push_back(wd);
    }
  }
  ~Inotify() { ::close(fd_); }
  Inotify(const Inotify&) = delete;
  Inotify& operator=(const Inotify&) = delete;
  int fd() const { return fd_; }
  // Reads what is pending; true if a tool was executed meanwhile.
  bool drain() {
    bool tool = false;
    alignas(inotify_event) char buf[4096];
    for (ssize_t n; (n = ::read(fd_, buf, sizeof buf)) > 0;) {
      for (ssize_t at = 0; at < n;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + at);
        tool = tool || std::find(tool_watches_.begin(), tool_watches_.end(), e->wd) != tool_watches_.end();
        at += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
    }
    return tool;
  }

 private:
  int fd_;
  std::vector<int> tool_watches_;
};

}  // namespace

// --- points ----------------------------------------------------------------------------------

std::string KillPoint::kind_name() const {
  switch (kind) {
    case Kind::startup: return "startup";
    case Kind::event: return "event";
    case Kind::random: return "random";
  }
  return "?";
}

std::string KillPoint::label() const {
  if (kind == Kind::event && event.starts_with("tool ")) {
    return "while " + event.substr(5) + " runs #" + std::to_string(nth) + " +" + ms_text(delay) +
           (freeze ? ", the tool stopped until recover ends" : "");
  }
  if (kind == Kind::event) return "after " + event + " #" + std::to_string(nth) + " +" + ms_text(delay);
  return kind_name() + " " + ms_text(delay);
}

std::string PointOutcome::describe() const {
  std::string out = "[" + point.kind_name() + "] " + point.label() + ": ";
  if (attempts > 1) out += "attempt " + std::to_string(attempts) + ", ";
  if (!reached) out += "EVENT NOT REACHED, ";
  out += killed ? "killed" : "not killed (the run had ended, exit " + std::to_string(run_exit) + ")";
  out += " after " + (last_event.empty() ? std::string("no event") : last_event) + " (" +
         std::to_string(faults_injected) + " fault.injected); recover exit " + std::to_string(recover_exit);
  if (!run_output.empty()) out += "; the run said: ..." + run_output;
  if (left.empty()) return out + "; nothing left";
  out += "; LEFT " + std::to_string(left.size()) + ":";
  for (const auto& l : left) out += "\n    - " + l;
  return out;
}

std::vector<KillPoint> event_points() {
  auto after = [](std::string event, int nth, std::chrono::microseconds delay = 0us) {
    return KillPoint{KillPoint::Kind::event, delay, std::move(event), nth};
  };
  std::vector<KillPoint> points{after("run.started", 1), after("proxy.placed", 1), after("target.started", 1)};
  // Faults go on back to back: right after one is on, the next is being put on (for the reject,
  // its nft child runs); at the end they come off newest first in the same way.
  constexpr int kFaults = 5 + kHostFaults;  // the network and process faults, then the host ones
  for (int n = 1; n <= kFaults; ++n) points.push_back(after("fault.injected", n));
  for (int n = 1; n <= kFaults; ++n) points.push_back(after("fault.reverted", n));
  // While the tools that change the kernel (or /etc/shadow: lock_account's usermod) run: the kill
  // leaves them orphaned, and recover must not decide before they are done (or killed). Each also
  // with the tool held stopped until recover has ended.
  for (const char* tool : {"tool nft -f", "tool tc add", "tool tc del", "tool nft delete", "tool usermod -L"}) {
    points.push_back(after(tool, 1));
    points.push_back(after(tool, 1, 5ms));  // time for the runner to hand the tool its input
    points.back().freeze = true;
  }
  points.push_back(after(kRollbackBegun, 1));
  points.push_back(after(kRollbackBegun, 1, 20ms));  // inside the first rollback command
  points.push_back(after("rollback.done", 1));       // between the two rollbacks
  points.push_back(after("placement.removed", 1));   // stopping what the run started
  return points;
}

std::vector<KillPoint> matrix_points(int count, std::uint64_t seed, const RunTimeline& timeline) {
  const auto events = event_points();
  const int n_startup = std::max(4, count * 3 / 20);
  const int n_event = std::max(static_cast<int>(events.size()), count - n_startup - std::max(3, count / 4));
  const int n_random = std::max(0, count - n_startup - n_event);
  std::vector<KillPoint> points;
  // The first round has no delay; later rounds kill a little after the event as well.
  static const std::chrono::microseconds delays[] = {0us, 500us, 2ms, 0us, 5ms, 1ms, 0us, 10ms};
  for (int i = 0; i < n_event; ++i) {
    KillPoint p = events[static_cast<std::size_t>(i) % events.size()];
    const auto round = static_cast<std::size_t>(i) / events.size();
    if (round > 0) p.delay += delays[round % std::size(delays)];
    points.push_back(p);
  }
  // Evenly spread over [from, to): the middles of n equal slices.
  auto spread = [&](int n, std::chrono::microseconds from, std::chrono::microseconds to) {
    for (int i = 0; i < n; ++i) {
      points.push_back(KillPoint{KillPoint::Kind::startup, from + (to - from) * (2 * i + 1) / (2 * n), {}, 1});
    }
  };
  const std::chrono::microseconds first = 30ms;
  const std::chrono::microseconds startup = timeline.startup;
  const int n_first = startup > first ? (n_startup + 1) / 2 : n_startup;
  spread(n_first, 0us, first);
  spread(n_startup - n_first, first, startup);
  std::mt19937_64 random(seed);
  const auto span = std::chrono::duration_cast<std::chrono::microseconds>(timeline.length) * 11 / 10;
  std::uniform_int_distribution<std::int64_t> pick(0, std::max<std::int64_t>(span.count(), 1));
  for (int i = 0; i < n_random; ++i) {
    points.push_back(KillPoint{KillPoint::Kind::random, std::chrono::microseconds(pick(random)), {}, 1});
  }
  return points;
}

// --- the matrix ------------------------------------------------------------------------------

struct CrashMatrix::Lab {
  std::unique_ptr<faults::VethLab> veth;
  std::unique_ptr<HostOnce> host;
};

namespace {

// The root qdiscs of the lab interface the bandwidth limit shapes.
std::string qdiscs_of(const faults::VethLab::Side& side) {
  return tool_output({"tc", "-n", side.netns, "qdisc", "show", "dev", side.interface});
}

}  // namespace

CrashMatrix::CrashMatrix() : lab_(std::make_unique<Lab>()) {
  // Orphans of a killed run are reparented to us rather than to init: none can escape the count.
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) throw std::runtime_error("prctl(PR_SET_CHILD_SUBREAPER)");
  auto lab = faults::VethLab::create("cm");
  if (!lab) throw std::runtime_error("cannot build the lab namespaces: " + lab.error());
  lab_->veth = std::move(lab).value();
  lab_->host = std::make_unique<HostOnce>();
}

CrashMatrix::~CrashMatrix() = default;

namespace {

// Everything one point needs; made fresh for each, so nothing of one point can hide in the next.
struct PointRun {
  explicit PointRun(HostOnce& once) : host(dir, once) {}

  TempDir dir;
  HostPoint host;  // after dir: its tmpfs is unmounted before the folder is removed
  int tokens_port = free_port();
  int proxy_port = free_port();
  int spare_port = free_port();
  std::string state_dir = dir.file("state");
  std::string journal = dir.file("journal.jsonl");
  std::unique_ptr<Child> sleeper = std::make_unique<Child>(std::vector<std::string>{"sleep", "600"});
  // The file the corrupt fault flips: its bytes must be these again after recover.
  std::string data = dir.file("data.bin");
  std::string data_bytes = [this] {
    std::string bytes(8 * 4096, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
    write_file(data, bytes);
    return bytes;
  }();

  std::string marker(int n) const { return dir.file("rollback-" + std::to_string(n)); }

  std::string experiment(const std::string& netns, const std::string& interface) const {
    auto rollback = [&](int n, const std::string& middle) {
      return "  - name: marker-" + std::to_string(n) + "\n    command: { run: [sh, -c, \"echo begun >> " + marker(n) +
             "; " + middle + "echo done >> " + marker(n) + "\"], timeout: 10s }\n";
    };
    const std::string tokens = "127.0.0.1:" + std::to_string(tokens_port);
    const std::string proxy = "127.0.0.1:" + std::to_string(proxy_port);
    return "name: crash-matrix\ntargets:\n  sleeper:\n    attach: { pid: " + std::to_string(sleeper->pid()) +
           " }\n  tokens:\n    process:\n      command: [demo-token-service, --port, \"" + std::to_string(tokens_port) +
           "\"]\n      ready: { http: \"http://" + tokens + "/health\", timeout: 10s }\n      " + host.resolve_yaml() +
           "\n    proxy: { listen: \"" + proxy + "\", upstream: \"" + tokens +
           "\" }\n  spare:\n    endpoint: \"127.0.0.1:" + std::to_string(spare_port) +
           "\"\nsteady_state:\n  probes:\n    - name: tokens-health\n      http: { url: \"http://" + proxy +
           "/health\", timeout: 1s }\n      expect: { status: [200] }\n      every: 100ms\n"
           "      tolerance: { success_rate: \">= 50%\" }\n"
           "phases:\n  - name: chaos\n    duration: 400ms\n    faults:\n"
           "      - pause: { target: sleeper }\n"
           "      - latency: { target: tokens, latency: 20ms }\n"
           "      - reject: { target: spare }\n"
           "      - bandwidth_limit: { target: spare, namespace: " +
           netns + ", interface: " + interface +
           ", rate: 1MB/s }\n"
           "      - corrupt: { target: spare, path: \"" +
           data + "\", pages: 2, seed: 5 }\n" + host.fault_lines("spare", "tokens") + "rollbacks:\n" +
           rollback(1, "sleep 0.3; ") + rollback(2, "");
  }
};

// The port the run's proxy API listened on, from the proxy's log; 0 if it never said.
int proxy_api_port(const std::string& journal_logs) {
  const std::string log = read_file(journal_logs + "/fault-proxy.log");
  const std::string marker = "chaosplus proxy API listening on ";
  const auto at = log.find(marker);
  if (at == std::string::npos) return 0;
  const auto colon = log.find(':', at + marker.size());
  return colon == std::string::npos ? 0 : std::atoi(log.c_str() + colon + 1);
}

void check_ledger(const std::string& state_dir, const std::string& run_id, const std::vector<std::int64_t>& injected,
                  std::vector<std::string>& left) {
  const std::string path = runner::ledger_path(state_dir);
  if (!std::filesystem::exists(path)) {
    if (!run_id.empty()) left.push_back("ledger: " + path + " is missing although the run started");
    return;
  }
  auto ledger = runner::Ledger::open(path);
  if (!ledger) {
    left.push_back("ledger: cannot open " + path + ": " + ledger.error());
    return;
  }
  auto running = (*ledger)->runs_with_status("running");
  if (!running) left.push_back("ledger: cannot read runs: " + running.error());
  else
    for (const auto& r : *running) left.push_back("ledger: run " + r.run_id + " is still marked running");
  auto open = (*ledger)->open_entries();
  if (!open) left.push_back("ledger: cannot read entries: " + open.error());
  else
    for (const auto& e : *open) {
      left.push_back("ledger: entry #" + std::to_string(e.id) + " " + e.kind + " is " + runner::to_string(e.state) +
                     (e.error.empty() ? "" : " (" + e.error + ")") + ": " + e.record);
    }
  if (run_id.empty()) return;
  auto entries = (*ledger)->entries(run_id);
  if (!entries) {
    left.push_back("ledger: cannot read the run's entries: " + entries.error());
    return;
  }
  for (std::int64_t id : injected) {
    const bool recorded = std::any_of(entries->begin(), entries->end(), [&](const auto& e) { return e.id == id; });
    if (!recorded) left.push_back("ledger: fault.injected names entry #" + std::to_string(id) + ", not in the ledger");
  }
  // Processes the ledger says the run started: by pid and start time, none may be alive.
  for (const auto& e : *entries) {
    if (e.kind != faults::kinds::process_started) continue;
    auto r = nlohmann::json::parse(e.record, nullptr, false);
    if (r.is_discarded() || !r.contains("pid") || !r.contains("start_time")) continue;
    const targets::ProcessId id{r["pid"].get<int>(), r["start_time"].get<unsigned long long>()};
    if (id.pid > 0 && targets::is_alive(id)) {
      left.push_back("process left (recorded in the ledger as '" + r.value("what", std::string()) + "', entry " +
                     runner::to_string(e.state) + "): pid " + std::to_string(id.pid) + " " + command_line(id.pid));
    }
  }
}

// Follows a run as it writes its journal (and its first rollback, its marker file): the events
// so far, and when (after the fork) each type was first seen. Woken by inotify and by the run's
// exit (a pidfd), so it reacts within microseconds without spinning.
class RunWatch {
 public:
  RunWatch(const PointRun& p, Clock::time_point started)
      : p_(p),
        started_(started),
        watch_(p.dir.path(), {faults::find_tool("nft"), faults::find_tool("tc"), faults::find_tool("usermod")}),
        tail_(p.journal) {}

  std::vector<nlohmann::json> events;
  std::vector<std::pair<std::string, std::chrono::microseconds>> first_seen;

  int count(const std::string& type) const {
    return static_cast<int>(
        std::count_if(events.begin(), events.end(), [&](const auto& e) { return e.value("type", "") == type; }));
  }

  // Until `done` holds (returns when it was seen), the run ends, or `deadline`.
  std::optional<Clock::time_point> until(const std::function<bool()>& done, Child& run, Clock::time_point deadline) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, run.pid(), 0));
    // A tool lives a few milliseconds: on a busy machine we must not be the one waiting for a core,
    // so while we wait (blocked, never spinning) we are woken first. The run was forked before and
    // keeps its own scheduling.
    const int policy_before = ::sched_getscheduler(0);
    sched_param param_before{};
    ::sched_getparam(0, &param_before);
    const sched_param realtime{1};
    const bool raised = ::sched_setscheduler(0, SCHED_FIFO, &realtime) == 0;
    std::optional<Clock::time_point> seen;
    auto tool_started = Clock::time_point::min();
    while (Clock::now() < deadline) {
      if (watch_.drain()) tool_started = Clock::now();
      take_events();
      if (done()) {
        seen = Clock::now();
        break;
      }
      if (!run.running()) break;
      pollfd fds[2] = {{watch_.fd(), POLLIN, 0}, {pidfd, POLLIN, 0}};
      const auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      // Right after a tool's exec began, look again every millisecond until it shows its name.
      // (tool_started + 20ms, not now - tool_started: "no tool yet" is time_point::min(), and
      // subtracting it overflows, which UBSan reported.)
      const long long pause = Clock::now() < tool_started + 20ms ? 1 : 50;
      ::poll(fds, pidfd >= 0 ? 2 : 1, static_cast<int>(std::clamp<long long>(left_ms, 0, pause)));
    }
    if (pidfd >= 0) ::close(pidfd);
    if (raised) ::sched_setscheduler(0, policy_before, &param_before);
    return seen;
  }

  void take_events() {
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
    for (auto& e : tail_.read_new()) {
      const std::string type = e.value("type", "");
      if (count(type) == 0) first_seen.emplace_back(type, now);
      events.push_back(std::move(e));
    }
    if (!rollback_seen_ && !read_file(p_.marker(1)).empty()) {
      rollback_seen_ = true;
      first_seen.emplace_back(kRollbackBegun, now);
    }
  }

  bool rollback_begun() const { return rollback_seen_; }

  // Children of the runner called `name` with `word` among their arguments, seen so far (in the
  // order first seen): looks again now.
  const std::vector<pid_t>& tools(pid_t runner, const std::string& name, const std::string& word) {
    auto& seen = tools_[name + " " + word];
    DIR* tasks = ::opendir(("/proc/" + std::to_string(runner) + "/task").c_str());
    if (tasks == nullptr) return seen;
    while (const dirent* task = ::readdir(tasks)) {
      if (task->d_name[0] == '.') continue;
      std::istringstream children(read_file("/proc/" + std::to_string(runner) + "/task/" + task->d_name + "/children"));
      for (pid_t child = 0; children >> child;) {
        if (std::find(seen.begin(), seen.end(), child) != seen.end()) continue;
        auto info = read_proc(child);
        if (!info || info->comm != name) continue;
        const std::string args = read_file("/proc/" + std::to_string(child) + "/cmdline");
        std::istringstream words(args);
        bool has = false;
        for (std::string w; std::getline(words, w, '\0');) has = has || w == word;
        if (has) seen.push_back(child);
      }
    }
    ::closedir(tasks);
    return seen;
  }

 private:
  const PointRun& p_;
  Clock::time_point started_;
  Inotify watch_;
  JournalTail tail_;
  bool rollback_seen_ = false;
  std::map<std::string, std::vector<pid_t>> tools_;
};

}  // namespace

PointOutcome CrashMatrix::run_to_end(RunTimeline* timeline) {
  KillPoint none{KillPoint::Kind::random, 0us, {}, 1};
  return play(none, false, timeline);
}

PointOutcome CrashMatrix::run_point(const KillPoint& point) {
  // A tool lives a few milliseconds and a busy machine may not let us see it: a run that went by
  // unseen (and left nothing) is played again.
  for (int attempt = 1;; ++attempt) {
    PointOutcome outcome = play(point, true, nullptr);
    outcome.attempts = attempt;
    if (outcome.reached || !outcome.left.empty() || attempt == 5) return outcome;
  }
}

namespace {

// What was there before a point: only what is new afterwards is the run's.
struct Before {
  std::set<std::string> tables;
  std::string qdiscs;
  pid_t runner = 0;  // the run's pid: its nft tables are named after it (faults/nft_rules.h)

  // A table this point's run made (not another test's: a lab test's isolate runs beside the matrix).
  bool ours(const std::string& table) const {
    return !tables.contains(table) && table.starts_with("chaosplus_" + std::to_string(runner) + "_");
  }
};

// Kills the run at `point` (its event or its time); returns the tool held stopped, if any.
pid_t kill_at(const KillPoint& point, Child& run, RunWatch& watch, Clock::time_point started, PointOutcome& outcome) {
  pid_t frozen = 0;
  std::optional<Clock::time_point> seen;
  if (point.kind != KillPoint::Kind::event) {
    std::this_thread::sleep_until(started + point.delay);  // the kill point is the time itself
    seen = Clock::now();
  } else if (point.event.starts_with("tool ")) {
    std::istringstream words(point.event.substr(5));
    std::string name, word;
    words >> name >> word;
    const auto nth = static_cast<std::size_t>(point.nth);
    seen = watch.until([&] { return watch.tools(run.pid(), name, word).size() >= nth; }, run, Clock::now() + 60s);
    if (seen && point.freeze) {
      frozen = watch.tools(run.pid(), name, word)[nth - 1];
      ::kill(frozen, SIGSTOP);
    }
  } else {
    seen = watch.until(
        [&] { return point.event == kRollbackBegun ? watch.rollback_begun() : watch.count(point.event) >= point.nth; },
        run, Clock::now() + 60s);
  }
  outcome.reached = seen.has_value();
  if (seen && point.kind == KillPoint::Kind::event && point.delay > 0us) {
    std::this_thread::sleep_until(*seen + point.delay);
  }
  outcome.killed = run.running();
  run.signal(SIGKILL);
  return frozen;
}

RunTimeline timeline_of(const RunWatch& watch, Clock::time_point started) {
  RunTimeline timeline;
  timeline.length = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  for (const auto& [type, at] : watch.first_seen) {
    if (type == "fault.injected" && timeline.startup == 0ms) {
      timeline.startup = std::chrono::duration_cast<std::chrono::milliseconds>(at);
    }
    timeline.text += (timeline.text.empty() ? "" : ", ") + type + " " + ms_text(at);
  }
  return timeline;
}

// After recover: what is left on the system. `frozen` (a tool held stopped) is let go on the way,
// and every leftover process is stopped, so the tables and qdiscs read are final.
void check_system(const PointRun& p, const faults::VethLab::Side& lab, const Before& before, pid_t frozen,
                  PointOutcome& outcome) {
  auto& left = outcome.left;
  const std::set<pid_t> keep{p.sleeper->pid()};
  // Processes: anything below us but the attached process is something the run (or its
  // children) started and nobody stopped.
  for (const auto& proc : descendants(keep)) {
    left.push_back("process left: pid " + std::to_string(proc.pid) + " (" + proc.comm + ", state " + proc.state +
                   "): " + command_line(proc.pid));
  }
  // Rollbacks: owed once a fault was on; one begun must have finished by the end of recover.
  for (int n = 1; n <= 2; ++n) {
    const auto lines = read_lines(p.marker(n));
    if (lines.empty() && outcome.faults_injected > 0) {
      left.push_back("rollback marker-" + std::to_string(n) + " never ran (a fault had been injected)");
    } else if (!lines.empty() && lines.back() != "done") {
      left.push_back("rollback marker-" + std::to_string(n) + " was begun and had not finished when recover ended");
    }
  }
  const int api_port = proxy_api_port(p.dir.file("journal.logs"));
  const auto listening = listening_ports();
  for (int port : {p.tokens_port, p.proxy_port, api_port}) {
    if (port > 0 && listening.contains(port)) left.push_back("listener left on port " + std::to_string(port));
  }
  if (read_file(p.data) != p.data_bytes) left.push_back("the corrupted file " + p.data + " does not hold its bytes");
  std::error_code ec;
  for (const auto& copy : std::filesystem::directory_iterator(p.state_dir + "/corrupt", ec)) {
    left.push_back("copy of a corrupted file left: " + copy.path().string());
  }
  const char state = process_state(p.sleeper->pid());
  if (state == 'T' || state == 't') left.push_back("the attached process is still stopped (state T)");
  if (state == 0 || state == 'Z') left.push_back("the attached process is gone");

  // A tool the killed run had started may still be changing the system: let the short-lived ones
  // (and the one held stopped) finish, as their effect is what counts, then stop every leftover.
  if (frozen > 0) ::kill(frozen, SIGCONT);
  wait_until(
      [&] {
        auto procs = descendants(keep);
        return std::none_of(procs.begin(), procs.end(), [](const ProcInfo& pr) {
          return pr.comm == "nft" || pr.comm == "tc" || pr.comm == "ip" || pr.comm == "usermod";
        });
      },
      3s);
  kill_descendants(keep);

  for (const auto& table : chaosplus_tables()) {
    if (before.ours(table)) left.push_back("nft table left: inet " + table);
  }
  std::string qdiscs = qdiscs_of(lab);
  if (qdiscs != before.qdiscs) {
    qdiscs.erase(qdiscs.find_last_not_of(" \n") + 1);
    left.push_back("qdisc left in " + lab.netns + " dev " + lab.interface + ": " + qdiscs);
  }
  p.host.check(p.state_dir, left);
}

// Puts the machine back by hand, so the next point (and the next test) starts clean.
void clean_up(PointRun& p, const faults::VethLab::Side& lab, const Before& before) {
  p.host.clean_up(p.state_dir);
  for (const auto& table : chaosplus_tables()) {
    if (before.ours(table)) (void)faults::remove_nft_table("", table);
  }
  if (qdiscs_of(lab) != before.qdiscs) {
    (void)faults::run_tool({"tc", "-n", lab.netns, "qdisc", "del", "dev", lab.interface, "root"});
  }
}

}  // namespace

PointOutcome CrashMatrix::play(const KillPoint& point, bool kill, RunTimeline* timeline) {
  PointOutcome outcome;
  outcome.point = point;
  PointRun p(*lab_->host);
  const auto& lab = lab_->veth->b();
  // Other kernel tests compare the whole rule set: they wait while a point may have tables on.
  KernelTurn turn;
  if (!turn.held()) {
    outcome.left.push_back("the kernel test lock was held by another test for 5 minutes; point not played");
    return outcome;
  }
  Before before{chaosplus_tables(), qdiscs_of(lab)};
  write_file(p.dir.file("e.yaml"), p.experiment(lab.netns, lab.interface));

  const auto started = Clock::now();
  Child run(
      {bin("chaosplus"), "run", p.dir.file("e.yaml"), "--plain", "--state-dir", p.state_dir, "--journal", p.journal});
  before.runner = run.pid();
  RunWatch watch(p, started);
  pid_t frozen = 0;  // a tool held stopped until recover has ended
  if (kill) {
    frozen = kill_at(point, run, watch, started, outcome);
  } else {
    watch.until([] { return false; }, run, Clock::now() + 120s);
  }
  outcome.run_exit = run.wait(30s).value_or(-1);
  if (outcome.run_exit < 0) outcome.left.push_back("the run did not end within 30s (of SIGKILL)");
  if (!kill && outcome.run_exit != 0) {
    outcome.left.push_back("the unkilled run exited " + std::to_string(outcome.run_exit) + ":\n" + run.output());
  } else if (!outcome.killed && outcome.run_exit != 0) {
    const std::string output = run.output();
    outcome.run_output = output.substr(output.size() > 600 ? output.size() - 600 : 0);
  }
  watch.take_events();
  if (timeline != nullptr) *timeline = timeline_of(watch, started);
  if (!watch.events.empty()) outcome.last_event = watch.events.back().value("type", "");
  outcome.faults_injected = watch.count("fault.injected");
  std::string run_id;
  std::vector<std::int64_t> injected_ids;
  for (const auto& e : watch.events) {
    if (e.value("type", "") == "run.started") run_id = e.value("run_id", "");
    if (e.value("type", "") == "fault.injected" && e.contains("ledger_id")) {
      injected_ids.push_back(e["ledger_id"].get<std::int64_t>());
    }
  }

  // One recover, as an operator would run it after the crash.
  {
    Child recover({bin("chaosplus"), "recover", "--state-dir", p.state_dir});
    outcome.recover_exit = recover.wait(120s).value_or(-1);
    outcome.recover_output = recover.output();
  }
  auto& left = outcome.left;
  if (outcome.recover_exit != 0) {
    left.push_back("recover exited " + std::to_string(outcome.recover_exit) + ": " + outcome.recover_output);
  }
  check_system(p, lab, before, frozen, outcome);
  const std::size_t system_left = left.size();
  check_ledger(p.state_dir, run_id, injected_ids, left);
  // Something is left on the system, yet the ledger has nothing open: it does not say what is true.
  const bool ledger_open = std::any_of(left.begin() + static_cast<std::ptrdiff_t>(system_left), left.end(),
                                       [](const std::string& l) { return l.starts_with("ledger: "); });
  const bool on_system = std::any_of(left.begin(), left.begin() + static_cast<std::ptrdiff_t>(system_left),
                                     [](const std::string& l) { return !l.starts_with("recover exited"); });
  if (on_system && !ledger_open) {
    left.push_back("ledger: every entry reverted and no run marked running, while the above is left");
  }
  clean_up(p, lab, before);
  return outcome;
}

namespace {

// A leftover without what differs from point to point (pids, ports, folders, ids): the kind of
// failure, so the summary can count each kind once.
std::string failure_kind(const std::string& line) {
  std::string out;
  const std::string first = line.substr(0, line.find('\n'));
  const std::string temp = std::filesystem::temp_directory_path().string() + "/chaosplus-test-";
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (first.compare(i, temp.size(), temp) == 0) {
      out += "DIR";
      const auto end = first.find_first_of("/ ", i + temp.size());
      if (end == std::string::npos) break;
      i = end - 1;
    } else if (std::isxdigit(static_cast<unsigned char>(first[i]))) {
      // A number, an address or a hex name part ("9869:", "chaosplus_123_1_7572aea3") is N; a
      // word of hex letters alone ("add", "dead") is kept.
      std::size_t end = i;
      bool digit = false;
      while (end < first.size() && (std::isxdigit(static_cast<unsigned char>(first[end])) || first[end] == '.')) {
        digit = digit || std::isdigit(static_cast<unsigned char>(first[end]));
        ++end;
      }
      if (end < first.size() && std::isalpha(static_cast<unsigned char>(first[end]))) {
        // Part of a word ("8000000bit", "cpb0"): only a decimal number in it is N.
        end = i;
        while (end < first.size() && std::isdigit(static_cast<unsigned char>(first[end]))) ++end;
        digit = end > i;
        if (!digit) end = i + 1;
      }
      out += digit ? "N" : first.substr(i, end - i);
      i = end - 1;
    } else {
      out += first[i];
    }
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

}  // namespace

std::string summarize(const std::vector<PointOutcome>& outcomes) {
  struct Counts {
    int points = 0, left = 0, not_killed = 0, not_reached = 0;
  };
  std::map<std::string, Counts> by_kind;
  Counts total;
  std::map<std::string, std::vector<std::size_t>> by_failure;  // kind of leftover -> points (1-based)
  std::ostringstream out;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const auto& o = outcomes[i];
    for (Counts* c : {&by_kind[o.point.kind_name()], &total}) {
      ++c->points;
      c->left += o.left.empty() ? 0 : 1;
      c->not_killed += o.killed ? 0 : 1;
      c->not_reached += o.reached ? 0 : 1;
    }
    std::set<std::string> kinds;
    for (const auto& l : o.left) kinds.insert(failure_kind(l));
    for (const auto& k : kinds) by_failure[k].push_back(i);
    if (!o.left.empty()) out << "point " << i + 1 << " " << o.describe() << "\n";
  }
  if (!by_failure.empty()) out << "what was left, by kind (points; the first few):\n";
  for (const auto& [kind, points] : by_failure) {
    out << "  " << points.size() << " x " << kind << "\n";
    for (std::size_t j = 0; j < points.size() && j < 4; ++j) {
      out << "      point " << points[j] + 1 << ": " << outcomes[points[j]].point.label() << " (killed after "
          << (outcomes[points[j]].last_event.empty() ? "no event" : outcomes[points[j]].last_event) << ")\n";
    }
  }
  for (const auto& [kind, c] : by_kind) {
    out << kind << ": " << c.points << " points, " << c.left << " left something (" << c.not_killed
        << " ended before the kill, " << c.not_reached << " never reached their event)\n";
  }
  out << total.points << " points, " << total.left << " left something\n";
  return out.str();
}

}  // namespace chaosplus::testing
