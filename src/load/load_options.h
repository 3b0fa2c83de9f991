#pragma once
// What a load run does: the target, the workload model and its bounds. Three models:
//   connections (wrk): `connections` connections, each sends its next request as soon as the
//                      previous answer arrives;
//   open (wrk2, k6 arrival-rate): requests arrive at `rate` (or along rate `stages`) whatever the
//                      server does; latency counts from the intended send time;
//   users (k6 VUs, Gatling closed): `vus` sessions loop over a scenario with think time, sharing
//                      a pool of `connections` connections.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::load {

class Scenario;

// Moves linearly from the previous level to `target` within `over` (equal levels hold).
struct Stage {
  Duration over{};
  double target = 0;  // requests per second, or users
};

enum class Model { connections, open, users };

// https:// targets (load/tls_transport.h).
struct TlsSettings {
  bool verify = true;             // check the certificate chain and that it names the URL's host
  std::string ca_file;            // PEM file of trusted CAs; empty: the system's store
  std::vector<std::string> alpn;  // protocols to offer; the engine offers "http/1.1"
};

struct LoadOptions {
  std::string url;  // http:// or https://127.0.0.1:PORT/path; only loopback hosts are accepted
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  TlsSettings tls;  // only with https://

  int connections = 10;
  int threads = 1;
  Duration duration = std::chrono::seconds(10);  // every run ends: at most this long
  std::uint64_t max_requests = 0;                // and at most this many responses (0: no cap)
  Duration timeout = std::chrono::seconds(10);   // per request and per connect

  double rate = 0;                           // open model: requests per second (level before the stages)
  std::vector<Stage> rate_stages;            // open model with ramps
  std::uint64_t vus = 0;                     // users model
  std::vector<Stage> vu_stages;              // users model with ramps
  Duration think{};                          // users model: pause after each response
  std::shared_ptr<const Scenario> scenario;  // users model: the steps of a session
  std::optional<std::uint64_t> seed;         // draws of a scenario mix; unset: the scenario's own

  // Source addresses (127.x) spread over connections, past the ~28k ports of one address.
  std::vector<std::string> source_addresses;
  // Worker processes (each with its own open-file limit); threads and work are split among them.
  int processes = 1;
  // Cap on queued open-model arrivals per thread; beyond it arrivals are dropped and counted.
  std::uint64_t max_pending = 1'000'000;
  // Open model with multi-step scenarios: each arrival is a session that runs its scenario once;
  // at most this many run at once (split over threads and processes), beyond it arrivals are
  // dropped and counted (k6's maxVUs).
  std::uint64_t max_sessions = 100'000;

  Model model() const;
  // Checks bounds and consistency (positive counts, finite duration, one model); the error says
  // which option is wrong.
  Status validate() const;
};

// "30s:1000/s,1m:1000/s,10s:0/s" (rates) or "30s:1000,1m:1000" (users). `per_second` tells which.
struct ParsedStages {
  std::vector<Stage> stages;
  bool per_second = false;
};
Result<ParsedStages> parse_stages(std::string_view text);

// Only loopback targets: 127.0.0.0/8, ::1 or "localhost". Anything else is refused with a reason.
Status check_loopback_host(std::string_view host);

// The ephemeral ports connect() picks from for one source address (ip_local_port_range).
struct PortRange {
  int low = 32768;
  int high = 60999;
  int size() const { return high - low + 1; }
};
// Reads the range from procfs (the path is a parameter for tests); nullopt if unreadable.
std::optional<PortRange> read_local_port_range(const std::string& path = "/proc/sys/net/ipv4/ip_local_port_range");
// Linux searches a source address's free ports linearly, trying one half (one parity) of the range
// first: past half the range in use, every connect() walks thousands of taken ports in the kernel
// (milliseconds each, measured: 78 % of both cores at 20,000 connections per address), which
// stalls the event loop. A warning naming the fix when `connections` spread over `sources` (0: the
// kernel's choice, one address) pass half the range; nullopt otherwise.
std::optional<std::string> source_port_warning(std::uint64_t connections, std::size_t sources, PortRange range);

// The total length of `stages`.
Duration stages_length(const std::vector<Stage>& stages);
// The level at `t` since the start, starting from `initial`; after the last stage it holds.
double stage_level(const std::vector<Stage>& stages, double initial, Duration t);

}  // namespace chaosplus::load
