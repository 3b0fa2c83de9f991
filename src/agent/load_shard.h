#pragma once
// One agent's segment of a distributed load (fleet/distributed_load.h): prepared from the run's
// experiment and the `load` command, it writes its ready key, waits for the barrier's start time,
// runs the load engine on its share, and writes one ShardSecond per second and its ShardSummary
// (fleet/protocol.h), all under the run lease.
#include <memory>
#include <string>

#include "core/result.h"
#include "etcd/client.h"
#include "fleet/protocol.h"
#include "spec/experiment.h"

namespace chaosplus::agent {

class LoadShard {
 public:
  // Returns once the shard runs on its own thread (it waits there for the barrier); an error when
  // the command names no load of the experiment or its options do not build.
  static Result<std::unique_ptr<LoadShard>> start(etcd::Client& client, const std::string& agent,
                                                  const spec::Experiment& experiment, const fleet::Command& command);
  virtual ~LoadShard() = default;
  virtual void stop() = 0;  // ends it early; safe from any thread, more than once
  virtual bool finished() const = 0;
};

}  // namespace chaosplus::agent
