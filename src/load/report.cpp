#include "load/report.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace chaosplus::load {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::connect: return "connect";
    case ErrorKind::read: return "read";
    case ErrorKind::write: return "write";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::tls: return "tls";
    case ErrorKind::tls_verify: return "tls_verify";
    case ErrorKind::count_: break;
  }
  return "?";
}

std::uint64_t Counters::transport_errors() const {
  std::uint64_t n = 0;
  for (auto e : errors) n += e;
  return n;
}

std::uint64_t Counters::status_at_least(int code) const {
  std::uint64_t n = 0;
  for (std::size_t c = static_cast<std::size_t>(code); c < status.size(); ++c) n += status[c];
  return n;
}

double Counters::error_rate() const {
  const double failed = static_cast<double>(transport_errors() + status_at_least(400) + dropped);
  const double attempted = static_cast<double>(requests + transport_errors() + dropped);
  return attempted > 0 ? failed / attempted : 0.0;
}

void Counters::add(const Counters& other) {
  requests += other.requests;
  bytes_read += other.bytes_read;
  dropped += other.dropped;
  queued += other.queued;
  tls_handshakes += other.tls_handshakes;
  tls_resumed += other.tls_resumed;
  for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += other.errors[i];
  for (std::size_t i = 0; i < status.size(); ++i) status[i] += other.status[i];
}

double Counters::queued_share() const {
  const double attempted = static_cast<double>(requests + transport_errors() + dropped);
  return attempted > 0 ? static_cast<double>(queued) / attempted : 0.0;
}

std::string generator_bottleneck(const Report& r) {
  const Counters& c = r.counters;
  // A few requests wait while the connections open at the start; more than 1% is the generator.
  const bool waited = c.queued > 0 && c.queued_share() > 0.01;
  if (!waited && c.dropped == 0) return "";
  char buf[320];
  std::string out = "the load generator was the bottleneck: ";
  if (waited) {
    std::snprintf(buf, sizeof buf, "%llu requests (%.1f%%) waited for a free connection (raise connections)",
                  static_cast<unsigned long long>(c.queued), 100 * c.queued_share());
    out += buf;
  }
  if (c.dropped > 0) {
    std::snprintf(buf, sizeof buf,
                  "%s%llu arrivals dropped (queue full or every session busy: raise connections or "
                  "max_sessions)",
                  waited ? "; " : "", static_cast<unsigned long long>(c.dropped));
    out += buf;
  }
  return out;
}

std::string format_micros(double micros) {
  char buf[32];
  if (micros < 1000) std::snprintf(buf, sizeof buf, "%.0fus", micros);
  else if (micros < 1'000'000) std::snprintf(buf, sizeof buf, "%.2fms", micros / 1000);
  else std::snprintf(buf, sizeof buf, "%.2fs", micros / 1'000'000);
  return buf;
}

