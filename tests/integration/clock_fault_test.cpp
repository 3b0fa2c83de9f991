// clock through `chaosplus run`: a started target sees its wall clock an hour ahead (`date` inside
// it) while the host's `date` reads the real time; after the revert the target is back on the
// host's time; a drift makes its clock run faster or slower; a killed run's skew is put back by
// `chaosplus recover` from the ledger alone. The figures measured are printed, not asserted
// tightly (the machine is shared): the bounds below only tell a working fault from a broken one.
#include <gtest/gtest.h>
#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "faults/fault.h"
#include "faults/registry.h"
#include "faults/target_handle.h"
#include "faults/undo.h"
#include "spec/loader.h"
#include "support/support.h"
#include "targets/launch.h"

namespace chaosplus {
namespace {

using namespace std::chrono_literals;

double realtime_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Real time minus monotonic time: the same for every process on the host, so a monotonic reading
// taken inside the target (libfaketime leaves that clock alone) tells the real time of a sample.
double real_minus_monotonic() {
  timespec real{}, mono{};
  ::clock_gettime(CLOCK_MONOTONIC, &mono);
  ::clock_gettime(CLOCK_REALTIME, &real);
  return (static_cast<double>(real.tv_sec) + real.tv_nsec / 1e9) -
         (static_cast<double>(mono.tv_sec) + mono.tv_nsec / 1e9);
}

std::vector<double> numbers_in(const std::string& path) {
  std::vector<double> out;
  for (const auto& line : testing::read_lines(path)) {
    if (line.empty()) continue;
    try {
      out.push_back(std::stod(line));
    } catch (const std::exception&) {
    }
  }
  return out;
}

std::string clock_file(const std::string& state_dir) {
  std::error_code ec;
  for (const auto& f : std::filesystem::directory_iterator(state_dir + "/clock", ec)) {
    if (!f.path().string().ends_with(".tmp")) return f.path().string();
  }
  return "";
}

std::string first_line(const std::string& path) {
  const auto lines = testing::read_lines(path);
  return lines.empty() ? "" : lines[0];
}

// What `date +%s` prints on the host, outside any target.
double host_date() {
  FILE* p = ::popen("date +%s", "r");
  if (p == nullptr) return 0;
  char buf[64] = {};
  const bool got = std::fgets(buf, sizeof buf, p) != nullptr;
  ::pclose(p);
  return got ? std::atof(buf) : 0;
}

// The pid the journal's target.started event gives; 0 when there is none.
int target_pid(const std::string& journal) {
  for (const auto& line : testing::read_lines(journal)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("type", "") != "target.started") continue;
    if (j.contains("pid")) return j["pid"].get<int>();
    if (j.contains("data") && j["data"].contains("pid")) return j["data"]["pid"].get<int>();
  }
  return 0;
}

struct ClockRun {
  testing::TempDir dir;
  std::unique_ptr<testing::Child> child;

  void start(const std::string& experiment) {
    testing::write_file(dir.file("e.yaml"), experiment);
    child = std::make_unique<testing::Child>(
        std::vector<std::string>{testing::bin("chaosplus"), "run", dir.file("e.yaml"), "--plain", "--state-dir",
                                 dir.file("state"), "--journal", dir.file("journal.jsonl")});
  }
  std::string state() const { return dir.file("state"); }
};

// The target runs `date +%s` in a loop, as a shell script would.
std::string date_loop(const std::string& out) {
  return "[sh, -c, 'while :; do date +%s >> " + out + "; sleep 0.2; done']";
}

TEST(ClockFault, DateInsideTheTargetIsAnHourAheadWhileTheHostsIsNot) {
  ClockRun run;
  const std::string out = run.dir.file("dates");
  run.start("name: clock-date\ntargets:\n  app: { process: { command: " + date_loop(out) +
            " } }\nphases:\n  - name: before\n    duration: 2s\n"
            "  - name: skewed\n    duration: 6s\n    faults:\n      - clock: { target: app, offset: +1h }\n"
            "  - name: after\n    duration: 3s\n");
  auto last = [&] {
    const auto dates = numbers_in(out);
    return dates.empty() ? 0.0 : dates.back();
  };
  ASSERT_TRUE(testing::wait_until([&] { return last() > realtime_now() + 3500; }, 30s)) << run.child->output();
  const double target_sees = last();
  const double host_sees = host_date();
  const double now = realtime_now();
  std::printf("during the fault: target's date %.0f, host's date %.0f, real %.3f (skew %+.0f s)\n", target_sees,
              host_sees, now, target_sees - now);
  EXPECT_NEAR(target_sees - now, 3600, 5);
  EXPECT_NEAR(host_sees, now, 2) << "the host's clock is untouched";
  EXPECT_EQ(first_line(clock_file(run.state())), "+3600 x1");
  // After the revert the target's date is the host's again.
  ASSERT_TRUE(testing::wait_until([&] { return std::abs(last() - realtime_now()) < 3; }, 30s)) << run.child->output();
  auto code = run.child->wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 6) << "UNCHECKED: no steady-state probe, nothing else wrong" << run.child->output();
  EXPECT_NE(run.child->output().find("faults: 1 injected, 1 reverted"), std::string::npos) << run.child->output();
  EXPECT_EQ(first_line(clock_file(run.state())), "+0 x1");
  // Every date the target printed was the real one or an hour ahead, in that order: real, ahead, real.
  const auto dates = numbers_in(out);
  int changes = 0;
  for (std::size_t i = 1; i < dates.size(); ++i) {
    const double step = dates[i] - dates[i - 1];
    if (std::abs(step) > 1000) {
      ++changes;
      EXPECT_NEAR(std::abs(step), 3600, 3) << "line " << i;
    }
  }
  EXPECT_EQ(changes, 2) << "ahead once, back once";
}

