// clock: skews the wall clock one started target sees (an hour ahead, half an hour behind, running
// twice or half as fast), never the host's. The target is started with libfaketime preloaded
// (prepare_launch), steered by a file of the run's (<state dir>/clock/<run id>-<target>) that holds
// libfaketime's setting: "+0 x1" (the real time) until the fault writes its skew there and after
// it writes "+0 x1" back. libfaketime reads the file again 1-2 s after it changed.
//
// What is written, with t the real time, T0 the inject and S when the target's process started
// (libfaketime counts a rate from the start of the process it was loaded into, which the programs
// that process runs inherit, not from the moment the rate is set):
//   offset O          "+O x1"                        fake = t + O
//   drift R (+ O)     "+(O + (S - T0)(R - 1)) xR"    fake = S + (t - S)R + O + (S - T0)(R - 1)
//                                                         = t + O + (t - T0)(R - 1): no jump at T0
// The rate is always written ("x1" included): libfaketime keeps a rate it once read until another
// one is written, so "+0" alone after a drift would leave the target's clock running fast.
#include <time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/units.h"
#include "faults/registry.h"
#include "faults/target_handle.h"
#include "targets/process.h"

namespace chaosplus::faults {
namespace {

constexpr std::string_view kKind = "clock.skew";
// libfaketime's setting for "no skew, real rate".
constexpr std::string_view kNeutral = "+0 x1";
constexpr std::string_view kFileVariable = "FAKETIME_TIMESTAMP_FILE";

// The thread-safe build (libfaketimeMT: it serialises its own state between threads), which any
// target may need; Debian's package installs it under the multiarch folder.
Result<std::string> find_libfaketime() {
  std::vector<std::string> places{"/usr/lib/x86_64-linux-gnu/faketime",
                                  "/usr/lib/aarch64-linux-gnu/faketime",
                                  "/usr/lib64/faketime",
                                  "/usr/lib/faketime",
                                  "/usr/local/lib/faketime",
                                  "/usr/local/lib"};
  std::error_code ec;
  for (const auto& dir : std::filesystem::directory_iterator("/usr/lib", ec)) {
    if (dir.is_directory(ec) && std::filesystem::exists(dir.path() / "faketime", ec)) {
      places.push_back((dir.path() / "faketime").string());
    }
  }
  for (const auto& dir : places) {
    const std::string lib = dir + "/libfaketimeMT.so.1";
    if (::access(lib.c_str(), R_OK) == 0) return lib;
  }
  return Error{
      "libfaketime is not installed (libfaketimeMT.so.1 not found in /usr/lib/*/faketime, "
      "/usr/lib64/faketime, /usr/local/lib): install the libfaketime package "
      "(Debian, Ubuntu: apt-get install libfaketime)"};
}

// "+1h", "-30m", "+90s", "+1h30m" -> signed seconds.
Result<double> parse_offset(std::string_view text) {
  const std::string shown = "found '" + std::string(text) + "', expected a signed duration such as +1h, -30m or +90s";
  if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return Error{shown};
  auto d = parse_duration(text.substr(1));
  if (!d) return Error{shown};
  const double seconds = std::chrono::duration<double>(*d).count();
  return text[0] == '-' ? -seconds : seconds;
}

// "2x", "0.5x", "x2", "2" -> how many seconds pass for the target in one real second.
Result<double> parse_drift(std::string_view text) {
  const std::string shown =
      "found '" + std::string(text) + "', expected a rate above 0 and at most 1000 such as 2x or 0.5x";
  std::string_view s = text;
  if (s.ends_with('x')) s.remove_suffix(1);
  else if (s.starts_with('x')) s.remove_prefix(1);
  if (s.empty()) return Error{shown};
  const std::string number(s);
  char* end = nullptr;
  errno = 0;
  const double rate = std::strtod(number.c_str(), &end);
  if (errno != 0 || end != number.c_str() + number.size() || !std::isfinite(rate) || rate <= 0 || rate > 1000) {
    return Error{shown};
  }
  return rate;
}

// Plain decimal without exponent and without locale (the "C" form libfaketime reads).
std::string number_text(double value, int decimals) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out.setf(std::ios::fixed);
  out.precision(decimals);
  out << value;
  std::string s = out.str();
  if (s.find('.') != std::string::npos) {
    while (s.ends_with('0')) s.pop_back();
    if (s.ends_with('.')) s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string signed_seconds(double seconds) { return (seconds < 0 ? "" : "+") + number_text(seconds, 3); }

double realtime_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// When `id` started, in seconds since the epoch: its start time counts clock ticks since boot.
double started_at(const targets::ProcessId& id) {
  timespec boot{};
  ::clock_gettime(CLOCK_BOOTTIME, &boot);
  const double booted = realtime_now() - (static_cast<double>(boot.tv_sec) + static_cast<double>(boot.tv_nsec) / 1e9);
  return booted + static_cast<double>(id.start_time) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Replaces the file's content in one step (a reader sees the old setting or the new one, never a
// half-written line).
Status write_setting(const std::string& path, std::string_view setting) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << setting << '\n';
    out.flush();
    if (!out) return Error{"cannot write " + temporary + ": " + std::strerror(errno)};
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(temporary.c_str());
    return Error{"cannot replace " + path + ": " + why};
  }
  return ok_status();
}

std::string read_setting(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// libfaketime's first process in a target shares its start with the programs it runs through a
// POSIX shared memory object and semaphore named after its pid (/dev/shm/faketime_shm_<pid>,
// sem.faketime_sem_<pid>), removed only when it exits normally: a target stopped by a signal leaves
// them, and a later process given the same pid fails to start with libfaketime. Those whose
// process is gone are removed here (before a clock-prepared target starts, and on undo).
void remove_stale_shared_memory() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    const std::string name = entry.path().filename().string();
    std::string pid_text;
    if (name.starts_with("faketime_shm_")) pid_text = name.substr(13);
    else if (name.starts_with("sem.faketime_sem_")) pid_text = name.substr(17);
    else continue;
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    // A zombie is gone too (its parent, a killed runner, has not been reaped yet).
    const char state = targets::process_state(static_cast<int>(pid));
    if (pid > 0 && state != 0 && state != 'Z') continue;
    std::filesystem::remove(entry.path(), ec);
  }
}

// Puts the real time back in the file: nothing to do when its folder is gone (the run's state
// was removed, so no target reads it any more).
Status neutralise(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_directory(std::filesystem::path(path).parent_path(), ec)) return ok_status();
  if (auto s = write_setting(path, kNeutral); !s) return s;  // also replaces a crashed write's .tmp
  if (const std::string now = read_setting(path); now != kNeutral) {
    return Error{path + " reads '" + now + "' after revert, not '" + std::string(kNeutral) + "'"};
  }
  return ok_status();
}

