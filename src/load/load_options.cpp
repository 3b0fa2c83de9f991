#include "load/load_options.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/allowed_hosts.h"
#include "core/loopback.h"
#include "net/url.h"

namespace chaosplus::load {

Model LoadOptions::model() const {
  if (rate > 0 || !rate_stages.empty()) return Model::open;
  if (vus > 0 || !vu_stages.empty() || scenario) return Model::users;
  return Model::connections;
}

Status LoadOptions::validate() const {
  auto url_ok = net::Url::parse(url);
  if (!url_ok) return Error{"url: " + url_ok.error()};
  if (url_ok->scheme != "http" && url_ok->scheme != "https")
    return Error{"url: only http:// and https:// targets are supported (got " + url + ")"};
  if (url_ok->scheme == "http" && (!tls.verify || !tls.ca_file.empty()))
    return Error{"TLS options (insecure, CA file) need an https:// URL (got " + url + ")"};
  if (auto s = check_loopback_host(url_ok->host); !s) return s;
  if (connections < 1 || connections > 1'000'000) return Error{"connections must be between 1 and 1000000"};
  if (threads < 1 || threads > 256) return Error{"threads must be between 1 and 256"};
  if (processes < 1 || processes > 64) return Error{"processes must be between 1 and 64"};
  if (threads * processes > connections) return Error{"need at least one connection per thread"};
  if (duration <= Duration::zero()) return Error{"duration must be positive"};
  if (duration > std::chrono::hours(24)) return Error{"duration must be at most 24h"};
  if (timeout <= Duration::zero()) return Error{"timeout must be positive"};
  if (!std::isfinite(rate) || rate < 0 || rate > 10'000'000) return Error{"rate must be between 0 and 10000000/s"};
  if ((rate > 0 || !rate_stages.empty()) && (vus > 0 || !vu_stages.empty()))
    return Error{"choose one model: a rate (open model) or users (closed model), not both"};
  if (vus > 100'000'000) return Error{"at most 100000000 users"};
  if (max_sessions < 1 || max_sessions > 100'000'000) return Error{"max sessions must be between 1 and 100000000"};
  for (const auto* stages : {&rate_stages, &vu_stages}) {
    for (const Stage& s : *stages) {
      if (s.over < Duration::zero() || !std::isfinite(s.target) || s.target < 0)
        return Error{"stages need a non-negative duration and target"};
    }
  }
  if (think < Duration::zero()) return Error{"think time must not be negative"};
  for (const auto& a : source_addresses) {
    if (auto s = check_loopback_host(a); !s) return Error{"source address: " + s.error()};
  }
  return ok_status();
}

std::optional<PortRange> read_local_port_range(const std::string& path) {
  std::ifstream in(path);
  PortRange r;
  if (!(in >> r.low >> r.high) || r.low < 1 || r.high < r.low) return std::nullopt;
  return r;
}

std::optional<std::string> source_port_warning(std::uint64_t connections, std::size_t sources, PortRange range) {
  const std::uint64_t addresses = std::max<std::size_t>(sources, 1);
  const std::uint64_t per_address = (connections + addresses - 1) / addresses;
  const auto half = static_cast<std::uint64_t>(range.size()) / 2;
  if (per_address <= half) return std::nullopt;
  // Keep each address at a third of the range, leaving room for reconnects and TIME_WAIT.
  const std::uint64_t third = std::max<std::uint64_t>(static_cast<std::uint64_t>(range.size()) / 3, 1);
  const std::uint64_t wanted = (connections + third - 1) / third;
  return std::to_string(per_address) + " connections per source address pass half of its " +
         std::to_string(range.size()) + " ephemeral ports (ip_local_port_range " + std::to_string(range.low) + "-" +
         std::to_string(range.high) +
         "): the kernel's port search makes each connect() slow and stalls the "
         "load generator; use --source-addresses with at least " +
         std::to_string(wanted) + " addresses (e.g. 127.0.0.2-127.0.0." +
         std::to_string(1 + std::min<std::uint64_t>(wanted, 254)) + ")";
}

Status check_loopback_host(std::string_view host) {
  if (allowed_hosts().allows_host(host)) return ok_status();
  const std::string h(host);
  if (is_ip_literal(host)) return Error{"refusing to send load to " + h + ": not on the allow-list; " + allow_hint()};
  return Error{"refusing to send load to '" + h + "': a name, expected an IP literal or localhost; " + allow_hint()};
}

Result<ParsedStages> parse_stages(std::string_view text) {
  ParsedStages out;
  bool first = true;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos)
      return Error{"stage '" + std::string(item) + "': expected DURATION:TARGET, e.g. 30s:1000/s or 1m:500"};
    auto over = parse_duration(item.substr(0, colon));
    if (!over && item.substr(0, colon) == "0") over = Duration::zero();
    if (!over) return Error{"stage '" + std::string(item) + "': " + over.error()};
    std::string_view target = item.substr(colon + 1);
    const bool per_second = target.find('/') != std::string_view::npos;
    if (!first && per_second != out.per_second)
      return Error{"stages mix rates (N/s) and user counts (N); use one kind"};
    out.per_second = per_second;
    first = false;
    double value = 0;
    if (per_second) {
      auto r = parse_rate(target);
      if (!r) return Error{"stage '" + std::string(item) + "': " + r.error()};
      value = *r;
    } else {
      try {
        std::size_t used = 0;
        value = std::stod(std::string(target), &used);
        if (used != target.size() || value < 0) throw std::invalid_argument("x");
      } catch (const std::exception&) {
        return Error{"stage '" + std::string(item) + "': target must be a user count or a rate like 100/s"};
      }
    }
    out.stages.push_back({*over, value});
  }
  if (out.stages.empty()) return Error{"stages: expected DURATION:TARGET[,DURATION:TARGET...]"};
  return out;
}

Duration stages_length(const std::vector<Stage>& stages) {
  Duration total{};
  for (const auto& s : stages) total += s.over;
  return total;
}

double stage_level(const std::vector<Stage>& stages, double initial, Duration t) {
  double level = initial;
  for (const auto& s : stages) {
    if (t < s.over) {
      const double f = std::chrono::duration<double>(t) / std::chrono::duration<double>(s.over);
      return level + (s.target - level) * f;
    }
    t -= s.over;
    level = s.target;
  }
  return level;
}

}  // namespace chaosplus::load
