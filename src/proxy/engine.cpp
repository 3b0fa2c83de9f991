#include "proxy/engine.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <future>
#include <map>
#include <random>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/allowed_hosts.h"
#include "proxy/address.h"
#include "proxy/connection.h"
#include "proxy/event_loop.h"
#include "proxy/pipe_pool.h"
#include "proxy/port_picker.h"
#include "proxy/random.h"

namespace chaosplus::proxy {

namespace {

Error invalid(std::string message) { return {std::move(message), ErrorCode::invalid_argument}; }
Error not_found(std::string message) { return {std::move(message), ErrorCode::not_found}; }
Error conflict(std::string message) { return {std::move(message), ErrorCode::already_exists}; }

// How often a listener that ran out of descriptors tries again when no connection closes.
constexpr auto kStarvedRetry = std::chrono::milliseconds(100);

struct ToxicEntry {
  std::uint64_t id;
  ToxicSpec spec;
  // Shared with the toxic's stages and HTTP rules on every connection, so a connection that closes
  // leaves its counts behind; stays with the toxic through updates of its settings.
  std::shared_ptr<ToxicCounters> counters = std::make_shared<ToxicCounters>();
};

// Resolved addresses of a proxy, computed off the loop (name resolution may block).
struct Endpoints {
  std::optional<SocketAddress> listen;
  std::optional<SocketAddress> upstream;
};

}  // namespace

struct Engine::Impl final : ConnectionHost {
  struct Proxy;

  class Listener final : public EventLoop::Watcher {
   public:
    Listener(Impl& impl, Proxy& proxy) : impl_(impl), proxy_(proxy) {}
    void on_ready(std::uint32_t) override { impl_.accept_all(proxy_); }

   private:
    Impl& impl_;
    Proxy& proxy_;
  };

  struct Proxy {
    std::uint64_t id = 0;
    std::string name;
    std::string upstream;  // as given
    SocketAddress listen_address;
    SocketAddress upstream_address;
    bool enabled = false;
    std::vector<ToxicEntry> toxics;
    net::Fd listener;
    std::unique_ptr<Listener> watcher;
    std::unordered_set<std::uint64_t> connections;
    // Out of descriptors: clients wait in the backlog until a connection closes or the retry.
    bool starved = false;
    TimePoint retry_at = TimePoint::max();
  };

  Options options;
  std::uint64_t seed;
  FastRandom random;
  std::unique_ptr<EventLoop> event_loop;
  std::vector<char> read_buffer;
  std::unique_ptr<PipePool> pipe_pool;
  PortPicker ports;  // for port-0 listeners; the kernel's own search slows down as ports fill
  std::map<std::string, std::unique_ptr<Proxy>> proxies;
  std::unordered_map<std::uint64_t, Proxy*> proxies_by_id;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections;
  std::vector<std::unique_ptr<Connection>> graveyard;
  std::vector<std::uint64_t> deferred;
  std::uint64_t next_id = 1;
  std::uint64_t accepted = 0;
  bool retry_accepts = false;  // a connection freed its descriptors while a listener starved
  // The starved proxies, so a closing connection need not look at every proxy.
  std::unordered_set<Proxy*> starved_proxies;
  HttpCounters http;
  std::thread thread;

  Impl(Options o, std::uint64_t s, std::unique_ptr<EventLoop> loop)
      : options(o), seed(s), random(s), event_loop(std::move(loop)), read_buffer(o.read_size) {
    if (o.splice_pipes > 0) pipe_pool = std::make_unique<PipePool>(o.splice_pipes, o.pipe_size);
  }

  // ConnectionHost
  EventLoop& loop() override { return *event_loop; }
  std::span<char> scratch() override { return read_buffer; }
  std::size_t max_buffered() const override { return options.max_buffered_bytes; }
  void finished(Connection& connection) override {
    auto it = connections.find(connection.id());
    if (it == connections.end()) return;
    if (auto p = proxies_by_id.find(connection.proxy_id()); p != proxies_by_id.end()) {
      p->second->connections.erase(connection.id());
    }
    graveyard.push_back(std::move(it->second));
    connections.erase(it);
    if (!retry_accepts && any_starved()) {
      retry_accepts = true;  // accepting here could recurse into a connection mid-call
      event_loop->wake_soon();
    }
  }
  void defer(Connection& connection) override {
    deferred.push_back(connection.id());
    event_loop->wake_soon();
  }
  HttpCounters& http_counters() override { return http; }
  PipePool* pipes() override { return pipe_pool.get(); }

