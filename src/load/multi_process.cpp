#include "load/multi_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

namespace chaosplus::load {

namespace {

using nlohmann::json;

json counters_to_json(const Counters& c) {
  json status = json::array();
  for (std::size_t i = 0; i < c.status.size(); ++i)
    if (c.status[i] != 0) status.push_back({i, c.status[i]});
  return {{"requests", c.requests},
          {"bytes", c.bytes_read},
          {"dropped", c.dropped},
          {"queued", c.queued},
          {"errors", c.errors},
          {"status", status},
          {"tls_handshakes", c.tls_handshakes},
          {"tls_resumed", c.tls_resumed}};
}

Counters counters_from_json(const json& j) {
  Counters c;
  c.requests = j.at("requests").get<std::uint64_t>();
  c.bytes_read = j.at("bytes").get<std::uint64_t>();
  c.dropped = j.at("dropped").get<std::uint64_t>();
  c.queued = j.value("queued", std::uint64_t{0});
  c.tls_handshakes = j.value("tls_handshakes", std::uint64_t{0});
  c.tls_resumed = j.value("tls_resumed", std::uint64_t{0});
  const auto errors = j.at("errors").get<std::vector<std::uint64_t>>();
  for (std::size_t i = 0; i < std::min(errors.size(), c.errors.size()); ++i) c.errors[i] = errors[i];
  for (const auto& pair : j.at("status")) {
    const auto code = pair.at(0).get<std::size_t>();
    if (code < c.status.size()) c.status[code] = pair.at(1).get<std::uint64_t>();
  }
  return c;
}

json histogram_to_json(const LatencyHistogram& h) {
  json counts = json::array();
  for (auto [value, count] : h.nonzero()) counts.push_back({value, count});
  return {{"counts", counts}, {"min", h.min()}, {"max", h.max()}};
}

void histogram_from_json(const json& j, LatencyHistogram& h) {
  const auto min = j.at("min").get<std::uint64_t>();
  const auto max = j.at("max").get<std::uint64_t>();
  for (const auto& pair : j.at("counts")) {
    // Counters carry their lowest equivalent value; the exact extremes travel separately and
    // share a counter with it.
    auto value = pair.at(0).get<std::uint64_t>();
    if (value == h.lowest_equivalent(max)) value = max;
    else if (value == h.lowest_equivalent(min)) value = min;
    h.record_n(value, pair.at(1).get<std::uint64_t>());
  }
}

bool write_line(int fd, const std::string& line) {
  std::string data = line + "\n";
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    off += static_cast<std::size_t>(n);
  }
  return true;
}

[[noreturn]] void child_main(const SharedPlan& plan, int index, int count, int out_fd, int control_fd) {
  HaltSwitch halt;
  // The parent closes the control pipe to stop us (and if it dies, the pipe closes too).
  std::thread watcher([&] {
    char byte;
    while (::read(control_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    halt.trigger("parent asked to stop");
  });
  watcher.detach();
  RunHooks hooks;
  hooks.halt = &halt;
  hooks.on_tick_latency = [&](const Tick& t, const LatencyHistogram& interval) {
    write_line(out_fd, tick_line(t, interval));
  };
  auto report = run_plan_threads(plan, hooks, index, count);
  if (!report) {
    write_line(out_fd, json{{"type", "error"}, {"message", report.error()}}.dump());
    ::_exit(1);
  }
  rusage self{};
  ::getrusage(RUSAGE_SELF, &self);
  json j = {{"type", "result"},
            {"counters", counters_to_json(report->counters)},
            {"latency", histogram_to_json(report->latency)},
            {"uncorrected", histogram_to_json(report->uncorrected_latency)},
            {"elapsed", report->elapsed_s},
            {"peak_connections", report->peak_connections},
            {"users", report->users},
            {"rss_kib", self.ru_maxrss},
            {"tls_error", report->tls_error},
            {"scenarios", json::array()}};
  for (const ScenarioSummary& s : report->scenarios) {
    j["scenarios"].push_back({{"iterations", s.iterations},
                              {"requests", s.requests},
                              {"failed", s.failed},
                              {"latency", histogram_to_json(s.latency)}});
  }
  write_line(out_fd, j.dump());
  ::_exit(0);
}

}  // namespace

std::string tick_line(const Tick& t, const LatencyHistogram& interval) {
  json j = {{"type", "tick"},
            {"second", t.second},
            {"at", t.at_s},
            {"length", t.length_s},
            {"counters", counters_to_json(t.counters)},
            {"latency", histogram_to_json(interval)},
            {"users", t.active_users},
            {"conns", t.open_connections}};
  return j.dump();
}

Tick merge_tick_lines(const std::vector<std::string>& lines, LatencyHistogram& interval) {
  Tick t;
  interval.reset();
  for (const std::string& line : lines) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    t.second = j.value("second", std::int64_t{0});
    t.at_s = std::max(t.at_s, j.at("at").get<double>());
    t.length_s = std::max(t.length_s, j.at("length").get<double>());
    t.counters.add(counters_from_json(j.at("counters")));
    histogram_from_json(j.at("latency"), interval);
    t.active_users += j.at("users").get<std::uint64_t>();
    t.open_connections += j.at("conns").get<std::uint64_t>();
  }
  set_tick_latency(t, interval);
  return t;
}

namespace {

struct ChildProcess {
  pid_t pid = -1;
  int out_fd = -1;
  int control_fd = -1;
  std::string buffer;
  bool eof = false;
};

}  // namespace

Result<Report> run_in_processes(const SharedPlan& plan, const RunHooks& hooks) {
  const int count = plan.options.processes;
  std::vector<ChildProcess> children(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    int out[2], control[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(control, O_CLOEXEC) != 0)
      return Error{std::string("pipe: ") + std::strerror(errno)};
    const pid_t pid = ::fork();
    if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
    if (pid == 0) {
      ::close(out[0]);
      ::close(control[1]);
      for (int k = 0; k < i; ++k) {
        ::close(children[static_cast<std::size_t>(k)].out_fd);
        ::close(children[static_cast<std::size_t>(k)].control_fd);
      }
      child_main(plan, i, count, out[1], control[0]);
    }
    ::close(out[1]);
    ::close(control[0]);
    children[static_cast<std::size_t>(i)] = {pid, out[0], control[1], {}, false};
  }

  Report report;
  report.model = plan.model;
  report.url = plan.options.url;
  report.threads = plan.options.threads;
  report.processes = count;
  report.connections = plan.options.connections;
  report.target_rate = plan.options.rate_stages.empty() ? plan.options.rate : plan.options.rate_stages.back().target;
  start_scenario_summaries(report, plan);
  std::map<std::int64_t, std::vector<std::string>> pending_ticks;  // second -> one line per child
  std::string first_error;
  int results = 0;
  bool stopping = false;
  const auto hard_deadline = std::chrono::steady_clock::now() + plan.options.duration + std::chrono::seconds(30);

  auto emit_ready_ticks = [&](bool flush) {
    while (!pending_ticks.empty()) {
      auto it = pending_ticks.begin();
      if (!flush && it->second.size() < children.size()) break;
      LatencyHistogram interval;
      const Tick t = merge_tick_lines(it->second, interval);
      // A process may end a moment after the others; an empty straggler is not a second of the run.
      const bool straggler = it->second.size() < children.size() && t.counters.requests == 0 &&
                             t.counters.transport_errors() == 0 && t.counters.dropped == 0;
      if (!straggler) {
        if (hooks.on_tick) hooks.on_tick(t);
        if (hooks.on_tick_latency) hooks.on_tick_latency(t, interval);
        report.ticks.push_back(t);
      }
      pending_ticks.erase(it);
    }
  };

  auto handle_line = [&](const std::string& line) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded()) return;
    const std::string type = j.value("type", "");
    if (type == "tick") {
      pending_ticks[j.value("second", std::int64_t{0})].push_back(line);
    } else if (type == "error") {
      if (first_error.empty()) first_error = j.value("message", "worker process failed");
    } else if (type == "result") {
      report.counters.add(counters_from_json(j.at("counters")));
      histogram_from_json(j.at("latency"), report.latency);
      histogram_from_json(j.at("uncorrected"), report.uncorrected_latency);
      report.elapsed_s = std::max(report.elapsed_s, j.at("elapsed").get<double>());
      report.peak_connections += j.at("peak_connections").get<std::uint64_t>();
      report.users += j.at("users").get<std::uint64_t>();
      report.max_rss_kib += j.at("rss_kib").get<std::uint64_t>();
      if (report.tls_error.empty()) report.tls_error = j.value("tls_error", "");
      const json& mix = j.at("scenarios");
      for (std::size_t i = 0; i < mix.size() && i < report.scenarios.size(); ++i) {
        ScenarioSummary& s = report.scenarios[i];
        s.iterations += mix[i].at("iterations").get<std::uint64_t>();
        s.requests += mix[i].at("requests").get<std::uint64_t>();
        s.failed += mix[i].at("failed").get<std::uint64_t>();
        histogram_from_json(mix[i].at("latency"), s.latency);
      }
      ++results;
    }
  };

  while (true) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (!children[i].eof) {
        fds.push_back({children[i].out_fd, POLLIN, 0});
        which.push_back(i);
      }
    }
    if (fds.empty()) break;
    if (!stopping && hooks.halt && hooks.halt->triggered()) {
      stopping = true;
      for (auto& c : children) ::close(c.control_fd), c.control_fd = -1;
    }
    if (std::chrono::steady_clock::now() > hard_deadline) {
      for (auto& c : children) ::kill(c.pid, SIGKILL);
      if (first_error.empty()) first_error = "worker processes did not finish in time";
      break;
    }
    const int n = ::poll(fds.data(), fds.size(), 50);
    if (n < 0 && errno != EINTR) break;
    for (std::size_t k = 0; k < fds.size() && n > 0; ++k) {
      if (fds[k].revents == 0) continue;
      ChildProcess& c = children[which[k]];
      char buf[65536];
      const ssize_t got = ::read(c.out_fd, buf, sizeof buf);
      if (got <= 0) {
        if (got < 0 && errno == EINTR) continue;
        c.eof = true;
        continue;
      }
      c.buffer.append(buf, static_cast<std::size_t>(got));
      std::size_t nl;
      while ((nl = c.buffer.find('\n')) != std::string::npos) {
        handle_line(c.buffer.substr(0, nl));
        c.buffer.erase(0, nl + 1);
      }
    }
    emit_ready_ticks(false);
  }
  emit_ready_ticks(true);
  for (auto& c : children) {
    if (c.control_fd >= 0) ::close(c.control_fd);
    ::close(c.out_fd);
    int status = 0;
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (!first_error.empty()) return Error{first_error};
  if (results != count) return Error{"a worker process ended without a result"};
  return report;
}

}  // namespace chaosplus::load
