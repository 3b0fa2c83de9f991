#include "load/engine.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <sys/prctl.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "load/scenario.h"
#include "net/http_server.h"
#include "support/support.h"

namespace chaosplus::load {
namespace {

using namespace std::chrono_literals;

// An in-process server that counts what it answers.
struct CountingServer {
  std::atomic<int> requests{0};
  std::mutex mutex;
  std::set<std::string> seen;  // targets
  net::HttpServer server;
  explicit CountingServer(std::function<net::Response(const net::Request&)> reply = {})
      : server({}, [this, reply](const net::Request& r) {
          ++requests;
          {
            std::lock_guard lock(mutex);
            seen.insert(r.target);
          }
          return reply ? reply(r) : net::Response::text(200, "ok");
        }) {
    auto s = server.start();
    EXPECT_TRUE(s.ok()) << s.error();
  }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(server.port()) + path;
  }
};

LoadOptions bounded(const std::string& url) {
  LoadOptions o;
  o.url = url;
  o.duration = 20s;  // a safety bound: these runs end on their request cap
  o.timeout = 5s;
  return o;
}

TEST(LoadEngine, ClosedModelSendsKeepAliveRequestsUntilTheCap) {
  CountingServer server;
  auto o = bounded(server.url("/hello"));
  o.connections = 4;
  o.max_requests = 300;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_GE(report->counters.requests, 300u);
  EXPECT_LE(report->counters.requests, 300u + 4u);  // at most the requests already in flight
  EXPECT_EQ(report->counters.status[200], report->counters.requests);
  EXPECT_EQ(report->latency.count(), report->counters.requests);
  EXPECT_EQ(report->counters.transport_errors(), 0u);
  // The server may also have answered the requests in flight when the cap was reached.
  EXPECT_GE(static_cast<std::uint64_t>(server.requests.load()), report->counters.requests);
  EXPECT_LE(static_cast<std::uint64_t>(server.requests.load()), report->counters.requests + 4u);
  EXPECT_EQ(report->peak_connections, 4u);  // keep-alive: no reconnects
  EXPECT_EQ(server.seen, std::set<std::string>{"/hello"});
}

TEST(LoadEngine, SplitsConnectionsAndRequestsOverThreads) {
  CountingServer server;
  auto o = bounded(server.url());
  o.connections = 6;
  o.threads = 3;
  o.max_requests = 300;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_GE(report->counters.requests, 300u);
  EXPECT_EQ(report->peak_connections, 6u);
  EXPECT_EQ(report->threads, 3);
}

TEST(LoadEngine, CountsStatusCodes) {
  CountingServer server([](const net::Request&) { return net::Response::text(503, "busy"); });
  auto o = bounded(server.url());
  o.connections = 2;
  o.max_requests = 50;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->counters.status[503], report->counters.requests);
  EXPECT_DOUBLE_EQ(report->counters.error_rate(), 1.0);
  EXPECT_NE(format_summary(*report).find("503="), std::string::npos);
}

TEST(LoadEngine, ReconnectsWhenTheServerClosesEachConnection) {
  CountingServer server([](const net::Request&) {
    auto r = net::Response::text(200, "bye");
    r.set_header("Connection", "close");
    return r;
  });
  auto o = bounded(server.url());
  o.connections = 2;
  o.max_requests = 40;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_GE(report->counters.requests, 40u);
  EXPECT_EQ(report->counters.status[200], report->counters.requests);
}

TEST(LoadEngine, RefusedConnectionsAreCountedNotFatal) {
  const int port = testing::free_port();  // nothing listens there
  auto o = bounded("http://127.0.0.1:" + std::to_string(port) + "/");
  o.duration = 300ms;
  o.connections = 2;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->counters.requests, 0u);
  EXPECT_GT(report->counters.error(ErrorKind::connect), 0u);
}

TEST(LoadEngine, RefusesNonLoopbackTargetsBeforeSendingAnything) {
  auto o = bounded("http://192.0.2.1/");
  auto report = run_load(o);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().find("loopback"), std::string::npos);
}