// A long-lived process (perl) prints its wall clock and its monotonic clock: the monotonic one
// gives each sample's real time, so the skew over real time shows the rate.
std::string perl_clock(const testing::TempDir& dir, const std::string& out) {
  testing::write_file(dir.file("clock.pl"),
                      "use Time::HiRes qw(time clock_gettime CLOCK_MONOTONIC);\n"
                      "open(my $f, '>>', $ARGV[0]) or die;\n$f->autoflush(1);\n"
                      "while (1) { printf $f \"%.3f %.3f\\n\", time, clock_gettime(CLOCK_MONOTONIC); "
                      "select(undef, undef, undef, 0.1) }\n");
  return "[perl, " + dir.file("clock.pl") + ", " + out + "]";
}

struct Sample {
  double real;  // from the monotonic clock
  double skew;  // wall clock seen minus real
};

std::vector<Sample> samples(const std::string& path, double offset) {
  std::vector<Sample> out;
  for (const auto& line : testing::read_lines(path)) {
    std::istringstream in(line);
    double wall = 0, mono = 0;
    if (in >> wall >> mono) out.push_back({mono + offset, wall - (mono + offset)});
  }
  return out;
}

// The steepest and the flattest rate (skew gained per real second, plus 1) over windows of 2 real s.
std::pair<double, double> rate_range(const std::vector<Sample>& s) {
  double high = 0, low = 1e9;
  for (std::size_t i = 0; i < s.size(); ++i) {
    for (std::size_t j = i + 1; j < s.size(); ++j) {
      if (s[j].real - s[i].real < 2) continue;
      const double rate = 1 + (s[j].skew - s[i].skew) / (s[j].real - s[i].real);
      high = std::max(high, rate);
      low = std::min(low, rate);
      break;
    }
  }
  return {high, low};
}

