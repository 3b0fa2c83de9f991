#pragma once
// The controller's side of a run that reaches agents (docs/agents.md): the etcd connection, the run
// lease kept alive for the whole run (its loss halts the run: the agents revert on their own), the
// live key, commands to agents and their replies, and the agents' events put on the run's bus.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/event_bus.h"
#include "core/halt_switch.h"
#include "core/result.h"
#include "core/units.h"
#include "etcd/client.h"
#include "fleet/protocol.h"

namespace chaosplus::fleet {

class Session {
 public:
  struct Settings {
    etcd::Options etcd;
    std::string run;
    std::string experiment;
    Duration ttl = std::chrono::seconds(5);  // the run lease's TTL
  };
  // Connects, grants the run lease, starts keeping it alive and writes the live key; watches the
  // replies and the agents' events (each published on `bus` with an "agent" field). When the lease is
  // lost, `halt` is pressed with the reason.
  static Result<std::unique_ptr<Session>> open(Settings settings, EventBus& bus, HaltSwitch& halt);
  ~Session();  // close()

  etcd::Client& client();
  const std::string& run() const;
  std::int64_t lease() const;
  Duration ttl() const;

  // The agents registered now.
  Result<std::vector<AgentInfo>> agents();
  // Writes a command (seq, run and lease filled in) to an agent; its seq.
  Result<std::int64_t> send(const std::string& agent, Command command);
  // Waits for the agent's reply to `seq`, at most `timeout` (an error says which agent, which
  // command, and that it did not answer).
  Result<Reply> await(const std::string& agent, std::int64_t seq, Duration timeout);
  Result<Reply> call(const std::string& agent, Command command, Duration timeout);

  // Ends the run on etcd: revokes the run lease (its keys go with it) and erases the status keys.
  // Call after every agent has been torn down; idempotent.
  void close();

 private:
  struct Impl;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaosplus::fleet