TEST(LoadEngine, OpenModelNeverSendsMoreThanTheSchedule) {
  CountingServer server;
  auto o = bounded(server.url());
  o.duration = 500ms;
  o.rate = 400;
  o.connections = 4;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->model, Model::open);
  EXPECT_GT(report->counters.requests, 0u);
  EXPECT_LE(report->counters.requests, 201u);  // 400/s for 0.5 s, the first at t=0
  EXPECT_EQ(report->counters.dropped, 0u);
  EXPECT_EQ(report->uncorrected_latency.count(), report->counters.requests);
}

TEST(LoadEngine, TicksAddUpToTheReport) {
  CountingServer server;
  auto o = bounded(server.url());
  o.connections = 2;
  o.max_requests = 200;
  std::vector<Tick> ticks;
  RunHooks hooks;
  hooks.on_tick = [&](const Tick& t) { ticks.push_back(t); };
  auto report = run_load(o, hooks);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_FALSE(ticks.empty());
  std::uint64_t sum = 0;
  for (const auto& t : ticks) sum += t.counters.requests;
  EXPECT_EQ(sum, report->counters.requests);
  EXPECT_EQ(tick_event(ticks.back()).type, "load.tick");
}

// Every outcome is in exactly one tick: the ticks of a run add up to its report.
void expect_ticks_add_up(const std::vector<Tick>& ticks, const Report& report) {
  Counters sum;
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    EXPECT_EQ(ticks[i].second, static_cast<std::int64_t>(i)) << "ticks are one per second, in order";
    sum.add(ticks[i].counters);
  }
  EXPECT_EQ(sum.requests, report.counters.requests);
  EXPECT_EQ(sum.dropped, report.counters.dropped);
  EXPECT_EQ(sum.queued, report.counters.queued);
  EXPECT_EQ(sum.bytes_read, report.counters.bytes_read);
  EXPECT_EQ(sum.errors, report.counters.errors);
  EXPECT_EQ(sum.status, report.counters.status);
}

TEST(LoadEngine, ALoadOfNSecondsWritesNTicksThatAddUpToTheReport) {
  CountingServer server;
  auto o = bounded(server.url());
  o.rate = 200;
  o.connections = 8;
  o.duration = 3s;
  std::vector<Tick> ticks;
  RunHooks hooks;
  hooks.on_tick = [&](const Tick& t) { ticks.push_back(t); };
  auto report = run_load(o, hooks);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_EQ(ticks.size(), 3u);
  expect_ticks_add_up(ticks, *report);
  EXPECT_GT(ticks.back().counters.requests, 0u) << "the last second is written too";
  EXPECT_DOUBLE_EQ(ticks.back().at_s, 3.0);
}

TEST(LoadEngine, AHaltedLoadStillWritesItsLastPartialSecond) {
  CountingServer server;
  auto o = bounded(server.url());
  o.rate = 200;
  o.connections = 8;
  o.duration = 30s;
  HaltSwitch halt;
  std::vector<Tick> ticks;
  RunHooks hooks;
  hooks.halt = &halt;
  hooks.on_tick = [&](const Tick& t) {
    ticks.push_back(t);
    if (t.second == 1) halt.trigger("test");  // halts within the third second
  };
  auto report = run_load(o, hooks);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_GE(ticks.size(), 3u);
  EXPECT_LE(ticks.back().length_s, 1.0);
  EXPECT_NEAR(ticks.back().at_s, report->elapsed_s, 0.01);
  expect_ticks_add_up(ticks, *report);
}