TEST(ClockFault, DriftRunsTheTargetsClockFasterThenSlowerFromTheInjectOn) {
  ClockRun run;
  const std::string out = run.dir.file("clock");
  const double offset = real_minus_monotonic();
  run.start("name: clock-drift\ntargets:\n  app: { process: { command: " + perl_clock(run.dir, out) +
            " } }\nphases:\n  - name: before\n    duration: 2s\n"
            "  - name: fast\n    duration: 5s\n    faults:\n      - clock: { target: app, drift: 2x }\n"
            "  - name: between\n    duration: 2s\n"
            "  - name: slow\n    duration: 5s\n    faults:\n      - clock: { target: app, drift: 0.5x, offset: -30m }\n"
            "  - name: after\n    duration: 2s\n");
  auto code = run.child->wait(90s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 6) << "UNCHECKED: no steady-state probe, nothing else wrong" << run.child->output();
  EXPECT_NE(run.child->output().find("faults: 2 injected, 2 reverted"), std::string::npos) << run.child->output();
  const auto all = samples(out, offset);
  ASSERT_GT(all.size(), 50u);
  // Split by the offset: the slow phase is half an hour behind.
  std::vector<Sample> fast, slow;
  double catch_up = 0;  // libfaketime reads the file again up to ~2 s late, then catches up
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].skew < -1000) {
      slow.push_back({all[i].real, all[i].skew + 1800});
    } else if (all[i].skew > 0.3) {
      fast.push_back(all[i]);
      if (fast.size() == 1 && i > 0) catch_up = all[i].skew - all[i - 1].skew;
    }
  }
  ASSERT_GT(fast.size(), 10u);
  ASSERT_GT(slow.size(), 10u);
  const auto [fast_high, fast_low] = rate_range(fast);
  const auto [slow_high, slow_low] = rate_range(slow);
  const double fast_total = 1 + (fast.back().skew - fast.front().skew) / (fast.back().real - fast.front().real);
  const double slow_total = 1 + (slow.back().skew - slow.front().skew) / (slow.back().real - slow.front().real);
  // Where the fast line of skew over real time meets 0: at the inject (after the 2 s "before" phase),
  // not at the target's start, had the rate been counted from there.
  const double zero_after_start = fast.front().real - fast.front().skew / (fast_total - 1) - all.front().real;
  std::printf(
      "drift 2x: rate %.3f over %.1f real s (2 s windows %.3f..%.3f); skew 0 at %.3f s after the target's "
      "first sample, caught up %.3f s at once when it read the file\n",
      fast_total, fast.back().real - fast.front().real, fast_low, fast_high, zero_after_start, catch_up);
  std::printf("drift 0.5x: rate %.3f over %.1f real s (2 s windows %.3f..%.3f), offset -30m\n", slow_total,
              slow.back().real - slow.front().real, slow_low, slow_high);
  EXPECT_NEAR(fast_total, 2.0, 0.5);
  EXPECT_NEAR(slow_total, 0.5, 0.25);
  EXPECT_GT(zero_after_start, 1.5) << "the drift counts from the inject, not from the target's start\n"
                                   << run.child->output();
  // Real time again at the end.
  EXPECT_NEAR(all.back().skew, 0, 0.5);
  EXPECT_EQ(first_line(clock_file(run.state())), "+0 x1");
}

TEST(ClockFault, AKilledRunsSkewIsPutBackByRecover) {
  ClockRun run;
  const std::string out = run.dir.file("dates");
  run.start("name: clock-crash\ntargets:\n  app: { process: { command: " + date_loop(out) +
            " } }\nphases:\n  - name: skewed\n    duration: 120s\n    faults:\n"
            "      - clock: { target: app, offset: -30m }\n");
  auto last = [&] {
    const auto dates = numbers_in(out);
    return dates.empty() ? 0.0 : dates.back();
  };
  ASSERT_TRUE(testing::wait_until([&] { return last() > 0 && last() < realtime_now() - 1700; }, 30s))
      << run.child->output();
  const std::string file = clock_file(run.state());
  EXPECT_EQ(first_line(file), "-1800 x1");
  run.child->signal(SIGKILL);
  ASSERT_TRUE(run.child->wait(10s).has_value());
  EXPECT_EQ(first_line(file), "-1800 x1") << "nothing reverted itself";
  testing::Child found(std::vector<std::string>{testing::bin("chaosplus"), "leftovers", "--state-dir", run.state()});
  ASSERT_TRUE(found.wait(60s).has_value());
  EXPECT_NE(found.output().find("skewed clock: " + file + " holds '-1800 x1'"), std::string::npos) << found.output();
  testing::Child recover(std::vector<std::string>{testing::bin("chaosplus"), "recover", "--state-dir", run.state()});
  auto code = recover.wait(60s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << recover.output();
  EXPECT_NE(recover.output().find("clock.skew"), std::string::npos) << recover.output();
  EXPECT_EQ(first_line(file), "+0 x1");
  // recover also stopped the target; nothing of the run is left.
  const int pid = target_pid(run.dir.file("journal.jsonl"));
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(testing::pid_gone(pid));
  testing::Child leftovers(
      std::vector<std::string>{testing::bin("chaosplus"), "leftovers", "--state-dir", run.state()});
  auto left = leftovers.wait(60s);
  ASSERT_TRUE(left.has_value());
  // What recover cannot remove yet: libfaketime's shared memory of the target it stopped after
  // undoing the fault (the clock fault removes such pairs before its next start, or on undo).
  const std::string shm = "/dev/shm/faketime_shm_" + std::to_string(pid);
  const std::string sem = "/dev/shm/sem.faketime_sem_" + std::to_string(pid);
  // Other tests running beside this one may leave their own things for a moment (leftovers looks
  // at the whole machine): only what names this run's folder counts; the target's shared memory
  // (named by its pid, not the folder) stays until the next clock start: checked below.
  std::string unexpected;
  std::istringstream lines(leftovers.output());
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("  ") || line.starts_with("      ")) continue;
    if (line.find(run.dir.path()) != std::string::npos) unexpected += line + "\n";
  }
  EXPECT_EQ(unexpected, "") << leftovers.output();
  // A later clock-prepared start (or undo) removes them.
  faults::LaunchPrep prep{"app", run.dir.file("later"), "run2", {}};
  spec::Experiment later;
  spec::Fault clock;
  clock.type = "clock";
  clock.target = "app";
  clock.params["offset"] = "+1s";
  later.phases.push_back({});
  later.phases.back().faults.push_back(clock);
  ASSERT_TRUE(faults::prepare_launch(later, prep).ok());
  EXPECT_FALSE(std::filesystem::exists(shm));
  EXPECT_FALSE(std::filesystem::exists(sem));
}

