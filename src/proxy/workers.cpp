#include "proxy/workers.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "proxy/toxic_json.h"

namespace chaosplus::proxy {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kReplyTimeout = std::chrono::seconds(5);
constexpr auto kExitTimeout = std::chrono::seconds(5);

Result<ToxicSpec> toxic_from(const json& j) {
  ToxicDraft draft;
  draft.name = j.at("name").get<std::string>();
  draft.type = j.at("type").get<std::string>();
  draft.stream = j.at("stream").get<std::string>();
  draft.toxicity = j.at("toxicity").get<double>();
  for (const auto& [key, value] : j.at("attributes").items()) {
    if (value.is_number_integer()) {
      draft.attributes[key] = value.get<std::int64_t>();
    } else {
      draft.attributes[key] = value.get<std::string>();
    }
  }
  return make_toxic(draft);
}

// Reads one reply line from a worker before `deadline`.
Result<std::string> read_line(int fd, Clock::time_point deadline) {
  std::string line;
  char c = 0;
  while (true) {
    if (!net::wait_readable(fd, deadline)) return Error{"no answer within 5 s"};
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{"the worker is gone"};
    if (c == '\n') return line;
    line += c;
  }
}

constexpr std::string_view kStats = "stats ";

// A question for a worker's engine (not a change): "stats <json {proxy, toxic}>" asks for a toxic's
// counters; the answer is "stats <json counters>" or "error: ...".
std::string answer_query(Engine& engine, std::string_view query) {
  try {
    json asked = json::parse(query.substr(kStats.size()));
    auto counts = engine.toxic_stats(asked.at("proxy").get<std::string>(), asked.at("toxic").get<std::string>());
    if (!counts.ok()) return "error: " + counts.failure().message;
    return std::string(kStats) + counters_to_json(counts.value()).dump();
  } catch (const json::exception& e) {
    return std::string("error: bad stats query: ") + e.what();
  }
}

// A worker's life: an engine, and the state from the API process applied as it comes. Each state
// line is "<seq> <json>"; the reply "<seq> ok" or "<seq> error: ..." names the state it answers.
// A line "<seq> stats ..." is a question instead (answer_query).
[[noreturn]] void run_worker(int channel, const Engine::Options& options, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(0);
  // The parent may have blocked signals for its signal-watching thread: a worker takes SIGTERM.
  sigset_t none;
  sigemptyset(&none);
  ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
  auto started = Engine::start(options);
  if (!started) ::_exit(3);
  std::unique_ptr<Engine> engine = std::move(started).value();
  std::string buffer;
  char chunk[65536];
  while (true) {
    ssize_t n = ::read(channel, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the API process closed the channel (or died): stop
    buffer.append(chunk, static_cast<std::size_t>(n));
    for (auto end = buffer.find('\n'); end != std::string::npos; end = buffer.find('\n')) {
      const std::string_view line = std::string_view(buffer).substr(0, end);
      const auto space = line.find(' ');
      const std::string seq(line.substr(0, space));
      const std::string_view body = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
      std::string reply;
      if (body.starts_with(kStats)) {
        reply = seq + " " + answer_query(*engine, body);
      } else {
        auto change =
            space == std::string_view::npos ? Result<StateChange>{Error{"no sequence number"}} : decode_change(body);
        Status applied = change ? apply_change(*engine, *change) : Status{Error{change.error()}};
        reply = seq + (applied ? " ok" : " error: " + applied.error());
      }
      buffer.erase(0, end + 1);
      for (auto& ch : reply) {
        if (ch == '\n') ch = ' ';
      }
      reply += '\n';
      if (!net::send_all(channel, reply, Clock::now() + kReplyTimeout)) ::_exit(4);
    }
  }
  engine.reset();  // closes every listener and connection
  ::_exit(0);
}

}  // namespace

namespace {

json proxies_json(const std::vector<ProxyView>& state) {
  json out = json::array();
  for (const auto& proxy : state) {
    json toxics = json::array();
    for (const auto& toxic : proxy.toxics) toxics.push_back(toxic_to_json(toxic));
    out.push_back({{"name", proxy.name},
                   {"listen", proxy.listen},
                   {"upstream", proxy.upstream},
                   {"enabled", proxy.enabled},
                   {"toxics", toxics}});
  }
  return out;
}

Result<std::vector<ProxyView>> proxies_from(const json& list) {
  try {
    std::vector<ProxyView> out;
    for (const auto& p : list) {
      ProxyView view{p.at("name").get<std::string>(),
                     p.at("listen").get<std::string>(),
                     p.at("upstream").get<std::string>(),
                     p.at("enabled").get<bool>(),
                     {}};
      for (const auto& t : p.at("toxics")) {
        auto toxic = toxic_from(t);
        if (!toxic) return Error{"toxic of proxy '" + view.name + "': " + toxic.error()};
        view.toxics.push_back(*toxic);
      }
      out.push_back(std::move(view));
    }
    return out;
  } catch (const json::exception& e) {
    return Error{std::string("bad proxy state: ") + e.what()};
  }
}

// Makes one proxy of `engine` what `want` says; problems go to `note`.
void apply_proxy(Engine& engine, const ProxyView& want, const std::function<void(const std::string&)>& note) {
  auto current = engine.proxy(want.name);
  if (!current.ok()) {
    auto made = engine.create_proxy({want.name, want.listen, want.upstream, want.enabled});
    if (!made.ok()) return note(made.failure().message);
  } else if (const auto& have = current.value();
             have.listen != want.listen || have.upstream != want.upstream || have.enabled != want.enabled) {
    ProxyUpdate update;
    if (have.listen != want.listen) update.listen = want.listen;
    if (have.upstream != want.upstream) update.upstream = want.upstream;
    update.enabled = want.enabled;
    if (auto updated = engine.update_proxy(want.name, update); !updated.ok()) return note(updated.failure().message);
  }
  auto now = engine.proxy(want.name);
  if (!now.ok()) return;
  for (const auto& have : now.value().toxics) {
    bool kept = false;
    for (const auto& toxic : want.toxics) kept = kept || toxic.name == have.name;
    if (!kept) (void)engine.remove_toxic(want.name, have.name);
  }
  for (const auto& toxic : want.toxics) {
    auto have = engine.toxic(want.name, toxic.name);
    if (have.ok() && have.value() == toxic) continue;
    auto changed = have.ok() ? engine.update_toxic(want.name, toxic) : engine.add_toxic(want.name, toxic);
    if (!changed.ok()) note("toxic '" + toxic.name + "': " + changed.failure().message);
  }
}

}  // namespace

std::string encode_state(const std::vector<ProxyView>& state) { return proxies_json(state).dump(); }

Result<std::vector<ProxyView>> decode_state(std::string_view text) {
  try {
    return proxies_from(json::parse(text));
  } catch (const json::exception& e) {
    return Error{std::string("bad proxy state: ") + e.what()};
  }
}

std::string encode_change(const StateChange& change) {
  if (!change.only) return encode_state(change.proxies);
  return json{{"only", *change.only}, {"proxies", proxies_json(change.proxies)}}.dump();
}

Result<StateChange> decode_change(std::string_view text) {
  try {
    json parsed = json::parse(text);
    if (parsed.is_array()) {
      auto proxies = proxies_from(parsed);
      if (!proxies) return Error{proxies.error()};
      return StateChange{std::move(proxies).value(), std::nullopt};
    }
    auto proxies = proxies_from(parsed.at("proxies"));
    if (!proxies) return Error{proxies.error()};
    return StateChange{std::move(proxies).value(), parsed.at("only").get<std::vector<std::string>>()};
  } catch (const json::exception& e) {
    return Error{std::string("bad proxy state: ") + e.what()};
  }
}

Status apply_state(Engine& engine, const std::vector<ProxyView>& state) {
  std::string errors;
  std::map<std::string, const ProxyView*> wanted;
  for (const auto& proxy : state) wanted[proxy.name] = &proxy;
  for (const auto& have : engine.proxies()) {
    if (!wanted.contains(have.name)) (void)engine.delete_proxy(have.name);
  }
  for (const auto& want : state) {
    apply_proxy(engine, want, [&](const std::string& what) {
      errors += (errors.empty() ? "" : "; ") + ("proxy '" + want.name + "': " + what);
    });
  }
  if (!errors.empty()) return Error{errors};
  return ok_status();
}

Status apply_change(Engine& engine, const StateChange& change) {
  if (!change.only) return apply_state(engine, change.proxies);
  std::string errors;
  for (const auto& name : *change.only) {
    const ProxyView* want = nullptr;
    for (const auto& proxy : change.proxies) {
      if (proxy.name == name) want = &proxy;
    }
    if (want == nullptr) {
      (void)engine.delete_proxy(name);  // gone in the API process (or never made): gone here
      continue;
    }
    apply_proxy(engine, *want, [&](const std::string& what) {
      errors += (errors.empty() ? "" : "; ") + ("proxy '" + name + "': " + what);
    });
  }
  if (!errors.empty()) return Error{errors};
  return ok_status();
}

Result<std::unique_ptr<Workers>> Workers::start(std::size_t count, const Engine::Options& options) {
  std::unique_ptr<Workers> workers(new Workers());
  const pid_t parent = ::getpid();
  for (std::size_t i = 0; i < count; ++i) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      return Error{std::string("socketpair: ") + std::strerror(errno)};
    }
    pid_t pid = ::fork();
    if (pid < 0) {
      ::close(pair[0]);
      ::close(pair[1]);
      return Error{std::string("fork: ") + std::strerror(errno)};
    }
    if (pid == 0) {
      ::close(pair[0]);
      for (auto& other : workers->workers_) ::close(other.channel.release());
      run_worker(pair[1], options, parent);
    }
    ::close(pair[1]);
    workers->workers_.push_back({pid, net::Fd(pair[0])});
  }
  return workers;
}