// The journal's main use is "which errors appeared while which fault was on": an outcome counts in
// the second its request was meant to be sent in, not in the second its slow answer came back.
TEST(LoadEngine, OutcomesCountInTheSecondTheirRequestWasMeantFor) {
  std::mutex mutex;
  std::optional<std::chrono::steady_clock::time_point> first;
  CountingServer server([&](const net::Request&) {
    const auto now = std::chrono::steady_clock::now();
    std::chrono::duration<double> since{};
    {
      std::lock_guard lock(mutex);
      if (!first) first = now;
      since = now - *first;
    }
    // Requests of the middle second (with a margin at both ends) fail, slowly: their 503 comes
    // back in the next second.
    if (since > 1050ms && since < 1950ms) {
      std::this_thread::sleep_for(700ms);  // the slow failure is the behaviour under test
      return net::Response::text(503, "down");
    }
    return net::Response::text(200, "ok");
  });
  auto o = bounded(server.url());
  o.rate = 40;
  o.connections = 60;  // enough for every slow request: none waits for a connection
  o.duration = 3s;
  std::vector<Tick> ticks;
  RunHooks hooks;
  hooks.on_tick = [&](const Tick& t) { ticks.push_back(t); };
  auto report = run_load(o, hooks);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_GT(report->counters.status[503], 20u);
  EXPECT_EQ(ticks[0].counters.status[503], 0u);
  EXPECT_EQ(ticks[1].counters.status[503], report->counters.status[503]);
  EXPECT_EQ(ticks[2].counters.status[503], 0u);
  expect_ticks_add_up(ticks, *report);
}

TEST(LoadEngine, SaysWhenTheGeneratorIsTheBottleneck) {
  CountingServer server([](const net::Request&) {
    std::this_thread::sleep_for(20ms);  // a slow service: two connections carry at most ~100/s
    return net::Response::text(200, "ok");
  });
  auto o = bounded(server.url());
  o.rate = 400;
  o.connections = 2;
  o.duration = 1s;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_GT(report->counters.queued, report->counters.requests / 2);
  const std::string why = generator_bottleneck(*report);
  EXPECT_NE(why.find("waited for a free connection"), std::string::npos) << why;
  EXPECT_NE(format_summary(*report).find("WARNING: the load generator was the bottleneck"), std::string::npos);
}

TEST(LoadEngine, EnoughConnectionsAreNotABottleneck) {
  CountingServer server;
  auto o = bounded(server.url());
  o.rate = 100;
  o.connections = 20;
  o.duration = 2s;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(generator_bottleneck(*report), "") << format_summary(*report);
}

TEST(LoadEngine, AHaltStopsTheRun) {
  CountingServer server;
  auto o = bounded(server.url());
  o.connections = 2;
  o.duration = 30s;
  HaltSwitch halt;
  RunHooks hooks;
  hooks.halt = &halt;
  hooks.on_tick = [&](const Tick&) {};
  std::thread stopper([&] {
    testing::wait_until([&] { return server.requests.load() > 20; });
    halt.trigger("test");
  });
  auto report = run_load(o, hooks);
  stopper.join();
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_LT(report->elapsed_s, 30.0);
  EXPECT_GT(report->counters.requests, 0u);
}

TEST(LoadEngine, UsersFollowTheScenarioWithExtractedValues) {
  // No order is answered before all three users logged in: on a busy machine the server's thread
  // for the second connection may start late, and the first connection's users would otherwise
  // use up the request cap alone.
  std::mutex gate;
  std::condition_variable opened;
  std::set<std::string> logged_in;
  CountingServer server([&](const net::Request& r) {
    if (r.path() == "/login") {
      {
        std::lock_guard lock(gate);
        logged_in.insert(r.query_param("u"));
      }
      opened.notify_all();
      return net::Response::json(200, R"({"token":"t-)" + r.query_param("u") + R"("})");
    }
    if (r.path() == "/orders") {
      {
        std::unique_lock lock(gate);
        opened.wait_for(lock, 10s, [&] { return logged_in.size() == 3; });
      }
      const bool ok = r.query_param("token") == "t-" + r.query_param("u");
      return net::Response::text(ok ? 200 : 401, ok ? "orders" : "who are you");
    }
    return net::Response::text(404, "");
  });
  testing::TempDir dir;
  testing::write_file(dir.file("users.csv"), "u\nann\nbob\ncid\n");
  testing::write_file(dir.file("s.yaml"),
                      "data: users.csv\nsteps:\n  - path: /login?u=${u}\n    extract: {token: {json: /token}}\n"
                      "  - path: /orders?u=${u}&token=${token}\n");
  auto scenario = Scenario::load_file(dir.file("s.yaml"));
  ASSERT_TRUE(scenario.ok()) << scenario.error();
  auto o = bounded(server.url());
  o.scenario = *scenario;
  o.vus = 3;
  o.connections = 2;
  o.max_requests = 60;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->model, Model::users);
  EXPECT_GE(report->counters.requests, 60u);
  EXPECT_EQ(report->counters.status[401], 0u);
  EXPECT_EQ(report->counters.status[200], report->counters.requests);
  std::lock_guard lock(server.mutex);
  EXPECT_TRUE(server.seen.count("/orders?u=bob&token=t-bob"));
  EXPECT_TRUE(server.seen.count("/orders?u=cid&token=t-cid"));
}

