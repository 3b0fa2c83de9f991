#include "core/activity.h"

namespace chaosplus {

Event threshold_result_event(const ActivityContext& context, const Judgment& j) {
  return Event("threshold.result")
      .with("activity", context.kind)
      .with("name", context.name)
      .with("metric", j.metric)
      .with("threshold", j.threshold)
      .with("held", j.held)
      .with("measured", j.measured)
      .with("message", j.message);
}

}  // namespace chaosplus
