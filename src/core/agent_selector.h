#pragma once
// Which agents a target or a load runs on (`on:` in the experiment file, docs/agents.md): agents
// whose labels match all of `labels` (and whose name or host name is `host`, when given), then one
// of them, all of them, or a random share of them.
#include <map>
#include <string>

#include "core/mark.h"

namespace chaosplus {

struct AgentSelector {
  enum class Pick { one, all, random };
  std::map<std::string, std::string> labels;  // role: db, zone: a
  std::string host;                           // an agent's name or host name; "" = any
  Pick pick = Pick::one;                      // one: the first match by agent name
  double share = 1.0;                         // with random: this fraction of the matches (at least one)
  Mark mark;
};

}  // namespace chaosplus