TEST(LoadEngine, ManyUsersShareFewConnections) {
  CountingServer server;
  auto o = bounded(server.url());
  o.vus = 2000;
  o.connections = 4;
  o.max_requests = 2000;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->users, 2000u);
  EXPECT_LE(report->peak_connections, 4u);
  EXPECT_GE(report->counters.requests, 2000u);
}

TEST(LoadEngine, WorkerProcessesMergeTheirResults) {
  CountingServer server;
  auto o = bounded(server.url());
  o.processes = 2;
  o.connections = 4;
  o.max_requests = 200;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->processes, 2);
  EXPECT_GE(report->counters.requests, 200u);
  EXPECT_EQ(report->latency.count(), report->counters.requests);
  EXPECT_GE(static_cast<std::uint64_t>(server.requests.load()), report->counters.requests);
  EXPECT_LE(static_cast<std::uint64_t>(server.requests.load()), report->counters.requests + 4u);
  EXPECT_EQ(report->peak_connections, 4u);
}

TEST(LoadEngine, UsersOfAMixRunEachScenarioAndTheReportCountsThem) {
  CountingServer server;
  auto scenario = Scenario::parse(
      "seed: 3\nscenarios:\n  - {name: browse, weight: 3, steps: [{path: /a}, {path: /b}]}\n"
      "  - {name: buy, weight: 1, steps: [{method: POST, path: /buy, body: x}]}\n");
  ASSERT_TRUE(scenario.ok()) << scenario.error();
  auto o = bounded(server.url());
  o.scenario = *scenario;
  o.vus = 8;
  o.connections = 4;
  o.max_requests = 800;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_EQ(report->scenarios.size(), 2u);
  EXPECT_EQ(report->seed, 3u);
  const auto& browse = report->scenarios[0];
  const auto& buy = report->scenarios[1];
  EXPECT_EQ(browse.name, "browse");
  EXPECT_EQ(buy.weight, 1);
  EXPECT_GT(browse.requests, 0u);
  EXPECT_GT(buy.requests, 0u);
  EXPECT_EQ(browse.requests + buy.requests, report->counters.requests);
  EXPECT_EQ(browse.latency.count(), browse.requests);
  EXPECT_EQ(browse.failed + buy.failed, 0u);
  // A pass of browse is two requests, of buy one; the last pass of a user may be cut short.
  EXPECT_LE(buy.requests, buy.iterations);
  EXPECT_LE(browse.requests, 2 * browse.iterations);
  std::lock_guard lock(server.mutex);
  EXPECT_TRUE(server.seen.count("/a") && server.seen.count("/b") && server.seen.count("/buy"));
}

// Two one-step scenarios, /one and /two, of equal weight.
std::shared_ptr<const Scenario> one_two_mix() {
  auto scenario = Scenario::parse(
      "scenarios:\n  - {name: one, weight: 1, steps: [{path: /one}]}\n  - {name: two, weight: 1, steps: [{path: "
      "/two}]}\n");
  EXPECT_TRUE(scenario.ok()) << scenario.error();
  return scenario.ok() ? *scenario : nullptr;
}

TEST(LoadEngine, OpenModelArrivalsDrawTheirScenario) {
  CountingServer server;
  auto o = bounded(server.url());
  o.scenario = one_two_mix();
  o.rate = 2000;
  o.connections = 4;
  o.max_requests = 400;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_EQ(report->scenarios.size(), 2u);
  EXPECT_GT(report->scenarios[0].requests, 0u);
  EXPECT_GT(report->scenarios[1].requests, 0u);
  EXPECT_EQ(report->scenarios[0].requests + report->scenarios[1].requests, report->counters.requests);
  std::lock_guard lock(server.mutex);
  EXPECT_TRUE(server.seen.count("/one") && server.seen.count("/two"));
}

