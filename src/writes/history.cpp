#include "writes/history.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace chaosplus::writes {
namespace {

constexpr std::size_t kListed = 100;  // ids and split-brain entries kept for people

// What the history says of one id (an id may have been attempted more than once).
struct IdFate {
  bool acknowledged = false;
  bool unknown = false;
  Clock::time_point first_ack = Clock::time_point::max();
};

std::string offset(Clock::time_point t, Clock::time_point origin) {
  char text[32];
  std::snprintf(text, sizeof text, "+%.3fs", std::chrono::duration<double>(t - origin).count());
  return text;
}

// A stretch of time during which one node was surely accepting writes.
struct Period {
  std::string node;
  Clock::time_point from, to;
};

// A node's acknowledgement periods. Its acknowledgements are cut into periods by its failures: an
// acknowledgement belongs to the period after the last failure on that node that completed before
// it was invoked (a failed or unknown attempt on the node says the node stopped taking writes:
// killed, demoted, cut off). So the old primary's acks before a failover and after a switch back
// are two periods, with the failures between them, and an ack already in flight when the node
// failed stays in the period before.
// A period counts from its first ack's completion to its last ack's invocation: each commit
// happened somewhere between its invocation and its completion, so the node surely took writes
// through that window and no late-delivered ack can stretch it. Runs of consecutive acks in
// completion order across all nodes were the other choice; with several clients, an ack
// delivered late by one client after another client's first ack on the new primary would cut
// the old node's run in two and look like a period after the new one began.
std::vector<Period> periods(const std::string& node, const std::vector<const Attempt*>& attempts) {
  std::vector<Clock::time_point> failures;
  for (const Attempt* a : attempts)
    if (a->outcome != Outcome::ok) failures.push_back(a->completed);
  std::sort(failures.begin(), failures.end());
  std::map<std::size_t, Period> by_segment;
  for (const Attempt* a : attempts) {
    if (a->outcome != Outcome::ok) continue;
    const auto segment = static_cast<std::size_t>(
        std::upper_bound(failures.begin(), failures.end(), a->invoked) - failures.begin());
    auto [it, fresh] = by_segment.try_emplace(segment, Period{node, a->completed, a->invoked});
    if (!fresh) {
      it->second.from = std::min(it->second.from, a->completed);
      it->second.to = std::max(it->second.to, a->invoked);
    }
  }
  std::vector<Period> out;
  for (auto& [segment, p] : by_segment)
    if (p.from < p.to) out.push_back(std::move(p));  // one ack alone proves no stretch of time
  return out;
}

std::vector<std::string> split_brain(const std::vector<Attempt>& history) {
  std::map<std::string, std::vector<const Attempt*>> by_node;
  Clock::time_point origin = Clock::time_point::max();
  for (const Attempt& a : history) {
    origin = std::min(origin, a.invoked);
    if (!a.node.empty()) by_node[a.node].push_back(&a);
  }
  std::vector<Period> all;
  for (const auto& [node, attempts] : by_node) {
    auto p = periods(node, attempts);
    all.insert(all.end(), p.begin(), p.end());
  }
  std::vector<std::string> found;
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      if (all[i].node == all[j].node) continue;
      const auto from = std::max(all[i].from, all[j].from);
      const auto to = std::min(all[i].to, all[j].to);
      if (from >= to) continue;
      if (found.size() < kListed)
        found.push_back(all[i].node + " and " + all[j].node + " from " + offset(from, origin) + " to " +
                        offset(to, origin));
    }
  }
  return found;
}

}  // namespace

Analysis analyze(const std::vector<Attempt>& history, const std::vector<std::int64_t>& present,
                 const std::vector<FaultMark>& faults) {
  Analysis r;
  std::unordered_map<std::int64_t, IdFate> fates;
  for (const Attempt& a : history) {
    ++r.attempted;
    IdFate& fate = fates[a.id];
    switch (a.outcome) {
      case Outcome::ok:
        ++r.acknowledged;
        fate.acknowledged = true;
        fate.first_ack = std::min(fate.first_ack, a.completed);
        break;
      case Outcome::failed:
        ++r.failed;
        break;
      case Outcome::unknown:
        ++r.unknown;
        fate.unknown = true;
        break;
    }
  }

  const std::unordered_set<std::int64_t> read_back(present.begin(), present.end());
  // Each distinct id once, however often it was attempted or read.
  std::vector<std::pair<Clock::time_point, std::int64_t>> lost;
  for (const auto& [id, fate] : fates) {
    const bool there = read_back.contains(id);
    if (fate.acknowledged && !there) lost.emplace_back(fate.first_ack, id);
    else if (!fate.acknowledged && there) ++(fate.unknown ? r.unknown_committed : r.failed_committed);
  }
  std::sort(lost.begin(), lost.end());  // in acknowledgement order: the first lost come first
  r.lost = static_cast<std::int64_t>(lost.size());
  for (std::size_t i = 0; i < lost.size() && i < kListed; ++i) r.lost_ids.push_back(lost[i].second);
  if (!lost.empty()) r.rpo_span = lost.back().first - lost.front().first;

  std::vector<std::int64_t> unexpected;
  for (std::int64_t id : read_back)
    if (!fates.contains(id)) unexpected.push_back(id);
  std::sort(unexpected.begin(), unexpected.end());
  r.unexpected = static_cast<std::int64_t>(unexpected.size());
  unexpected.resize(std::min(unexpected.size(), kListed));
  r.unexpected_ids = std::move(unexpected);

  // RTO of the first fault injected. Only writes invoked after the injection count: one invoked
  // before may have committed before the fault took hold. Of those, the one acknowledged first
  // (completions may come out of invocation order). A fault that never disturbed the writes gets
  // the wait for the next acknowledgement: near zero, as it should be.
  if (!faults.empty()) {
    const FaultMark& first = *std::min_element(
        faults.begin(), faults.end(), [](const FaultMark& a, const FaultMark& b) { return a.injected < b.injected; });
    r.rto_fault = first.summary;
    std::optional<Clock::time_point> recovered;
    for (const Attempt& a : history) {
      if (a.outcome != Outcome::ok || a.invoked < first.injected) continue;
      if (!recovered || a.completed < *recovered) recovered = a.completed;
    }
    if (recovered) r.rto = *recovered - first.injected;
    if (first.promoted) r.promotion = std::max(Duration{0}, Duration{*first.promoted - first.injected});
    // Promotion may come after the first acknowledgement (a fault the clients rode through):
    // then reconnection took nothing.
    if (r.rto && r.promotion) r.reconnection = std::max(Duration{0}, *r.rto - *r.promotion);
  }

  r.split_brain = split_brain(history);
  return r;
}

}  // namespace chaosplus::writes