Workers::~Workers() {
  for (auto& worker : workers_) worker.channel.reset();
  auto deadline = Clock::now() + kExitTimeout;
  for (auto& worker : workers_) {
    while (::waitpid(worker.pid, nullptr, WNOHANG) == 0) {
      if (Clock::now() >= deadline) {
        ::kill(worker.pid, SIGKILL);
        ::waitpid(worker.pid, nullptr, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

Status Workers::publish(const std::vector<ProxyView>& state) { return publish(StateChange{state, std::nullopt}); }

Status Workers::publish(const StateChange& change) {
  const std::string seq = std::to_string(++sequence_);
  const std::string line = seq + " " + encode_change(change) + "\n";
  std::string errors;
  auto note = [&](const Worker& worker, const std::string& what) {
    errors += (errors.empty() ? "" : "; ") + ("worker " + std::to_string(worker.pid) + ": " + what);
  };
  for (auto it = workers_.begin(); it != workers_.end();) {
    Worker& worker = *it;
    auto deadline = Clock::now() + kReplyTimeout;
    if (auto sent = net::send_all(worker.channel.get(), line, deadline); !sent) {
      // Half a line may be in the channel: nothing said on it can be trusted any more. The worker
      // is stopped (its listeners and connections with it) rather than left out of step.
      note(worker, sent.error() + "; the worker was stopped");
      ::kill(worker.pid, SIGKILL);
      ::waitpid(worker.pid, nullptr, 0);
      it = workers_.erase(it);
      continue;
    }
    // A reply that came too late for an earlier state is skipped: only this state's answer counts.
    Result<std::string> reply = Error{"no answer"};
    do {
      reply = read_line(worker.channel.get(), deadline);
    } while (reply && !reply->starts_with(seq + " "));
    if (!reply) {
      note(worker, reply.error());
    } else if (const std::string answer = reply->substr(seq.size() + 1); answer != "ok") {
      note(worker, answer);
    }
    ++it;
  }
  if (!errors.empty()) return Error{errors};
  return ok_status();
}

Result<ToxicCounters> Workers::toxic_stats(const std::string& proxy, const std::string& toxic) {
  const std::string seq = std::to_string(++sequence_);
  const std::string line = seq + " " + std::string(kStats) + json{{"proxy", proxy}, {"toxic", toxic}}.dump() + "\n";
  ToxicCounters total;
  for (auto& worker : workers_) {
    const std::string who = "worker " + std::to_string(worker.pid) + ": ";
    auto deadline = Clock::now() + kReplyTimeout;
    if (auto sent = net::send_all(worker.channel.get(), line, deadline); !sent) return Error{who + sent.error()};
    Result<std::string> reply = Error{"no answer"};
    do {
      reply = read_line(worker.channel.get(), deadline);
    } while (reply && !reply->starts_with(seq + " "));
    if (!reply) return Error{who + reply.error()};
    const std::string_view answer = std::string_view(*reply).substr(seq.size() + 1);
    if (!answer.starts_with(kStats)) return Error{who + std::string(answer)};
    try {
      auto counts = counters_from_json(json::parse(answer.substr(kStats.size())));
      if (!counts) return Error{who + counts.error()};
      total += *counts;
    } catch (const json::exception& e) {
      return Error{who + "unreadable stats: " + e.what()};
    }
  }
  return total;
}

std::vector<pid_t> Workers::pids() const {
  std::vector<pid_t> out;
  for (const auto& worker : workers_) out.push_back(worker.pid);
  return out;
}

}  // namespace chaosplus::proxy