TEST(LoadEngine, OpenModelArrivalsRunAMultiStepScenarioOnceEach) {
  std::atomic<int> first{0}, second{0};
  CountingServer server([&](const net::Request& r) {
    if (r.target == "/a") ++first;
    if (r.target.starts_with("/b")) ++second;
    return net::Response::text(200, r.target == "/a" ? R"({"id":"7"})" : "ok");
  });
  auto scenario = Scenario::parse("steps:\n  - {path: /a, extract: {id: {json: /id}}}\n  - {path: '/b?id=${id}'}\n");
  ASSERT_TRUE(scenario.ok()) << scenario.error();
  auto o = bounded(server.url());
  o.scenario = *scenario;
  o.rate = 200;
  o.connections = 4;
  o.duration = 1s;  // ~200 sessions; the run ends on its duration
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(report->model, Model::open);
  // Every session sends /a, then /b with what /a answered; at the end a few have sent only /a (on
  // a busy machine, more of them: arrivals that queued behind a stall of the generator).
  EXPECT_GT(first.load(), 100);
  EXPECT_GE(first.load(), second.load());
  EXPECT_GT(second.load(), first.load() / 2);
  EXPECT_EQ(report->counters.requests, static_cast<std::uint64_t>(first.load() + second.load()));
  EXPECT_EQ(report->counters.error_rate(), 0.0);
  std::lock_guard lock(server.mutex);
  EXPECT_TRUE(server.seen.count("/b?id=7")) << "the second step used the value extracted by the first";
}

TEST(LoadEngine, OpenModelArrivalsBeyondTheSessionCapAreDropped) {
  std::atomic<int> first{0}, second{0};
  CountingServer server([&](const net::Request& r) {
    if (r.target == "/a") ++first;
    if (r.target == "/b") ++second;
    return net::Response::text(200, "ok");
  });
  // The one session allowed thinks for a minute after /a, so every later arrival finds no slot.
  auto scenario = Scenario::parse("steps:\n  - {path: /a, think: 1m}\n  - {path: /b}\n");
  ASSERT_TRUE(scenario.ok()) << scenario.error();
  auto o = bounded(server.url());
  o.scenario = *scenario;
  o.rate = 1000;
  o.connections = 2;
  o.max_sessions = 1;
  o.duration = 2s;  // ~2000 arrivals; the run ends on its duration
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  EXPECT_EQ(first.load(), 1);
  EXPECT_EQ(second.load(), 0);
  EXPECT_EQ(report->counters.requests, 1u);
  EXPECT_GT(report->counters.dropped, 100u);
  EXPECT_EQ(report->users, 1u) << "peak sessions";
}

TEST(LoadEngine, WorkerProcessesReportTheMixToo) {
  CountingServer server;
  auto o = bounded(server.url());
  o.scenario = one_two_mix();
  o.vus = 4;
  o.connections = 4;
  o.processes = 2;
  o.max_requests = 200;
  auto report = run_load(o);
  ASSERT_TRUE(report.ok()) << report.error();
  ASSERT_EQ(report->scenarios.size(), 2u);
  EXPECT_EQ(report->scenarios[0].requests + report->scenarios[1].requests, report->counters.requests);
  EXPECT_GT(report->scenarios[0].requests, 0u);
  EXPECT_GT(report->scenarios[1].requests, 0u);
}

TEST(LoadEngine, TlsOptionsNeedAnHttpsUrl) {
  LoadOptions o = bounded("http://127.0.0.1:8080/");
  o.tls.verify = false;
  EXPECT_FALSE(o.validate().ok());
  o.url = "https://127.0.0.1:8443/";
  EXPECT_TRUE(o.validate().ok());
}

TEST(LoadEngine, AnUnreadableCaFileIsAnErrorBeforeSending) {
  LoadOptions o = bounded("https://127.0.0.1:1/");
  o.tls.ca_file = "/nonexistent/ca.pem";
  o.max_requests = 1;
  auto report = run_load(o);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().find("cannot load CA file '/nonexistent/ca.pem'"), std::string::npos) << report.error();
}