  // Runs `f` on the loop thread and waits for its result.
  template <typename F>
  std::invoke_result_t<F&> call(F f) {
    using R = std::invoke_result_t<F&>;
    if (event_loop->in_loop_thread()) return f();
    auto task = std::make_shared<std::packaged_task<R()>>(std::move(f));
    auto future = task->get_future();
    event_loop->post([task] { (*task)(); });
    return future.get();
  }

  void on_timer(std::uint64_t key, TimePoint when) {
    if (auto it = connections.find(key); it != connections.end()) {
      it->second->on_timer(when, std::chrono::steady_clock::now());
      return;
    }
    // Proxies and connections take their ids from one counter, so a key names one or the other.
    if (auto p = proxies_by_id.find(key); p != proxies_by_id.end() && p->second->retry_at == when) {
      p->second->retry_at = TimePoint::max();
      if (p->second->starved) accept_all(*p->second);
    }
  }

  bool any_starved() const { return !starved_proxies.empty(); }

  void set_starved(Proxy& proxy, bool value) {
    proxy.starved = value;
    if (value) {
      starved_proxies.insert(&proxy);
    } else {
      starved_proxies.erase(&proxy);
    }
  }

  void on_turn() {
    graveyard.clear();
    if (retry_accepts) {
      retry_accepts = false;
      std::vector<Proxy*> waiting(starved_proxies.begin(), starved_proxies.end());  // accepting changes the set
      for (auto* proxy : waiting) accept_all(*proxy);
    }
    if (deferred.empty()) return;
    std::vector<std::uint64_t> ids;
    ids.swap(deferred);
    auto now = std::chrono::steady_clock::now();
    for (auto id : ids) {
      if (auto it = connections.find(id); it != connections.end()) it->second->service(now);
    }
  }

  std::unique_ptr<ToxicStage> stage_for(const ToxicEntry& toxic, TimePoint now) {
    double roll = random.unit();
    return draw_stage(toxic.id, toxic.spec, roll, random.next(), now, toxic.counters);
  }

  // Out of descriptors (or kernel memory): the clients stay queued in the backlog. They are taken
  // when a connection closes, and, for descriptors freed elsewhere in the process (the API's own
  // sockets), by a retry every kStarvedRetry while the listener stays starved.
  void starve(Proxy& proxy) {
    set_starved(proxy, true);
    if (proxy.retry_at != TimePoint::max()) return;
    proxy.retry_at = std::chrono::steady_clock::now() + kStarvedRetry;
    event_loop->set_timer(proxy.id, proxy.retry_at);
  }

  static bool out_of_resources(int error) {
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
  }

  void accept_all(Proxy& proxy) {
    // Edge-triggered: accept until the backlog is empty. A proxied connection needs two
    // descriptors, so the upstream socket is made before the client is taken off the backlog:
    // a client is accepted only when both exist, never accepted and dropped for want of the second.
    if (proxy.starved && pipe_pool) pipe_pool->release_idle();  // descriptors for clients first
    set_starved(proxy, false);
    net::Fd spare;  // the upstream socket for the next client
    while (proxy.listener.valid()) {
      if (!spare.valid()) {
        auto made = stream_socket(proxy.upstream_address);
        if (!made) {
          starve(proxy);
          return;
        }
        spare = std::move(made).value();
      }
      int fd = ::accept4(proxy.listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (out_of_resources(errno)) starve(proxy);
        return;  // EAGAIN: the backlog is empty
      }
      net::Fd client(fd);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      net::Fd upstream = std::exchange(spare, net::Fd{});  // spare is made anew on the next turn
      // A failed connect closes the client: that tells it the upstream is unreachable.
      if (!begin_connect(upstream.get(), proxy.upstream_address)) continue;
      auto now = std::chrono::steady_clock::now();
      auto id = next_id++;
      auto connection = std::make_unique<Connection>(*this, id, proxy.id, std::move(client), std::move(upstream),
                                                     now + options.connect_timeout);
      for (const auto& toxic : proxy.toxics) {
        if (is_http(toxic.spec.type)) {
          connection->attach_http_toxic(toxic.id, toxic.spec, random.next(), toxic.counters);
        } else {
          connection->attach_stage(toxic.spec.stream, stage_for(toxic, now));
        }
      }
      if (!connection->start()) continue;
      Connection& raw = *connection;
      connections.emplace(id, std::move(connection));
      proxy.connections.insert(id);
      ++accepted;
      raw.service(now);
    }
  }

