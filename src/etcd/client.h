#pragma once
// A client of etcd v3 through its JSON gateway (`/v3/...` on every member's client port, base64 keys
// and values), over libcurl: key/value, transactions, leases and watches, with failover across the
// cluster's members. The coordination engine of agents and distributed load (docs/agents.md); etcd
// is the store Kubernetes and Patroni use, so we write no protocol of our own.
//
// Every call is bounded by Options::request_timeout per member tried; an unreachable or leaderless
// member is skipped and the next one tried, so a leader failover costs a retry, not an error. TLS
// (a CA, and a client certificate and key for mutual TLS) and etcd's own users (a token from
// /v3/auth/authenticate, renewed when etcd says it expired) are used when configured.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/units.h"

namespace chaosplus::etcd {

struct Options {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379", "https://10.77.0.11:2379"
  std::string ca_file;                 // PEM of the CA that signed the members' certificates
  std::string cert_file;               // this client's certificate (mutual TLS)
  std::string key_file;                // and its key
  std::string user;                    // etcd authentication, when enabled
  std::string password;
  Duration request_timeout = std::chrono::milliseconds(1500);  // per member tried
};

struct KeyValue {
  std::string key;
  std::string value;
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
  std::int64_t lease = 0;
};

struct WatchEvent {
  enum class Type { put, erase };
  Type type = Type::put;
  KeyValue kv;  // for an erase: the key and mod_revision only
};

class Watch;

class Client {
 public:
  // Checks that at least one member answers (/v3/maintenance/status); an error names every member
  // tried and why it failed.
  static Result<std::unique_ptr<Client>> connect(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Options& options() const;

  // The store's revision after the write.
  Result<std::int64_t> put(const std::string& key, const std::string& value, std::int64_t lease = 0);
  // Writes only if the key does not exist (a transaction on create_revision == 0): false if it did.
  Result<bool> put_if_absent(const std::string& key, const std::string& value, std::int64_t lease = 0);
  Result<std::optional<KeyValue>> get(const std::string& key);
  // Every key starting with `prefix`, in key order; `revision` (when given) gets the store's revision
  // the answer reflects, from which a watch continues without a gap.
  Result<std::vector<KeyValue>> get_prefix(const std::string& prefix, std::int64_t* revision = nullptr);
  Status erase(const std::string& key);
  Status erase_prefix(const std::string& prefix);

  // A new lease of `ttl` (whole seconds, at least 1); its id.
  Result<std::int64_t> grant_lease(Duration ttl);
  // Renews it once; its TTL after the renewal. Error code "not_found" when it has expired or was revoked.
  Result<Duration> keep_alive(std::int64_t lease);
  // Its remaining TTL, or nullopt when it has expired or was revoked.
  Result<std::optional<Duration>> lease_remaining(std::int64_t lease);
  Status revoke_lease(std::int64_t lease);

  using OnEvents = std::function<void(const std::vector<WatchEvent>&)>;
  using OnError = std::function<void(const std::string&)>;
  // Watches every key under `prefix` from `start_revision` (0: from now) on its own thread: `on_events`
  // gets each batch in order. A broken stream is reopened on the next member from the last revision
  // seen (no event lost or repeated); `on_error` hears of each break. Stops when the Watch is destroyed.
  std::unique_ptr<Watch> watch_prefix(const std::string& prefix, std::int64_t start_revision, OnEvents on_events,
                                      OnError on_error = {});

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Watch;
  friend class LeaseKeeper;
};

class Watch {
 public:
  ~Watch();  // stops the stream and joins its thread
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;
  void stop();
  // True while a stream is open and etcd has confirmed the watch was created.
  bool streaming() const;

  struct Impl;
  explicit Watch(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Keeps a lease alive on its own thread, renewing every ttl/3 (and retrying sooner after a failure).
// `on_lost` is called once when etcd says the lease is gone, or when no renewal succeeded for a whole
// TTL (then it may still exist, but nobody can count on it).
class LeaseKeeper {
 public:
  LeaseKeeper(Client& client, std::int64_t lease, Duration ttl, std::function<void(const std::string& why)> on_lost);
  ~LeaseKeeper();  // stops renewing (does not revoke)
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;
  std::int64_t lease() const { return lease_; }
  bool lost() const;

 private:
  struct Impl;
  std::int64_t lease_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chaosplus::etcd
