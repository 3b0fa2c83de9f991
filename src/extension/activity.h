#pragma once
// A phase activity an extension runs (core/activity.h, docs/extensions.md "Activities"): one
// session per run of the activity, whose `run` request is answered when the activity ends, with its
// judgments. The extension's events go on the run's stream meanwhile; stop() sends SIGTERM to its
// process group, which asks it to end now and answer.
#include <memory>

#include "core/activity.h"
#include "spec/experiment.h"

namespace chaosplus::extension {

// The settings of one use of an extension's activity (its call, checked by resolve).
class ExtensionActivityConfig final : public ActivityConfig {
 public:
  explicit ExtensionActivityConfig(spec::ExtensionCall call) : call_(std::move(call)) {}
  std::unique_ptr<Activity> make(const ActivityContext& context) const override;
  bool judges() const override { return true; }  // its judgments come from the extension

 private:
  spec::ExtensionCall call_;
};

}  // namespace chaosplus::extension