  Status start_listening(Proxy& proxy) {
    if (proxy.listener.valid()) return ok_status();
    auto fd = ports.listen(proxy.listen_address, options.reuse_port);
    if (!fd) return Error{fd.error()};
    auto bound = local_address(fd->get());
    if (!bound) return Error{bound.error()};
    proxy.listen_address = *bound;  // port 0 becomes the real port, kept for re-enabling
    proxy.listener = std::move(fd).value();
    proxy.watcher = std::make_unique<Listener>(*this, proxy);
    if (auto s = event_loop->watch(proxy.listener.get(), EPOLLIN, proxy.watcher.get()); !s) {
      proxy.listener.reset();
      return s;
    }
    accept_all(proxy);  // connections that raced the registration
    return ok_status();
  }

  void stop_listening(Proxy& proxy) {
    if (proxy.listener.valid()) event_loop->unwatch(proxy.listener.get());
    proxy.listener.reset();
    set_starved(proxy, false);
    auto ids = proxy.connections;
    for (auto id : ids) {
      if (auto it = connections.find(id); it != connections.end()) it->second->close(false);
    }
  }

  template <typename Apply>
  void each_connection(Proxy& proxy, Apply apply) {
    auto ids = proxy.connections;  // applying may close (and unlist) a connection
    for (auto id : ids) {
      if (auto it = connections.find(id); it != connections.end()) apply(*it->second);
    }
  }

  void add_toxic(Proxy& proxy, ToxicEntry entry) {
    auto now = std::chrono::steady_clock::now();
    proxy.toxics.push_back(entry);
    if (is_http(entry.spec.type)) {
      each_connection(
          proxy, [&](Connection& c) { c.add_http_toxic(entry.id, entry.spec, random.next(), entry.counters, now); });
      return;
    }
    each_connection(proxy, [&](Connection& c) { c.add_stage(entry.spec.stream, stage_for(entry, now), now); });
  }

  void remove_toxic(Proxy& proxy, std::size_t index) {
    ToxicEntry entry = proxy.toxics[index];
    proxy.toxics.erase(proxy.toxics.begin() + static_cast<std::ptrdiff_t>(index));
    auto now = std::chrono::steady_clock::now();
    if (is_http(entry.spec.type)) {
      each_connection(proxy, [&](Connection& c) { c.remove_http_toxic(entry.id, now); });
      return;
    }
    each_connection(proxy, [&](Connection& c) { c.remove_stage(entry.spec.stream, entry.id, now); });
  }

  Proxy* find(const std::string& name) {
    auto it = proxies.find(name);
    return it == proxies.end() ? nullptr : it->second.get();
  }

  static ProxyView view(const Proxy& proxy) {
    ProxyView out{proxy.name, proxy.listen_address.to_string(), proxy.upstream, proxy.enabled, {}};
    for (const auto& t : proxy.toxics) out.toxics.push_back(t.spec);
    return out;
  }

