#include "writes/workload.h"

#include <algorithm>
#include <charconv>

#include "db/patroni.h"
#include "db/pg_client.h"

namespace chaosplus::writes {
namespace {

constexpr Duration kPrepareTimeout = std::chrono::seconds(10);
constexpr Duration kReadBackQueryTimeout = std::chrono::seconds(30);
constexpr Duration kReadBackPause = std::chrono::milliseconds(500);
constexpr Duration kPrimaryAskTimeout = std::chrono::milliseconds(500);
constexpr std::size_t kMaxSamples = 1'000'000;  // 10 a second for 3 members: over 9 hours

std::string describe(const db::QueryError& e) {
  return e.sqlstate.empty() ? e.message : e.sqlstate + ": " + e.message;
}

}  // namespace

Workload::Workload(WorkloadOptions options) : options_(std::move(options)) {}

Workload::~Workload() {
  stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

Status Workload::prepare() {
  auto opened = db::Connection::open(options_.dsn, kPrepareTimeout);
  if (!opened) return Error{"connect: " + opened.error(), ErrorCode::unavailable};
  const std::string create = "CREATE TABLE IF NOT EXISTS " + options_.table +
                             " (id bigint PRIMARY KEY, client int, at timestamptz DEFAULT now())";
  auto created = (*opened)->query(create, {}, kPrepareTimeout);
  if (auto* e = std::get_if<db::QueryError>(&created)) return Error{create + ": " + describe(*e), ErrorCode::io_error};
  // Ids of this run start at the wall clock's milliseconds times a million: unique across runs
  // into the same table (a run writes at most kMaxWrites), so the read-back sees only this run's.
  // Two workloads of one process started in the same millisecond take the next range.
  static std::atomic<std::int64_t> last_base{0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  std::int64_t base = static_cast<std::int64_t>(ms) * kMaxWrites;
  std::int64_t last = last_base.load();
  do {
    base = std::max(base, last + kMaxWrites);
  } while (!last_base.compare_exchange_weak(last, base));
  base_ = base;
  const double planned = options_.rate * std::chrono::duration<double>(options_.duration).count();
  slots_ = std::clamp<std::int64_t>(static_cast<std::int64_t>(planned) + 1, 1, kMaxWrites);
  return ok_status();
}

void Workload::start() {
  started_ = Clock::now();
  running_ = true;
  for (int c = 0; c < options_.clients; ++c) threads_.emplace_back([this, c] { run_client(c); });
  for (const std::string& api : options_.patroni) threads_.emplace_back([this, api] { poll_member(api); });
}

void Workload::stop() {
  running_ = false;
  stop_.trigger("writes stopped");
}

void Workload::note_fault(const std::string& summary) {
  if (!running_) return;
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  faults_.push_back(FaultMark{summary, now, std::nullopt});
}

void Workload::run_client(int client) {
  const int clients = options_.clients;
  const auto interval = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / options_.rate));
  const std::string insert = "INSERT INTO " + options_.table + " (id, client) VALUES ($1, $2)";
  std::unique_ptr<db::Connection> connection;
  for (std::int64_t slot = client; slot < slots_; slot += clients) {
    auto now = Clock::now();
    // Open model: a client held up by a slow attempt skips the slots it missed (counted) instead of
    // sending them in a burst that no real application would send.
    if (now > started_ + interval * slot + interval * clients) {
      const std::int64_t due = (now - started_) / interval + 1;
      const std::int64_t next = due + ((client - due) % clients + clients) % clients;
      skipped_ += (next - slot) / clients;
      slot = next;
      if (slot >= slots_) break;
    }
    const auto intended = started_ + interval * slot;
    if (now < intended && stop_.wait_for(intended - now)) break;
    if (stop_.triggered()) break;

    Attempt a;
    a.id = base_ + slot;
    a.client = client;
    a.invoked = Clock::now();
    if (!connection || connection->broken()) {
      connection.reset();
      // Reconnecting is part of the attempt, paced like it: a failed connect is a failed write.
      auto opened = db::Connection::open(options_.dsn, options_.connect_timeout);
      if (!opened) {
        a.completed = Clock::now();
        a.outcome = Outcome::failed;
        a.error = "connect: " + opened.error();
        std::lock_guard lock(mutex_);
        history_.push_back(std::move(a));
        continue;
      }
      connection = std::move(opened).value();
    }
    auto answer = connection->query(insert, {std::to_string(a.id), std::to_string(client)}, options_.timeout);
    a.completed = Clock::now();
    a.node = connection->host();
    if (const auto* e = std::get_if<db::QueryError>(&answer)) {
      a.outcome = e->failure == db::Failure::unknown ? Outcome::unknown : Outcome::failed;
      a.error = describe(*e);
      // Any error drops the connection: a node demoted under it answers every later insert with
      // "read-only transaction", and a new connect finds the primary again.
      connection.reset();
    } else {
      a.outcome = Outcome::ok;
    }
    std::lock_guard lock(mutex_);
    history_.push_back(std::move(a));
  }
}

void Workload::poll_member(const std::string& api) {
  while (!stop_.triggered()) {
    const bool primary = db::answers_primary(api, kPrimaryAskTimeout);
    {
      std::lock_guard lock(mutex_);
      if (samples_.size() < kMaxSamples) samples_.push_back(PrimarySample{api, Clock::now(), primary});
    }
    if (stop_.wait_for(options_.poll_every)) break;
  }
}

void Workload::read_back(WorkloadResult& result) {
  const auto deadline = Clock::now() + options_.read_back_for;
  const std::string select = "SELECT id FROM " + options_.table + " WHERE id >= $1 AND id < $2";
  for (;;) {
    std::string error;
    auto opened = db::Connection::open(options_.dsn, options_.connect_timeout);
    if (!opened) {
      error = "connect: " + opened.error();
    } else {
      auto answer =
          (*opened)->query(select, {std::to_string(base_), std::to_string(base_ + slots_)}, kReadBackQueryTimeout);
      if (const auto* rows = std::get_if<db::QueryResult>(&answer)) {
        result.present.reserve(rows->rows.size());
        for (const auto& row : rows->rows) {
          if (row.empty() || !row[0]) continue;
          std::int64_t id = 0;
          const std::string& text = *row[0];
          if (std::from_chars(text.data(), text.data() + text.size(), id).ec == std::errc{}) result.present.push_back(id);
        }
        result.read_back_error.clear();
        return;
      }
      error = describe(std::get<db::QueryError>(answer));
    }
    result.read_back_error = error;
    if (Clock::now() + kReadBackPause >= deadline) return;
    std::this_thread::sleep_for(kReadBackPause);  // the cluster is still recovering: ask again soon
  }
}

WorkloadResult Workload::finish() {
  stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
  WorkloadResult r;
  r.started = started_;
  r.skipped = skipped_;
  {
    std::lock_guard lock(mutex_);
    r.history = std::move(history_);
    r.faults = std::move(faults_);
    for (FaultMark& f : r.faults)
      if (!options_.patroni.empty()) f.promoted = promoted_after(samples_, f.injected);
  }
  read_back(r);
  return r;
}

}  // namespace chaosplus::writes
