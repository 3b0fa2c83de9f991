#pragma once
// The figures of a distributed load on their way through etcd and back: a shard turns its engine's
// seconds and report into ShardSecond/ShardSummary (fleet/protocol.h); the controller adds the
// shards' counters and their histograms' counts (LatencyHistogram::record_n of each pair, exact
// to the histogram's precision) into one load::Tick per second and one load::Report at the end.
#include <vector>

#include "fleet/protocol.h"
#include "load/latency_histogram.h"
#include "load/report.h"

namespace chaosplus::fleet {

ShardSecond to_shard_second(const load::Tick& tick, const load::LatencyHistogram& latency);
// The whole run's counters and corrected histogram (second = -1).
ShardSummary to_shard_summary(const load::Report& report);

load::Counters to_counters(const ShardSecond& second);
// Adds the pairs of `second.latency_us` into `into` (a histogram of the engine's layout).
void add_latency(const ShardSecond& second, load::LatencyHistogram& into);

// One second of every shard that reported it, as one tick: counters, active users and open
// connections added, percentiles of the merged histogram, the longest length.
load::Tick merge_second(std::int64_t second, const std::vector<const ShardSecond*>& shards);

}  // namespace chaosplus::fleet
