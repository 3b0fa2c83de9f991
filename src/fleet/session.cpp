#include "fleet/session.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <utility>

#include "core/event_json.h"

namespace chaosplus::fleet {
namespace {

using Clock = std::chrono::steady_clock;

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

std::int64_t to_ms(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

struct Session::Impl {
  Settings settings;
  EventBus& bus;
  HaltSwitch& halt;
  std::unique_ptr<etcd::Client> client;
  std::int64_t lease = 0;
  std::unique_ptr<etcd::LeaseKeeper> keeper;
  std::unique_ptr<etcd::Watch> replies_watch;
  std::unique_ptr<etcd::Watch> events_watch;
  std::atomic<std::int64_t> next_seq{1};
  bool closed = false;

  std::mutex mutex;
  std::condition_variable arrived;
  std::map<std::pair<std::string, std::int64_t>, Reply> replies;  // (agent, seq), guarded by mutex

  Impl(Settings s, EventBus& b, HaltSwitch& h) : settings(std::move(s)), bus(b), halt(h) {}

  void on_reply(const etcd::KeyValue& kv) {
    // /chaosplus/reply/<run>/<agent>/<seq>
    const auto parts = keys::split(kv.key);
    if (parts.size() < 4) return;
    auto reply = reply_from_json(kv.value);
    if (!reply) return;
    {
      std::lock_guard lock(mutex);
      replies[{parts[2], reply->seq}] = std::move(reply).value();
    }
    arrived.notify_all();
  }

  // An agent's event, on the run's stream as it was with the agent's name added: the agents
  // publish what concerns their part only (their targets, and faults they reverted on their own),
  // never fault.injected or fault.reverted, which the controller publishes itself.
  void on_agent_event(const etcd::KeyValue& kv) {
    const auto parts = keys::split(kv.key);  // {"events", run, agent, seq}
    if (parts.size() < 4) return;
    auto event = parse_event_json(kv.value);
    if (!event) return;
    Event forwarded(event->type);
    forwarded.with("agent", parts[2]);
    for (auto& [key, value] : event->fields) {
      if (key != "agent") forwarded.fields.emplace_back(key, value);
    }
    bus.publish(std::move(forwarded));
  }
};

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() { close(); }

Result<std::unique_ptr<Session>> Session::open(Settings settings, EventBus& bus, HaltSwitch& halt) {
  auto impl = std::make_unique<Impl>(std::move(settings), bus, halt);
  auto client = etcd::Client::connect(impl->settings.etcd);
  if (!client) return Error{"etcd: " + client.error(), client.code()};
  impl->client = std::move(client).value();
  auto lease = impl->client->grant_lease(impl->settings.ttl);
  if (!lease) return Error{"etcd: cannot grant the run lease: " + lease.error(), lease.code()};
  impl->lease = *lease;

  RunInfo info;
  info.run = impl->settings.run;
  info.experiment = impl->settings.experiment;
  info.controller_host = host_name();
  info.controller_pid = ::getpid();
  info.lease = impl->lease;
  info.ttl_ms = to_ms(impl->settings.ttl);
  if (auto put = impl->client->put(keys::live(info.run), to_json(info), impl->lease); !put) {
    (void)impl->client->revoke_lease(impl->lease);
    return Error{"etcd: cannot write the run's live key: " + put.error(), put.code()};
  }
  Impl* raw = impl.get();
  impl->keeper = std::make_unique<etcd::LeaseKeeper>(
      *impl->client, impl->lease, impl->settings.ttl,
      [raw](const std::string& why) { raw->halt.trigger("lost the run lease: " + why); });
  impl->replies_watch =
      impl->client->watch_prefix(keys::reply_prefix(info.run), 0, [raw](const std::vector<etcd::WatchEvent>& events) {
        for (const auto& e : events) {
          if (e.type == etcd::WatchEvent::Type::put) raw->on_reply(e.kv);
        }
      });
  impl->events_watch =
      impl->client->watch_prefix(keys::events_prefix(info.run), 0, [raw](const std::vector<etcd::WatchEvent>& events) {
        for (const auto& e : events) {
          if (e.type == etcd::WatchEvent::Type::put) {
            raw->on_agent_event(e.kv);
          }
        }
      });
  return std::unique_ptr<Session>(new Session(std::move(impl)));
}

etcd::Client& Session::client() { return *impl_->client; }
const std::string& Session::run() const { return impl_->settings.run; }
std::int64_t Session::lease() const { return impl_->lease; }
Duration Session::ttl() const { return impl_->settings.ttl; }

Result<std::vector<AgentInfo>> Session::agents() {
  auto kvs = impl_->client->get_prefix(keys::agents_prefix());
  if (!kvs) return Error{"etcd: cannot list the agents: " + kvs.error(), kvs.code()};
  std::vector<AgentInfo> out;
  for (const auto& kv : *kvs) {
    if (auto agent = agent_from_json(kv.value)) out.push_back(std::move(agent).value());
  }
  return out;
}

Result<std::int64_t> Session::send(const std::string& agent, Command command) {
  command.run = impl_->settings.run;
  command.seq = impl_->next_seq.fetch_add(1);
  command.lease = impl_->lease;
  if (command.ttl_ms == 0) command.ttl_ms = to_ms(impl_->settings.ttl);
  auto put = impl_->client->put(keys::work(agent, command.run, command.seq), to_json(command), impl_->lease);
  if (!put) {
    return Error{"etcd: cannot send " + to_string(command.op) + " to agent " + agent + ": " + put.error(), put.code()};
  }
  return command.seq;
}

Result<Reply> Session::await(const std::string& agent, std::int64_t seq, Duration timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto key = std::make_pair(agent, seq);
  for (;;) {
    {
      std::unique_lock lock(impl_->mutex);
      // A watch that broke and reopened loses nothing, but a slice of waiting is followed by a read
      // of the key itself, so a reply is found even while the stream is down.
      impl_->arrived.wait_until(lock, std::min(deadline, Clock::now() + std::chrono::seconds(1)),
                                [&] { return impl_->replies.contains(key); });
      if (auto it = impl_->replies.find(key); it != impl_->replies.end()) return it->second;
    }
    if (auto kv = impl_->client->get(keys::reply(impl_->settings.run, agent, seq)); kv && *kv) {
      if (auto reply = reply_from_json((*kv)->value)) return std::move(reply).value();
    }
    if (Clock::now() >= deadline) {
      return Error{
          "agent " + agent + " did not answer command " + std::to_string(seq) + " within " + format_duration(timeout),
          ErrorCode::timeout};
    }
  }
}

Result<Reply> Session::call(const std::string& agent, Command command, Duration timeout) {
  const std::string op = to_string(command.op);
  auto seq = send(agent, std::move(command));
  if (!seq) return seq.failure();
  auto reply = await(agent, *seq, timeout);
  if (!reply) return Error{op + ": " + reply.error(), reply.code()};
  return reply;
}

void Session::close() {
  if (!impl_ || impl_->closed) return;
  impl_->closed = true;
  impl_->replies_watch.reset();
  impl_->events_watch.reset();
  impl_->keeper.reset();
  (void)impl_->client->revoke_lease(impl_->lease);
  // A fault an agent reverted is done with; one it could not revert keeps its status, so that
  // `recover` (fleet/remote_fault.h) can still say where it is.
  if (auto statuses = impl_->client->get_prefix(keys::status_prefix(impl_->settings.run))) {
    for (const auto& kv : *statuses) {
      auto status = status_from_json(kv.value);
      if (status && status->state == "reverted") (void)impl_->client->erase(kv.key);
    }
  }
}

}  // namespace chaosplus::fleet