// The fault alone, without a run: prepare_launch gives the target libfaketime and its file; the
// fault writes its skew there; undo from the ledger record alone writes the real time back, again
// and again, and is harmless once the run's state folder is gone.
TEST(ClockFault, UndoFromTheRecordAloneWritesTheRealTimeBack) {
  testing::TempDir dir;
  const std::string text =
      "name: clock\ntargets:\n  app: { process: { command: [sleep, \"600\"] } }\n"
      "phases:\n  - name: a\n    duration: 10s\n    faults:\n      - clock: { target: app, offset: -90s }\n";
  auto loaded = spec::load_experiment_text(text, "clock.yaml");
  ASSERT_TRUE(loaded.ok());
  faults::LaunchPrep prep{"app", dir.file("state"), "run1", {}};
  ASSERT_TRUE(faults::prepare_launch(*loaded.experiment, prep).ok());
  const std::string file = dir.file("state") + "/clock/run1-app";
  EXPECT_EQ(prep.sandbox.env.at("FAKETIME_TIMESTAMP_FILE"), file);
  EXPECT_NE(prep.sandbox.env.at("LD_PRELOAD").find("libfaketime"), std::string::npos);
  EXPECT_EQ(prep.sandbox.env.at("FAKETIME_DONT_FAKE_MONOTONIC"), "1");
  EXPECT_EQ(first_line(file), "+0 x1");

  faults::TargetHandle handle(loaded.experiment->targets[0], dir.file("app.log"));
  handle.sandbox = prep.sandbox;
  auto id = targets::spawn(*handle.spec().process, handle.log_path(), handle.sandbox, {});
  ASSERT_TRUE(id.ok()) << id.error();
  handle.set_process(*id);
  auto fault = faults::make_fault(loaded.experiment->phases[0].faults[0], handle);
  ASSERT_TRUE(fault.ok()) << fault.error();
  const std::string record = (*fault)->record();  // what the runner writes before inject
  HaltSwitch halt;
  ASSERT_TRUE((*fault)->inject(halt).ok());
  EXPECT_EQ(first_line(file), "-90 x1");
  // The injecting runner "crashed": only the ledger entry is left.
  ASSERT_TRUE(faults::undo((*fault)->kind(), record).ok());
  EXPECT_EQ(first_line(file), "+0 x1");
  EXPECT_TRUE(faults::undo((*fault)->kind(), record).ok()) << "undo is idempotent";
  EXPECT_EQ(first_line(file), "+0 x1");
  (void)targets::stop(*id);
  std::filesystem::remove_all(dir.file("state"));
  EXPECT_TRUE(faults::undo((*fault)->kind(), record).ok()) << "nothing to undo once the state folder is gone";
  EXPECT_FALSE(std::filesystem::exists(file)) << "undo creates nothing";

  // A target not started with libfaketime (an attached one, a dry run's): the fault refuses to act.
  faults::TargetHandle bare(loaded.experiment->targets[0], dir.file("bare.log"));
  auto unprepared = faults::make_fault(loaded.experiment->phases[0].faults[0], bare);
  ASSERT_TRUE(unprepared.ok()) << unprepared.error();
  auto refused = (*unprepared)->inject(halt);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("not started with libfaketime"), std::string::npos) << refused.error();
}

}  // namespace
}  // namespace chaosplus
