#include <arpa/inet.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/signal_watcher.h"
#include "load/engine.h"
#include "load/scenario.h"

namespace chaosplus::cli {
namespace {

// "127.0.0.2-127.0.0.9" (a range in the last octet) or "127.0.0.2,127.0.0.3".
Result<std::vector<std::string>> parse_sources(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto dash = item.find('-');
    if (dash == std::string::npos) {
      if (!item.empty()) out.push_back(item);
    } else {
      in_addr from{}, to{};
      if (inet_pton(AF_INET, item.substr(0, dash).c_str(), &from) != 1 ||
          inet_pton(AF_INET, item.substr(dash + 1).c_str(), &to) != 1 || ntohl(to.s_addr) < ntohl(from.s_addr) ||
          ntohl(to.s_addr) - ntohl(from.s_addr) > 4096)
        return Error{"'" + item + "': expected a range like 127.0.0.2-127.0.0.9"};
      for (std::uint32_t a = ntohl(from.s_addr); a <= ntohl(to.s_addr); ++a) {
        in_addr addr{htonl(a)};
        char buf[INET_ADDRSTRLEN];
        out.emplace_back(inet_ntop(AF_INET, &addr, buf, sizeof buf));
      }
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.empty()) return Error{"no source address given"};
  return out;
}

}  // namespace

void add_load_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("load",
                                 "Send HTTP or HTTPS load to a local service (loopback only), like wrk, wrk2 or k6.\n"
                                 "  closed:  chaosplus load URL -c 64 -t 1 -d 10s\n"
                                 "  open:    chaosplus load URL --rate 20000/s -c 200 -d 30s\n"
                                 "  users:   chaosplus load URL --vus 100000 --think 10s -c 500 -d 1m\n"
                                 "  sessions: chaosplus load URL --rate 200/s --scenario checkout.yaml -c 100 -d 1m");
  struct Options {
    std::string url;
    int connections = 10;
    int threads = 1;
    std::string duration = "10s";
    std::string timeout = "10s";
    std::uint64_t requests = 0;
    std::string method = "GET";
    std::vector<std::string> headers;
    std::string body;
    std::string rate;
    std::string stages;
    std::uint64_t vus = 0;
    std::string think;
    std::string scenario;
    std::string sources;
    int processes = 1;
    std::string json_out;
    bool quiet = false;
    bool insecure = false;
    std::optional<std::uint64_t> seed;
    std::string ca_file;
    std::uint64_t max_sessions = 100'000;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("url", o->url,
                  "target, e.g. http://127.0.0.1:8080/ or https://localhost:8443/ (127.0.0.0/8, ::1 or localhost only)")
      ->required();
  cmd->add_option("-c,--connections", o->connections, "connections to keep open (default 10)");
  cmd->add_option("-t,--threads", o->threads, "event-loop threads (default 1)");
  cmd->add_option("-d,--duration", o->duration, "how long to run (default 10s, at most 24h)");
  cmd->add_option("-n,--requests", o->requests, "stop after this many responses (default: no cap)");
  cmd->add_option("--timeout", o->timeout, "per request and per connect (default 10s)");
  cmd->add_option("-m,--method", o->method, "request method (default GET)");
  cmd->add_option("-H,--header", o->headers, "request header 'Name: value' (repeatable)");
  cmd->add_option("--body", o->body, "request body");
  cmd->add_option("--rate", o->rate,
                  "open model: constant arrival rate, e.g. 20000/s (latency from the intended send)");
  cmd->add_option("--stages", o->stages,
                  "ramps: DURATION:TARGET,... rates (30s:1000/s,1m:1000/s) or users (30s:1000,1m:1000)");
  cmd->add_option("--vus", o->vus, "users model: virtual users sharing the connections");
  cmd->add_option("--think", o->think, "users model: think time after each response (e.g. 1s)");
  cmd->add_option("--scenario", o->scenario,
                  "YAML scenario (steps, think, extract, data CSV), or a weighted mix of them (scenarios: "
                  "[{name, weight, steps}]); users loop over it, and with --rate each arrival runs it once");
  cmd->add_option("--max-sessions", o->max_sessions,
                  "--rate with a multi-step scenario: sessions running at once at most; arrivals beyond are "
                  "dropped and counted (default 100000)");
  cmd->add_option("--seed", o->seed, "seed of a scenario mix's draws (default: the scenario file's seed, else 1)");
  cmd->add_option("--source-addresses", o->sources,
                  "spread connections over these 127.x sources, e.g. 127.0.0.2-127.0.0.9 (keep each under half of\n"
                  "ip_local_port_range, or connect() gets slow; a warning says so)");
  cmd->add_option("--processes", o->processes, "worker processes (each has its own open-file limit; default 1)");
  cmd->add_flag("-k,--insecure", o->insecure,
                "https://: do not verify the server's certificate (self-signed test servers)");
  cmd->add_option("--cacert", o->ca_file, "https://: trust the CAs in this PEM file (default: the system's store)");
  cmd->add_option("--json", o->json_out, "write the full report as JSON to this file");
  cmd->add_flag("-q,--quiet", o->quiet, "no per-second progress line");
  cmd->callback([o, &exit_code] {
    auto invalid = [&](const std::string& what) {
      std::cerr << "load: " << what << "\n";
      exit_code = kExitInvalid;
    };
    load::LoadOptions options;
    options.url = o->url;
    options.connections = o->connections;
    options.threads = o->threads;
    options.max_requests = o->requests;
    options.method = o->method;
    options.body = o->body;
    options.processes = o->processes;
    options.tls.verify = !o->insecure;
    options.tls.ca_file = o->ca_file;
    options.seed = o->seed;
    options.max_sessions = o->max_sessions;
    auto duration = parse_duration(o->duration);
    if (!duration) return invalid("--duration " + duration.error());
    options.duration = *duration;
    auto timeout = parse_duration(o->timeout);
    if (!timeout) return invalid("--timeout " + timeout.error());
    options.timeout = *timeout;
    for (const auto& h : o->headers) {
      const auto colon = h.find(':');
      if (colon == std::string::npos || colon == 0) return invalid("--header '" + h + "': expected 'Name: value'");
      std::string value = h.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      options.headers.emplace_back(h.substr(0, colon), value);
    }
    if (!o->rate.empty()) {
      auto rate = parse_rate(o->rate);
      if (!rate) {
        try {
          std::size_t used = 0;
          rate = std::stod(o->rate, &used);
          if (used != o->rate.size()) throw std::invalid_argument("rate");
        } catch (const std::exception&) {
          return invalid("--rate " + rate.error());
        }
      }
      options.rate = *rate;
    }
    if (!o->stages.empty()) {
      auto stages = load::parse_stages(o->stages);
      if (!stages) return invalid("--stages " + stages.error());
      (stages->per_second ? options.rate_stages : options.vu_stages) = stages->stages;
    }
    options.vus = o->vus;
    if (!o->think.empty()) {
      auto think = parse_duration(o->think);
      if (!think) return invalid("--think " + think.error());
      options.think = *think;
    }
    if (!o->scenario.empty()) {
      auto scenario = load::Scenario::load_file(o->scenario);
      if (!scenario) return invalid("--scenario " + scenario.error());
      options.scenario = *scenario;
    }
    if (!o->sources.empty()) {
      auto sources = parse_sources(o->sources);
      if (!sources) return invalid("--source-addresses " + sources.error());
      options.source_addresses = *sources;
    }
    if (auto s = options.validate(); !s) return invalid(s.error());
    if (const auto range = load::read_local_port_range()) {
      if (auto w = load::source_port_warning(static_cast<std::uint64_t>(options.connections),
                                             options.source_addresses.size(), *range))
        std::fprintf(stderr, "warning: %s\n", w->c_str());
    }

    HaltSwitch halt;
    SignalWatcher watcher(halt);
    load::RunHooks hooks;
    hooks.halt = &halt;
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    if (!o->quiet) {
      hooks.on_tick = [tty](const load::Tick& t) {
        std::fprintf(stderr, "%s[%6.1fs] %9.0f req/s  p50 %-8s p99 %-8s max %-8s errors %llu  users %llu  conns %llu%s",
                     tty ? "\r" : "", t.at_s, t.length_s > 0 ? t.counters.requests / t.length_s : 0.0,
                     load::format_micros(static_cast<double>(t.p50_us)).c_str(),
                     load::format_micros(static_cast<double>(t.p99_us)).c_str(),
                     load::format_micros(static_cast<double>(t.max_us)).c_str(),
                     static_cast<unsigned long long>(t.counters.transport_errors() + t.counters.dropped),
                     static_cast<unsigned long long>(t.active_users),
                     static_cast<unsigned long long>(t.open_connections), tty ? "   " : "\n");
      };
    }
    auto report = load::run_load(options, hooks);
    if (tty && !o->quiet) std::fprintf(stderr, "\n");
    if (!report) return invalid(report.error());
    std::fputs(load::format_summary(*report).c_str(), stdout);
    std::fflush(stdout);
    if (!o->json_out.empty()) {
      std::ofstream out(o->json_out);
      out << load::to_json(*report) << "\n";
      if (!out) return invalid("--json: cannot write " + o->json_out);
    }
    exit_code = halt.triggered() ? 2 : 0;
  });
}

}  // namespace chaosplus::cli