  Result<Endpoints> resolve_endpoints(const std::optional<std::string>& listen,
                                      const std::optional<std::string>& upstream) const {
    Endpoints out;
    if (listen) {
      auto parsed = parse_host_port(*listen);
      if (!parsed) return invalid("listen " + parsed.error());
      auto address = resolve(*parsed);
      if (!address) return invalid("listen address: " + address.error());
      if (options.loopback_only && !allowed_hosts().allows_address(address->storage)) {
        return invalid("listen address '" + *listen + "' is not on the allow-list; " + allow_hint());
      }
      out.listen = *address;
    }
    if (upstream) {
      auto parsed = parse_host_port(*upstream);
      if (!parsed) return invalid("upstream " + parsed.error());
      if (parsed->port == 0) return invalid("upstream '" + *upstream + "' needs a port from 1 to 65535");
      auto address = resolve(*parsed);
      if (!address) return invalid("upstream address: " + address.error());
      // The API must not become a way to make this host open connections elsewhere.
      if (options.loopback_only && !allowed_hosts().allows_address(address->storage)) {
        return invalid("upstream '" + *upstream + "' is not on the allow-list; " + allow_hint());
      }
      out.upstream = *address;
    }
    return out;
  }
};

Result<std::unique_ptr<Engine>> Engine::start(Options options) {
  auto loop = EventLoop::create();
  if (!loop) return Error{"cannot start the proxy event loop: " + loop.error()};
  std::uint64_t seed = options.seed;
  if (seed == 0) {
    std::random_device device;
    seed = (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }
  auto impl = std::make_unique<Impl>(options, seed, std::move(loop).value());
  Impl* raw = impl.get();
  raw->event_loop->on_timer([raw](std::uint64_t key, TimePoint when) { raw->on_timer(key, when); });
  raw->event_loop->on_turn([raw] { raw->on_turn(); });
  raw->thread = std::thread([raw] {
    // splice(2) into a socket whose peer is gone raises SIGPIPE (it has no MSG_NOSIGNAL); the
    // error return is what the loop acts on.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    raw->event_loop->run();
  });
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  impl_->call([this] {
    for (auto& [name, proxy] : impl_->proxies) impl_->stop_listening(*proxy);
    impl_->graveyard.clear();
  });
  impl_->event_loop->stop();
  impl_->thread.join();
}

std::uint64_t Engine::seed() const { return impl_->seed; }

Result<ProxyView> Engine::create_proxy(const ProxySettings& settings) {
  if (auto s = check_name("proxy name", settings.name); !s) return invalid(s.error());
  if (settings.listen.empty()) return invalid("missing listen address (e.g. 127.0.0.1:0)");
  if (settings.upstream.empty()) return invalid("missing upstream address (host:port)");
  auto endpoints = impl_->resolve_endpoints(settings.listen, settings.upstream);
  if (!endpoints.ok()) return endpoints.failure();
  return impl_->call([&]() -> Result<ProxyView> {
    if (impl_->find(settings.name)) return conflict("proxy '" + settings.name + "' already exists");
    auto proxy = std::make_unique<Impl::Proxy>();
    proxy->id = impl_->next_id++;
    proxy->name = settings.name;
    proxy->upstream = settings.upstream;
    proxy->listen_address = *endpoints.value().listen;
    proxy->upstream_address = *endpoints.value().upstream;
    proxy->enabled = settings.enabled;
    if (proxy->enabled) {
      if (auto s = impl_->start_listening(*proxy); !s) return invalid(s.error());
    }
    auto* raw = proxy.get();
    impl_->proxies_by_id[raw->id] = raw;
    impl_->proxies[raw->name] = std::move(proxy);
    return Impl::view(*raw);
  });
}

Result<ProxyView> Engine::update_proxy(const std::string& name, const ProxyUpdate& update) {
  auto endpoints = impl_->resolve_endpoints(update.listen, update.upstream);
  if (!endpoints.ok()) return endpoints.failure();
  return impl_->call([&]() -> Result<ProxyView> {
    auto* proxy = impl_->find(name);
    if (!proxy) return not_found("proxy '" + name + "' not found");
    const auto& resolved = endpoints.value();
    bool moved = (resolved.listen && resolved.listen->to_string() != proxy->listen_address.to_string()) ||
                 (resolved.upstream && resolved.upstream->to_string() != proxy->upstream_address.to_string());
    bool enabled = update.enabled.value_or(proxy->enabled);
    // Like Toxiproxy, a new address restarts the proxy: its connections end.
    if (moved || !enabled) impl_->stop_listening(*proxy);
    if (resolved.listen) proxy->listen_address = *resolved.listen;
    if (resolved.upstream) {
      proxy->upstream_address = *resolved.upstream;
      proxy->upstream = *update.upstream;
    }
    proxy->enabled = enabled;
    if (enabled) {
      if (auto s = impl_->start_listening(*proxy); !s) {
        proxy->enabled = false;
        return invalid(s.error());
      }
    }
    return Impl::view(*proxy);
  });
}

Result<Ok> Engine::delete_proxy(const std::string& name) {
  return impl_->call([&]() -> Result<Ok> {
    auto* proxy = impl_->find(name);
    if (!proxy) return not_found("proxy '" + name + "' not found");
    impl_->stop_listening(*proxy);
    impl_->proxies_by_id.erase(proxy->id);
    impl_->proxies.erase(name);
    return Ok{};
  });
}

Result<ProxyView> Engine::proxy(const std::string& name) {
  return impl_->call([&]() -> Result<ProxyView> {
    auto* proxy = impl_->find(name);
    if (!proxy) return not_found("proxy '" + name + "' not found");
    return Impl::view(*proxy);
  });
}

std::vector<ProxyView> Engine::proxies() {
  return impl_->call([&] {
    std::vector<ProxyView> out;
    for (const auto& [name, proxy] : impl_->proxies) out.push_back(Impl::view(*proxy));
    return out;
  });
}

Result<ToxicSpec> Engine::add_toxic(const std::string& proxy_name, const ToxicSpec& toxic) {
  return impl_->call([&]() -> Result<ToxicSpec> {
    auto* proxy = impl_->find(proxy_name);
    if (!proxy) return not_found("proxy '" + proxy_name + "' not found");
    for (const auto& t : proxy->toxics) {
      if (t.spec.name == toxic.name) {
        return conflict("toxic '" + toxic.name + "' already exists on proxy '" + proxy_name + "'");
      }
    }
    impl_->add_toxic(*proxy, {impl_->next_id++, toxic});
    return toxic;
  });
}

Result<ToxicCounters> Engine::toxic_stats(const std::string& proxy_name, const std::string& toxic) {
  return impl_->call([&]() -> Result<ToxicCounters> {
    auto* proxy = impl_->find(proxy_name);
    if (!proxy) return not_found("proxy '" + proxy_name + "' not found");
    for (const auto& t : proxy->toxics) {
      if (t.spec.name == toxic) return *t.counters;
    }
    return not_found("toxic '" + toxic + "' not found on proxy '" + proxy_name + "'");
  });
}

Result<ToxicSpec> Engine::update_toxic(const std::string& proxy_name, const ToxicSpec& toxic) {
  return impl_->call([&]() -> Result<ToxicSpec> {
    auto* proxy = impl_->find(proxy_name);
    if (!proxy) return not_found("proxy '" + proxy_name + "' not found");
    for (std::size_t i = 0; i < proxy->toxics.size(); ++i) {
      auto& entry = proxy->toxics[i];
      if (entry.spec.name != toxic.name) continue;
      if (entry.spec.type != toxic.type || entry.spec.stream != toxic.stream) {
        // Another kind of toxic or direction: a new toxic in place of the old one.
        impl_->remove_toxic(*proxy, i);
        impl_->add_toxic(*proxy, {impl_->next_id++, toxic});
        return toxic;
      }
      entry.spec = toxic;
      auto now = std::chrono::steady_clock::now();
      ToxicEntry copy = entry;
      impl_->each_connection(*proxy, [&](Connection& c) {
        if (is_http(copy.spec.type)) {
          c.update_http_toxic(copy.id, copy.spec, now);
        } else {
          c.update_stage(copy.spec.stream, copy.id, copy.spec, now);
        }
      });
      return toxic;
    }
    return not_found("toxic '" + toxic.name + "' not found on proxy '" + proxy_name + "'");
  });
}

Result<Ok> Engine::remove_toxic(const std::string& proxy_name, const std::string& toxic) {
  return impl_->call([&]() -> Result<Ok> {
    auto* proxy = impl_->find(proxy_name);
    if (!proxy) return not_found("proxy '" + proxy_name + "' not found");
    for (std::size_t i = 0; i < proxy->toxics.size(); ++i) {
      if (proxy->toxics[i].spec.name == toxic) {
        impl_->remove_toxic(*proxy, i);
        return Ok{};
      }
    }
    return not_found("toxic '" + toxic + "' not found on proxy '" + proxy_name + "'");
  });
}

Result<ToxicSpec> Engine::toxic(const std::string& proxy_name, const std::string& toxic) {
  return impl_->call([&]() -> Result<ToxicSpec> {
    auto* proxy = impl_->find(proxy_name);
    if (!proxy) return not_found("proxy '" + proxy_name + "' not found");
    for (const auto& t : proxy->toxics) {
      if (t.spec.name == toxic) return t.spec;
    }
    return not_found("toxic '" + toxic + "' not found on proxy '" + proxy_name + "'");
  });
}

Result<Ok> Engine::reset() {
  return impl_->call([&]() -> Result<Ok> {
    std::string errors;
    for (auto& [name, proxy] : impl_->proxies) {
      while (!proxy->toxics.empty()) impl_->remove_toxic(*proxy, 0);
      proxy->enabled = true;
      if (auto s = impl_->start_listening(*proxy); !s) {
        proxy->enabled = false;
        errors += (errors.empty() ? "" : "; ") + ("proxy '" + name + "': " + s.error());
      }
    }
    // Not the caller's mistake: an address the proxies held was taken meanwhile (a 5xx, not a 4xx).
    if (!errors.empty()) return Error{"could not re-enable every proxy: " + errors, ErrorCode::io_error};
    return Ok{};
  });
}

EngineStats Engine::stats() {
  return impl_->call([&] {
    std::uint64_t spliced = impl_->pipe_pool ? impl_->pipe_pool->moved() : 0;
    return EngineStats{impl_->accepted, impl_->connections.size(), impl_->http, spliced};
  });
}

}  // namespace chaosplus::proxy
