#pragma once
// k6's execution segments: shard `index` of `count` derives its share of a load on its own, without
// talking to the other shards, and the shares add up to the whole. Rates (and rate stages) are
// divided evenly; whole numbers (users, user stages, connections, max_sessions) are split so the
// shards' parts sum exactly: floor((i+1)·V/N) − floor(i·V/N). A shard may get 0 users; it then
// runs nothing but still reports (fleet/distributed_load.h).
#include <cstdint>

#include "core/result.h"
#include "load/load_spec.h"

namespace chaosplus::load {

struct Segment {
  int index = 0;  // 0 .. count-1
  int count = 1;
};

// Shard `index`'s part of `total` whole units.
std::uint64_t segment_share(std::uint64_t total, Segment segment);

struct LoadSegment {
  LoadSpec load;      // the shard's part: everything but the amounts as in the whole
  bool idle = false;  // a users model whose share is 0 users throughout: the shard sends nothing
};

// The part of `load` shard `segment` runs; threads are at most the shard's connections. An error
// when the segment is out of range. Connections and max_sessions are at least the segment count
// (the loader checks it), so every shard gets one of each.
Result<LoadSegment> segment_of(const LoadSpec& load, Segment segment);

}  // namespace chaosplus::load
