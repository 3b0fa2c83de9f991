#pragma once
// A load spread over several agents (`generators: N` in a phase's `load:`, docs/load.md): the
// controller's activity. It sends each generator its segment (k6's execution segments: shard i of N
// derives its share alone), starts them together through a barrier in etcd, merges their per-second
// histograms into the run's load.tick events (guardrails judge those), stops them all together,
// and judges the thresholds on the merged whole-run figures.
#include <memory>
#include <string>
#include <vector>

#include "core/activity.h"
#include "fleet/session.h"
#include "load/load_spec.h"

namespace chaosplus::fleet {

// The agents that send `spec` (generators: N): those its `on:` names (every agent without it),
// sorted by name, the first N; an error when fewer match. The run sets these agents up (their
// `setup` carries the experiment a shard reads its load from) before the phase starts the load.
Result<std::vector<std::string>> generator_agents(const load::LoadSpec& spec, const std::vector<AgentInfo>& agents);

std::unique_ptr<Activity> make_distributed_load(Session& session, const load::LoadSpec& spec, ActivityContext context);

}  // namespace chaosplus::fleet