struct Skew {
  double offset = 0;  // seconds
  double drift = 1;   // rate
};

class ClockFault final : public Fault {
 public:
  ClockFault(TargetHandle& target, std::optional<targets::ProcessId> process, std::string file, Skew skew)
      : target_(target.name()), process_(process), file_(std::move(file)), skew_(skew) {}

  std::string kind() const override { return std::string(kKind); }
  std::string summary() const override {
    std::string what;
    if (skew_.offset != 0 || skew_.drift == 1) what = signed_seconds(skew_.offset) + "s";
    if (skew_.drift != 1) what += (what.empty() ? "" : ", ") + ("running at " + number_text(skew_.drift, 6) + "x");
    return "clock of " + target_ + " " + what + " (" +
           (file_.empty() ? "libfaketime, set up when the run starts it" : file_) + ")";
  }
  std::string record() const override {
    return nlohmann::json{{"target", target_},
                          {"pid", process_ ? process_->pid : 0},
                          {"start_time", process_ ? process_->start_time : 0},
                          {"file", file_},
                          {"offset", skew_.offset},
                          {"drift", skew_.drift}}
        .dump();
  }

  Status inject(HaltSwitch&) override {
    if (file_.empty()) {
      return Error{"fault 'clock' on '" + target_ +
                   "': the target was not started with libfaketime (a clock fault needs a 'process' the run starts)"};
    }
    const double t0 = realtime_now();
    // A target whose process is gone is started again later: its rate then counts from its start.
    const double start = process_ && targets::is_alive(*process_) ? started_at(*process_) : t0;
    std::string setting;
    if (skew_.drift != 1) {
      // See the top of this file: counted from the inject, not from the target's start.
      setting = signed_seconds(skew_.offset + (start - t0) * (skew_.drift - 1)) + " x" + number_text(skew_.drift, 6);
    } else {
      setting = signed_seconds(skew_.offset) + " x1";
    }
    return write_setting(file_, setting);
  }
  Status revert(HaltSwitch&) override { return neutralise(file_); }

 private:
  std::string target_;
  std::optional<targets::ProcessId> process_;
  std::string file_;
  Skew skew_;
};

// clang-format off
constexpr std::array<spec::FaultParam, 2> kParams{{
    {"offset", spec::ParamKind::text, "", false, {},
     "a signed duration such as +1h, -30m or +90s: how far the target's wall clock is set ahead (+) or back (-)"},
    {"drift", spec::ParamKind::text, "", false, {},
     "a rate such as 2x or 0.5x: how many seconds pass for the target in one real second, from the inject on"},
}};
// clang-format on

