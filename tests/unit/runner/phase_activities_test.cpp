#include "runner/phase_activities.h"

#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "runner/runner.h"
#include "support/support.h"

namespace chaosplus::runner {
namespace {

using namespace std::chrono_literals;

// A kind the runner has never heard of, defined here only: it publishes a `tally.beat` event
// every few milliseconds until stopped, and judges how many it published. The runner runs it and
// the verdict reads its judgment without any change to either: the proof that a new kind plugs in.
struct TallySettings : ActivityConfig {
  double at_least = 0;  // the threshold: beats >= at_least
  bool refuse_start = false;
  bool fail_finish = false;
  bool remote = false;  // runs on agents: made by the run's factory for those, not by make()
  std::unique_ptr<Activity> make(const ActivityContext& context) const override;
  bool judges() const override { return true; }
  bool on_agents() const override { return remote; }
};

class Tally : public Activity {
 public:
  Tally(const TallySettings& settings, ActivityContext context) : settings_(settings), context_(std::move(context)) {}
  ~Tally() override {
    stop();
    if (thread_.joinable()) thread_.join();
  }
  Status start(EventBus& bus, HaltSwitch&) override {
    if (settings_.refuse_start) return Error{"tally " + context_.name + ": refused to start"};
    thread_ = std::thread([this, &bus] {
      do {
        bus.publish(Event("tally.beat").with("name", context_.name).with("phase", context_.phase));
        ++beats_;
      } while (!stop_.wait_for(5ms));
    });
    return ok_status();
  }
  void stop() override { stop_.trigger("stop"); }
  Result<std::vector<Judgment>> finish() override {
    if (thread_.joinable()) thread_.join();
    if (settings_.fail_finish) return Error{"tally " + context_.name + ": lost count"};
    Judgment j;
    j.metric = "tally." + context_.name + ".beats";
    j.threshold = "beats >= " + std::to_string(static_cast<int>(settings_.at_least));
    j.measured = static_cast<double>(beats_.load());
    j.held = j.measured >= settings_.at_least;
    j.message = "beats = " + std::to_string(beats_.load()) + (j.held ? ", within " : ", NOT within ") + j.threshold;
    return std::vector<Judgment>{j};
  }

 private:
  TallySettings settings_;
  ActivityContext context_;
  HaltSwitch stop_;
  std::atomic<int> beats_{0};
  std::thread thread_;
};

std::unique_ptr<Activity> TallySettings::make(const ActivityContext& context) const {
  return std::make_unique<Tally>(*this, context);
}

spec::ActivitySpec tally(const std::string& name, TallySettings settings) {
  return spec::ActivitySpec{"tally", name, std::make_shared<const TallySettings>(settings), {}};
}

spec::Phase phase_with(std::vector<spec::ActivitySpec> activities, Duration duration = 300ms) {
  spec::Phase p;
  p.name = "busy";
  p.duration = duration;
  p.activities = std::move(activities);
  return p;
}

struct Recorded {
  std::mutex mutex;
  std::vector<Event> events;
  std::vector<Event> of(const std::string& type) {
    std::lock_guard lock(mutex);
    std::vector<Event> out;
    for (const auto& e : events) {
      if (e.type == type) out.push_back(e);
    }
    return out;
  }
};

TEST(PhaseActivities, StartsEveryActivityAndPublishesOneThresholdResultPerJudgmentAtFinish) {
  EventBus bus;
  HaltSwitch halt;
  Recorded seen;
  bus.subscribe([&](const Event& e) {
    std::lock_guard lock(seen.mutex);
    seen.events.push_back(e);
  });
  std::vector<std::string> failures;
  PhaseActivities activities(bus, halt, [&](const std::string& m) { failures.push_back(m); });
  const spec::Phase phase = phase_with({tally("one", {}), tally("two", {})});
  activities.start(phase);
  // Both run on their own until stopped.
  ASSERT_TRUE(testing::wait_until([&] {
    const auto beats = seen.of("tally.beat");
    return std::any_of(beats.begin(), beats.end(), [](const Event& e) { return e.text("name") == "one"; }) &&
           std::any_of(beats.begin(), beats.end(), [](const Event& e) { return e.text("name") == "two"; });
  }));
  EXPECT_TRUE(seen.of("threshold.result").empty());  // judged only at the end
  activities.finish();
  EXPECT_TRUE(failures.empty());
  const auto results = seen.of("threshold.result");
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].text("activity"), "tally");
  EXPECT_EQ(results[0].text("name"), "one");
  EXPECT_EQ(results[0].text("metric"), "tally.one.beats");
  EXPECT_EQ(results[0].text("threshold"), "beats >= 0");
  EXPECT_TRUE(results[0].flag("held"));
  EXPECT_GE(results[0].number("measured"), 1);
  EXPECT_NE(results[0].text("message").find("beats = "), std::string::npos);
  EXPECT_EQ(results[1].text("name"), "two");
  // Finished means stopped: nothing beats after.
  const std::size_t beats = seen.of("tally.beat").size();
  activities.finish();  // nothing is left to finish
  EXPECT_EQ(seen.of("tally.beat").size(), beats);
  EXPECT_EQ(seen.of("threshold.result").size(), 2u);
}