// A server in a child process, so the test can freeze it with SIGSTOP.
class ServerProcess {
 public:
  ServerProcess() {
    int ports[2];
    EXPECT_EQ(::pipe(ports), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(ports[0]);
      net::HttpServer server({}, [](const net::Request&) { return net::Response::text(200, "ok"); });
      if (!server.start().ok()) ::_exit(1);
      const int port = server.port();
      if (::write(ports[1], &port, sizeof port) != sizeof port) ::_exit(1);
      // Serve until the parent kills us or dies, but never longer than a minute.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::alarm(60);
      for (;;) ::pause();
    }
    ::close(ports[1]);
    if (::read(ports[0], &port_, sizeof port_) != sizeof port_) port_ = 0;
    ::close(ports[0]);
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// The coordinated-omission test: while the server is frozen for a second, the open model keeps
// "sending" on schedule, so the reported latency must include the stall. Timing from the actual
// send (the uncorrected view) hides it from p99, because only the few requests in flight saw it.
TEST(LoadEngine, OpenModelLatencyIncludesAServerStall) {
  ServerProcess server;
  ASSERT_GT(server.port(), 0);
  auto o = bounded("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  o.rate = 1000;
  o.connections = 8;
  o.duration = 3s;
  std::atomic<std::uint64_t> seen{0};
  RunHooks hooks;
  hooks.on_tick = [&](const Tick& t) { seen += t.counters.requests; };
  Result<Report> report = Error{"not run"};
  std::thread run([&] { report = run_load(o, hooks); });
  // Freeze once the load is flowing (the first tick reported responses), for one second.
  const bool flowing = testing::wait_until([&] { return seen.load() > 0; }, 5s);
  ::kill(server.pid(), SIGSTOP);
  std::this_thread::sleep_for(1s);  // the fault itself, not a wait for a condition
  ::kill(server.pid(), SIGCONT);
  run.join();
  ASSERT_TRUE(flowing);
  ASSERT_TRUE(report.ok()) << report.error();
  const auto& corrected = report->latency;
  const auto& uncorrected = report->uncorrected_latency;
  EXPECT_GE(corrected.max(), 900'000u) << format_summary(*report);
  EXPECT_GE(corrected.value_at_percentile(99), 500'000u) << format_summary(*report);
  EXPECT_LT(uncorrected.value_at_percentile(99), corrected.value_at_percentile(99)) << format_summary(*report);
}

// The generator itself stalls (a busy machine: here SIGSTOP, longer than its timeout) while the
// server answers. The answers wait in the sockets; they are late responses, not timeouts.
TEST(LoadEngine, AnswersThatArriveWhileTheGeneratorIsFrozenAreNotTimeouts) {
  ServerProcess server;
  ASSERT_GT(server.port(), 0);
  int result[2];
  ASSERT_EQ(::pipe(result), 0);
  const pid_t generator = ::fork();
  if (generator == 0) {
    ::close(result[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::alarm(60);
    auto o = bounded("http://127.0.0.1:" + std::to_string(server.port()) + "/");
    o.connections = 8;
    o.timeout = 250ms;
    o.duration = 4s;
    auto report = run_load(o);
    const std::uint64_t out[2] = {report.ok() ? report->counters.error(ErrorKind::timeout) : UINT64_MAX,
                                  report.ok() ? report->counters.requests : 0};
    ::_exit(::write(result[1], out, sizeof out) == sizeof out ? 0 : 1);
  }
  ::close(result[1]);
  // Five freezes of 600 ms each: the stall under test, not a wait for a condition.
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(200ms);
    ::kill(generator, SIGSTOP);
    std::this_thread::sleep_for(600ms);
    ::kill(generator, SIGCONT);
  }
  std::uint64_t out[2] = {UINT64_MAX, 0};
  const bool read_all = ::read(result[0], out, sizeof out) == sizeof out;
  ::close(result[0]);
  int status = 0;
  ::waitpid(generator, &status, 0);
  ASSERT_TRUE(read_all);
  EXPECT_GT(out[1], 1000u);
  EXPECT_EQ(out[0], 0u) << "answers that arrived in time were counted as timeouts";
}

}  // namespace
}  // namespace chaosplus::load
