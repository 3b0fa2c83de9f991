#pragma once
// What a load run measured: counters, the latency histograms, and one line per second. Formats
// for people (a wrk-like summary) and for machines (JSON), and the load.tick timeline event.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/event.h"
#include "core/units.h"
#include "load/latency_histogram.h"
#include "load/load_options.h"

namespace chaosplus::load {

// tls: a handshake or TLS record failure; tls_verify: the server's certificate was not trusted
// (or does not name the host).
enum class ErrorKind : std::uint8_t { connect, read, write, timeout, protocol, tls, tls_verify, count_ };
const char* error_kind_name(ErrorKind kind);

struct Counters {
  std::uint64_t requests = 0;  // responses received, whatever their status
  std::uint64_t bytes_read = 0;
  std::uint64_t dropped = 0;  // open-model arrivals that found the queue full
  // Requests that found no free connection and waited for one: the generator, not the system
  // under test, was then the bottleneck (their latency counts the wait).
  std::uint64_t queued = 0;
  std::uint64_t tls_handshakes = 0;  // completed, full or resumed
  std::uint64_t tls_resumed = 0;     // of those, resumed from the connection's last session
  std::array<std::uint64_t, static_cast<std::size_t>(ErrorKind::count_)> errors{};
  std::array<std::uint64_t, 600> status{};  // by status code

  std::uint64_t error(ErrorKind kind) const { return errors[static_cast<std::size_t>(kind)]; }
  std::uint64_t transport_errors() const;
  std::uint64_t status_at_least(int code) const;  // responses with status >= code
  // Failed = transport errors + responses with status >= 400, over everything attempted.
  double error_rate() const;
  void add(const Counters& other);
  // The share of attempted requests that waited for a connection.
  double queued_share() const;
};

// One second of the run (or less for the last one): what the requests meant to be sent in it
// came to, whenever they came back. The ticks of a run add up to its report's counters.
struct Tick {
  std::int64_t second = 0;  // 0 for the first second of the run
  double at_s = 0;          // end of the interval, seconds since the start
  double length_s = 0;
  Counters counters;  // of the requests meant for the interval
  std::uint64_t p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::uint64_t active_users = 0;
  std::uint64_t open_connections = 0;
};

// One scenario of a weighted mix.
struct ScenarioSummary {
  std::string name;
  double weight = 0;
  std::uint64_t iterations = 0;  // passes started by users, or arrivals that drew it
  std::uint64_t requests = 0;    // responses
  std::uint64_t failed = 0;      // transport errors and responses with status >= 400
  LatencyHistogram latency;      // as the run's (from the intended send time)
};

struct Report {
  Model model = Model::connections;
  std::string url;
  int threads = 0, processes = 0, connections = 0;
  double target_rate = 0;   // open model: the requested rate (the level after the stages)
  std::uint64_t users = 0;  // users model: the most users active at once
  double elapsed_s = 0;
  Counters counters;
  LatencyHistogram latency;              // from the intended send time (corrected)
  LatencyHistogram uncorrected_latency;  // from the actual send time
  std::vector<Tick> ticks;
  std::uint64_t peak_connections = 0;
  std::uint64_t max_rss_kib = 0;           // of the load generator (all its processes)
  std::string tls_error;                   // the first TLS failure's reason, when there was one
  std::vector<ScenarioSummary> scenarios;  // a scenario mix: one per scenario, in file order
  std::uint64_t seed = 0;                  // the mix's seed

  double requests_per_second() const { return elapsed_s > 0 ? counters.requests / elapsed_s : 0; }
};

// Like wrk's: latency table, requests/s, transfer, plus percentiles, status codes and errors.
std::string format_summary(const Report& report);
// "" or why the generator itself limited the load (requests waited for a connection, arrivals or
// sessions were dropped): a reason to put next to a missed threshold.
std::string generator_bottleneck(const Report& report);
std::string to_json(const Report& report);
// "1.23ms", "456us", "2.01s"
std::string format_micros(double micros);
// The load.tick event of the run timeline.
Event tick_event(const Tick& tick);

}  // namespace chaosplus::load