Result<Skew> read_skew(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("clock"), fault);
  if (!p) return Error{p.error()};
  Skew skew;
  if (p->given("offset")) {
    auto offset = parse_offset(p->text("offset"));
    if (!offset) return Error{offset.error()};
    skew.offset = *offset;
  }
  if (p->given("drift")) {
    auto drift = parse_drift(p->text("drift"));
    if (!drift) return Error{drift.error()};
    skew.drift = *drift;
  }
  return skew;
}

std::vector<spec::ParamProblem> check(const spec::Fault& fault) {
  auto p = spec::FaultParams::read(*spec::find_fault_type("clock"), fault);
  if (!p) return {{"", p.error()}};
  std::vector<spec::ParamProblem> problems;
  if (p->given("offset")) {
    if (auto offset = parse_offset(p->text("offset")); !offset) problems.push_back({"offset", offset.error()});
  }
  if (p->given("drift")) {
    if (auto drift = parse_drift(p->text("drift")); !drift) problems.push_back({"drift", drift.error()});
  }
  if (!p->given("offset") && !p->given("drift")) {
    problems.push_back({"", "expected offset, drift or both: how the target's clock is skewed"});
  }
  return problems;
}

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{
      {"clock", spec::Capability::started_process, kParams,
       "skew the wall clock a started target sees (ahead, back, faster, slower) with libfaketime; "
       "the host's clock is untouched",
       false, check},
  }};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kKind};

// The file comes from how the runner started the target (prepare below); a target not started
// that way (a dry run describes the fault before anything starts) has none, and inject refuses.
Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  const auto file = target.sandbox.env.find(std::string(kFileVariable));
  auto skew = read_skew(fault);
  if (!skew) return Error{skew.error()};
  return std::unique_ptr<Fault>(std::make_unique<ClockFault>(
      target, target.process(), file == target.sandbox.env.end() ? "" : file->second, *skew));
}

Status undo_clock(std::string_view, std::string_view record) {
  nlohmann::json r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object() || !r.contains("file")) {
    return Error{"unreadable ledger record: " + std::string(record)};
  }
  remove_stale_shared_memory();
  return neutralise(r.at("file").get<std::string>());
}

// The target gets libfaketime and its own file, at the real time until a fault writes to it.
Status prepare(const spec::Fault&, LaunchPrep& prep) {
  if (prep.state_dir.empty()) return Error{"the run has no state folder for the clock's file"};
  if (const char* set = std::getenv("FAKETIME"); set != nullptr && *set != '\0') {
    return Error{"FAKETIME is set in chaosplus's environment ('" + std::string(set) +
                 "'): libfaketime would read it instead of the fault's file; unset it"};
  }
  auto lib = find_libfaketime();
  if (!lib) return Error{lib.error()};
  remove_stale_shared_memory();
  const std::string dir = prep.state_dir + "/clock";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{"cannot create " + dir + ": " + ec.message()};
  const std::string file = dir + "/" + prep.run_id + "-" + prep.target;
  if (auto s = write_setting(file, kNeutral); !s) return s;
  auto& env = prep.sandbox.env;
  auto& preload = env["LD_PRELOAD"];
  if (preload.find(*lib) == std::string::npos) preload = preload.empty() ? *lib : preload + ":" + *lib;
  env[std::string(kFileVariable)] = file;
  // Read the file again at most a second after it changed: each read is an open, read and close,
  // so reading it on every call (FAKETIME_NO_CACHE) costs a busy target ~4 us per clock call.
  env["FAKETIME_CACHE_DURATION"] = "1";
  // Only the wall clock moves: the target's timers, timeouts and elapsed-time measures run on
  // CLOCK_MONOTONIC, which must stay steady (a stopped or jumping one hangs them).
  env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1";
  return ok_status();
}

// The run's <run id>-<target>.tmp files: a setting a kill cut short before write_setting renamed it
// (the first one, written when the target is prepared, has no ledger entry whose undo would replace
// it). The files themselves stay, at "+0 x1" (see neutralise): a process that finds none keeps the
// last rate it read.
void sweep(const std::string& state_dir, std::string_view run_id) {
  std::error_code ec;
  const std::string prefix = std::string(run_id) + "-";
  std::vector<std::filesystem::path> half_written;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir + "/clock", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix) && name.ends_with(".tmp")) half_written.push_back(entry.path());
  }
  for (const auto& file : half_written) std::filesystem::remove(file, ec);
}

}  // namespace

FaultFamily clock_fault_family() { return {"clock", types(), kKinds, make, undo_clock, prepare, sweep}; }

}  // namespace chaosplus::faults
