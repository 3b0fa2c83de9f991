#include "fleet/load_merge.h"

#include <algorithm>
#include <string>

namespace chaosplus::fleet {

ShardSecond to_shard_second(const load::Tick& tick, const load::LatencyHistogram& latency) {
  const load::Counters& c = tick.counters;
  ShardSecond s;
  s.second = tick.second;
  s.length_s = tick.length_s;
  s.requests = c.requests;
  s.transport_errors = c.transport_errors();
  s.failed = s.transport_errors + c.status_at_least(400);
  for (std::size_t k = 0; k < c.errors.size(); ++k) {
    if (c.errors[k] != 0) s.errors[load::error_kind_name(static_cast<load::ErrorKind>(k))] = c.errors[k];
  }
  s.dropped = c.dropped;
  s.queued = c.queued;
  s.bytes_read = c.bytes_read;
  s.active_users = tick.active_users;
  s.open_connections = tick.open_connections;
  for (std::size_t code = 0; code < c.status.size(); ++code) {
    if (c.status[code] != 0) s.status[static_cast<int>(code)] = c.status[code];
  }
  s.latency_us = latency.nonzero();
  return s;
}

ShardSummary to_shard_summary(const load::Report& report) {
  load::Tick whole;
  whole.second = -1;
  whole.length_s = report.elapsed_s;
  whole.counters = report.counters;
  ShardSummary summary;
  summary.total = to_shard_second(whole, report.latency);
  summary.elapsed_s = report.elapsed_s;
  return summary;
}

load::Counters to_counters(const ShardSecond& s) {
  load::Counters c;
  c.requests = s.requests;
  c.bytes_read = s.bytes_read;
  c.dropped = s.dropped;
  c.queued = s.queued;
  for (const auto& [code, n] : s.status) {
    if (code >= 0 && static_cast<std::size_t>(code) < c.status.size()) c.status[static_cast<std::size_t>(code)] = n;
  }
  std::uint64_t by_kind = 0;
  for (std::size_t k = 0; k < c.errors.size(); ++k) {
    const auto it = s.errors.find(load::error_kind_name(static_cast<load::ErrorKind>(k)));
    if (it == s.errors.end()) continue;
    c.errors[k] = it->second;
    by_kind += it->second;
  }
  // A sender that gave only the total still counts in the error rate: as protocol errors, the
  // kind that says least.
  if (s.transport_errors > by_kind) {
    c.errors[static_cast<std::size_t>(load::ErrorKind::protocol)] += s.transport_errors - by_kind;
  }
  return c;
}

void add_latency(const ShardSecond& s, load::LatencyHistogram& into) {
  for (const auto& [value, count] : s.latency_us) into.record_n(value, count);
}

load::Tick merge_second(std::int64_t second, const std::vector<const ShardSecond*>& shards) {
  load::Tick t;
  t.second = second;
  load::LatencyHistogram latency;
  for (const ShardSecond* s : shards) {
    t.counters.add(to_counters(*s));
    add_latency(*s, latency);
    t.length_s = std::max(t.length_s, s->length_s);
    t.active_users += s->active_users;
    t.open_connections += s->open_connections;
  }
  if (t.length_s == 0) t.length_s = 1.0;
  t.at_s = static_cast<double>(second) + t.length_s;
  t.p50_us = latency.value_at_percentile(50);
  t.p90_us = latency.value_at_percentile(90);
  t.p99_us = latency.value_at_percentile(99);
  t.p999_us = latency.value_at_percentile(99.9);
  t.max_us = latency.max();
  return t;
}

}  // namespace chaosplus::fleet