namespace {

std::string format_count(double n) {
  char buf[32];
  if (n < 1000) std::snprintf(buf, sizeof buf, "%.0f", n);
  else if (n < 1'000'000) std::snprintf(buf, sizeof buf, "%.2fk", n / 1000);
  else std::snprintf(buf, sizeof buf, "%.2fM", n / 1'000'000);
  return buf;
}

std::string format_bytes(double n) {
  char buf[32];
  if (n < 1024) std::snprintf(buf, sizeof buf, "%.0fB", n);
  else if (n < 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2fKB", n / 1024);
  else if (n < 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2fMB", n / (1024 * 1024));
  else std::snprintf(buf, sizeof buf, "%.2fGB", n / (1024.0 * 1024 * 1024));
  return buf;
}

const char* model_name(Model m) {
  switch (m) {
    case Model::connections: return "connections";
    case Model::open: return "open";
    case Model::users: return "users";
  }
  return "?";
}

constexpr double kPercentiles[] = {50, 75, 90, 99, 99.9, 99.99};

}  // namespace

std::string format_summary(const Report& r) {
  std::string out;
  char line[256];
  auto add = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    out += line;
  };
  add("Running %.1fs load @ %s\n", r.elapsed_s, r.url.c_str());
  add("  %d thread(s)%s, %d connection(s)", r.threads,
      r.processes > 1 ? (" in " + std::to_string(r.processes) + " processes").c_str() : "", r.connections);
  if (r.model == Model::open && r.users > 0) {
    // Arrivals are sessions of a multi-step scenario.
    add(", open model at %s sessions/s, peak %llu at once", format_count(r.target_rate).c_str(),
        static_cast<unsigned long long>(r.users));
  } else if (r.model == Model::open) {
    add(", open model at %s req/s", format_count(r.target_rate).c_str());
  }
  if (r.model == Model::users) add(", %llu user(s)", static_cast<unsigned long long>(r.users));
  out += "\n";
  const auto& h = r.latency;
  add("  Latency   avg %s   max %s   (%s)\n", format_micros(h.mean()).c_str(),
      format_micros(static_cast<double>(h.max())).c_str(),
      r.model == Model::connections ? "from each send" : "from the intended send time");
  out += "  Latency distribution\n";
  for (double p : kPercentiles) {
    add("  %7.2f%%  %s\n", p, format_micros(static_cast<double>(h.value_at_percentile(p))).c_str());
  }
  if (r.model != Model::connections) {
    const auto& u = r.uncorrected_latency;
    add("  Uncorrected (from the actual send): p50 %s  p99 %s  max %s\n",
        format_micros(static_cast<double>(u.value_at_percentile(50))).c_str(),
        format_micros(static_cast<double>(u.value_at_percentile(99))).c_str(),
        format_micros(static_cast<double>(u.max())).c_str());
  }
  const auto& c = r.counters;
  add("  %llu requests in %.2fs, %s read\n", static_cast<unsigned long long>(c.requests), r.elapsed_s,
      format_bytes(static_cast<double>(c.bytes_read)).c_str());
  out += "  Status codes:";
  for (std::size_t code = 0; code < c.status.size(); ++code) {
    if (c.status[code] != 0) add(" %zu=%llu", code, static_cast<unsigned long long>(c.status[code]));
  }
  out += "\n";
  if (c.transport_errors() > 0) {
    add("  Socket errors: connect %llu, read %llu, write %llu, timeout %llu, protocol %llu",
        static_cast<unsigned long long>(c.error(ErrorKind::connect)),
        static_cast<unsigned long long>(c.error(ErrorKind::read)),
        static_cast<unsigned long long>(c.error(ErrorKind::write)),
        static_cast<unsigned long long>(c.error(ErrorKind::timeout)),
        static_cast<unsigned long long>(c.error(ErrorKind::protocol)));
    if (c.error(ErrorKind::tls) + c.error(ErrorKind::tls_verify) > 0) {
      add(", tls %llu, tls_verify %llu", static_cast<unsigned long long>(c.error(ErrorKind::tls)),
          static_cast<unsigned long long>(c.error(ErrorKind::tls_verify)));
    }
    out += "\n";
  }
  if (!r.tls_error.empty()) add("  TLS error: %s\n", r.tls_error.c_str());
  if (c.tls_handshakes > 0) {
    add("  TLS handshakes: %llu (%llu resumed)\n", static_cast<unsigned long long>(c.tls_handshakes),
        static_cast<unsigned long long>(c.tls_resumed));
  }
  if (const auto bad = c.status_at_least(400); bad > 0) {
    add("  Non-2xx or 3xx responses: %llu\n", static_cast<unsigned long long>(bad));
  }
  if (c.dropped > 0)
    add("  Dropped arrivals (queue full, or every session busy): %llu\n", static_cast<unsigned long long>(c.dropped));
  if (c.queued > 0) {
    add("  Waited for a free connection: %llu (%.1f%%)\n", static_cast<unsigned long long>(c.queued),
        100 * c.queued_share());
  }
  if (const std::string why = generator_bottleneck(r); !why.empty()) out += "  WARNING: " + why + "\n";
  if (!r.scenarios.empty()) {
    double weights = 0;
    std::uint64_t all = 0;
    for (const auto& s : r.scenarios) weights += s.weight, all += s.requests;
    add("  Scenarios (seed %llu):\n", static_cast<unsigned long long>(r.seed));
    for (const auto& s : r.scenarios) {
      add("    %-16s weight %g (%.1f%%)  %llu passes  %llu requests (%.1f%%)  failed %llu  p50 %s  p99 %s\n",
          s.name.c_str(), s.weight, weights > 0 ? 100 * s.weight / weights : 0.0,
          static_cast<unsigned long long>(s.iterations), static_cast<unsigned long long>(s.requests),
          all > 0 ? 100.0 * static_cast<double>(s.requests) / static_cast<double>(all) : 0.0,
          static_cast<unsigned long long>(s.failed),
          format_micros(static_cast<double>(s.latency.value_at_percentile(50))).c_str(),
          format_micros(static_cast<double>(s.latency.value_at_percentile(99))).c_str());
    }
  }
  add("Requests/sec: %10.2f\n", r.requests_per_second());
  add("Transfer/sec: %10s\n", format_bytes(r.elapsed_s > 0 ? c.bytes_read / r.elapsed_s : 0).c_str());
  if (r.max_rss_kib > 0) {
    add("Generator: peak %llu connection(s), max RSS %s\n", static_cast<unsigned long long>(r.peak_connections),
        format_bytes(static_cast<double>(r.max_rss_kib) * 1024).c_str());
  }
  return out;
}

namespace {

nlohmann::json latency_json(const LatencyHistogram& h) {
  nlohmann::json j = {{"count", h.count()}, {"min_us", h.min()}, {"mean_us", h.mean()}, {"max_us", h.max()}};
  nlohmann::json p = nlohmann::json::object();
  for (double q : {50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
    char key[16];
    std::snprintf(key, sizeof key, "p%g", q);
    p[key] = h.value_at_percentile(q);
  }
  j["percentiles_us"] = p;
  return j;
}

nlohmann::json counters_json(const Counters& c) {
  nlohmann::json status = nlohmann::json::object();
  for (std::size_t code = 0; code < c.status.size(); ++code) {
    if (c.status[code] != 0) status[std::to_string(code)] = c.status[code];
  }
  nlohmann::json errors = nlohmann::json::object();
  for (std::size_t k = 0; k < c.errors.size(); ++k) errors[error_kind_name(static_cast<ErrorKind>(k))] = c.errors[k];
  return {{"requests", c.requests},
          {"bytes_read", c.bytes_read},
          {"dropped", c.dropped},
          {"queued", c.queued},
          {"status", status},
          {"errors", errors},
          {"error_rate", c.error_rate()},
          {"tls", {{"handshakes", c.tls_handshakes}, {"resumed", c.tls_resumed}}}};
}

}  // namespace

std::string to_json(const Report& r) {
  nlohmann::json ticks = nlohmann::json::array();
  for (const Tick& t : r.ticks) {
    ticks.push_back({{"second", t.second},
                     {"at_s", t.at_s},
                     {"requests", t.counters.requests},
                     {"queued", t.counters.queued},
                     {"errors", t.counters.transport_errors()},
                     {"status_4xx_5xx", t.counters.status_at_least(400)},
                     {"p50_us", t.p50_us},
                     {"p90_us", t.p90_us},
                     {"p99_us", t.p99_us},
                     {"p999_us", t.p999_us},
                     {"max_us", t.max_us},
                     {"active_users", t.active_users},
                     {"open_connections", t.open_connections}});
  }
  nlohmann::json scenarios = nlohmann::json::array();
  for (const auto& s : r.scenarios) {
    scenarios.push_back({{"name", s.name},
                         {"weight", s.weight},
                         {"iterations", s.iterations},
                         {"requests", s.requests},
                         {"failed", s.failed},
                         {"latency", latency_json(s.latency)}});
  }
  nlohmann::json j = {{"url", r.url},
                      {"model", model_name(r.model)},
                      {"threads", r.threads},
                      {"processes", r.processes},
                      {"connections", r.connections},
                      {"target_rate", r.target_rate},
                      {"users", r.users},
                      {"elapsed_s", r.elapsed_s},
                      {"requests_per_second", r.requests_per_second()},
                      {"counters", counters_json(r.counters)},
                      {"latency", latency_json(r.latency)},
                      {"uncorrected_latency", latency_json(r.uncorrected_latency)},
                      {"peak_connections", r.peak_connections},
                      {"max_rss_kib", r.max_rss_kib},
                      {"tls_error", r.tls_error},
                      {"seed", r.seed},
                      {"scenarios", scenarios},
                      {"bottleneck", generator_bottleneck(r)},
                      {"ticks", ticks}};
  return j.dump(2);
}

// Every value goes in as a FieldValue: Event::with(key, int) is a better match for a plain int64 or
// double than the variant, and it calls itself (see the report to the lead).
static FieldValue as_field(std::uint64_t n) { return FieldValue{static_cast<std::int64_t>(n)}; }

Event tick_event(const Tick& t) {
  Event e("load.tick");
  // Only what happened: "errors.timeout": 3, "status.503": 12 (a report can tell which errors
  // appeared under which fault).
  for (std::size_t k = 0; k < t.counters.errors.size(); ++k) {
    if (t.counters.errors[k] == 0) continue;
    e.with(std::string("errors.") + error_kind_name(static_cast<ErrorKind>(k)), as_field(t.counters.errors[k]));
  }
  for (std::size_t code = 0; code < t.counters.status.size(); ++code) {
    if (t.counters.status[code] != 0) e.with("status." + std::to_string(code), as_field(t.counters.status[code]));
  }
  return std::move(e)
      .with("second", FieldValue{t.second})
      .with("at_s", FieldValue{t.at_s})
      .with("requests", as_field(t.counters.requests))
      .with("rps", FieldValue{t.length_s > 0 ? t.counters.requests / t.length_s : 0.0})
      .with("errors", as_field(t.counters.transport_errors()))
      .with("status_4xx_5xx", as_field(t.counters.status_at_least(400)))
      .with("dropped", as_field(t.counters.dropped))
      .with("queued", as_field(t.counters.queued))
      .with("error_rate", FieldValue{t.counters.error_rate()})
      .with("p50_ms", FieldValue{static_cast<double>(t.p50_us) / 1000})
      .with("p90_ms", FieldValue{static_cast<double>(t.p90_us) / 1000})
      .with("p99_ms", FieldValue{static_cast<double>(t.p99_us) / 1000})
      .with("p999_ms", FieldValue{static_cast<double>(t.p999_us) / 1000})
      .with("max_ms", FieldValue{static_cast<double>(t.max_us) / 1000})
      .with("active_users", as_field(t.active_users))
      .with("open_connections", as_field(t.open_connections));
}

}  // namespace chaosplus::load