TEST(PhaseActivities, OneThatCannotStartIsAFailureAndTheOthersStillRun) {
  EventBus bus;
  HaltSwitch halt;
  Recorded seen;
  bus.subscribe([&](const Event& e) {
    std::lock_guard lock(seen.mutex);
    seen.events.push_back(e);
  });
  std::vector<std::string> failures;
  PhaseActivities activities(bus, halt, [&](const std::string& m) { failures.push_back(m); });
  TallySettings refusing;
  refusing.refuse_start = true;
  activities.start(phase_with({tally("stubborn", refusing), tally("willing", {})}));
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "tally stubborn: refused to start");
  activities.finish();
  const auto results = seen.of("threshold.result");
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].text("name"), "willing");
}

TEST(PhaseActivities, OneThatCannotFinishIsAFailureWithoutJudgments) {
  EventBus bus;
  HaltSwitch halt;
  Recorded seen;
  bus.subscribe([&](const Event& e) {
    std::lock_guard lock(seen.mutex);
    seen.events.push_back(e);
  });
  std::vector<std::string> failures;
  PhaseActivities activities(bus, halt, [&](const std::string& m) { failures.push_back(m); });
  TallySettings losing;
  losing.fail_finish = true;
  activities.start(phase_with({tally("forgetful", losing)}));
  activities.finish();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0], "tally forgetful: lost count");
  EXPECT_TRUE(seen.of("threshold.result").empty());
}

TEST(PhaseActivities, OneThatRunsOnAgentsIsMadeByTheRunsFactoryForThem) {
  EventBus bus;
  HaltSwitch halt;
  std::vector<std::string> failures;
  PhaseActivities activities(bus, halt, [&](const std::string& m) { failures.push_back(m); });
  std::vector<std::string> made;
  activities.set_on_agents([&](const ActivityConfig& config, const ActivityContext& context) {
    made.push_back(context.name + " in " + context.phase);
    return config.make(context);  // the factory's own activity; the tally stands in for agents here
  });
  TallySettings remote;
  remote.remote = true;
  activities.start(phase_with({tally("spread", remote), tally("local", {})}));
  activities.finish();
  EXPECT_TRUE(failures.empty());
  ASSERT_EQ(made.size(), 1u);
  EXPECT_EQ(made[0], "spread in busy");
}

TEST(PhaseActivities, OneThatRunsOnAgentsCannotStartInARunWithoutThem) {
  EventBus bus;
  HaltSwitch halt;
  std::vector<std::string> failures;
  PhaseActivities activities(bus, halt, [&](const std::string& m) { failures.push_back(m); });
  TallySettings remote;
  remote.remote = true;
  activities.start(phase_with({tally("spread", remote)}));
  activities.finish();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_NE(failures[0].find("tally spread of phase busy runs on agents"), std::string::npos) << failures[0];
}

// The whole runner, with an experiment whose only check is the new kind's threshold.
struct TallyRun {
  testing::TempDir dir;
  std::string output;
  RunResult run(double at_least) {
    spec::Experiment e;
    e.name = "tally-run";
    e.source_path = dir.file("tally.yaml");
    TallySettings s;
    s.at_least = at_least;
    e.phases.push_back(phase_with({tally("counter", s)}));
    RunOptions options;
    options.state_dir = dir.path();
    options.runs_dir = dir.path();
    options.journal_path = dir.file("journal.jsonl");
    HaltSwitch halt;
    std::ostringstream out;
    RunResult r = run_experiment(e, options, halt, out);
    output = out.str();
    return r;
  }
  std::vector<std::string> journal_lines(const std::string& type) {
    std::vector<std::string> out;
    for (const auto& line : testing::read_lines(dir.file("journal.jsonl"))) {
      if (line.find("\"type\":\"" + type + "\"") != std::string::npos) out.push_back(line);
    }
    return out;
  }
};

TEST(PhaseActivitiesRun, AMissedThresholdOfANewKindMakesTheHypothesisDeviate) {
  TallyRun t;
  const RunResult r = t.run(1e9);
  EXPECT_EQ(r.verdict, Verdict::deviated) << t.output;
  ASSERT_FALSE(r.reasons.empty()) << t.output;
  EXPECT_NE(r.reasons[0].find("tally counter: beats = "), std::string::npos) << r.reasons[0];
  EXPECT_EQ(t.journal_lines("threshold.result").size(), 1u);
  EXPECT_FALSE(t.journal_lines("tally.beat").empty());
}

TEST(PhaseActivitiesRun, AThresholdOfANewKindThatHoldsIsACheckThatHeld) {
  TallyRun t;
  const RunResult r = t.run(1);
  EXPECT_EQ(r.verdict, Verdict::held) << t.output;  // not "unchecked": the threshold is a check
  ASSERT_EQ(t.journal_lines("threshold.result").size(), 1u);
  EXPECT_NE(t.journal_lines("threshold.result")[0].find("\"held\":true"), std::string::npos);
}

}  // namespace
}  // namespace chaosplus::runner
