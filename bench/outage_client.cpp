// An independent witness of a database outage, for bench/db_failover.sh: one client that inserts a
// row every INTERVAL through libpq alone (none of chaosplus's code), reconnecting when its connection
// breaks, and prints one JSON line per attempt with wall-clock times in milliseconds and the id it
// inserted (0 when it could not connect). The benchmark compares the outage it saw with the RTO
// chaosplus reported for the same fault, and reads its acknowledged ids back to count its own losses.
//   chaosplus-outage-client DSN SECONDS [INTERVAL_MS]
// DSN is a libpq string (multi-host, target_session_attrs=read-write); the table
// chaosplus_outage_witness is created if missing. Bounded: stops after SECONDS.
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace {

long long wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool exec_ok(PGconn* conn, const char* sql) {
  PGresult* r = PQexec(conn, sql);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s DSN SECONDS [INTERVAL_MS]\n", argv[0]);
    return 2;
  }
  const std::string dsn = argv[1];
  const auto run_for = std::chrono::seconds(std::atoi(argv[2]));
  const auto interval = std::chrono::milliseconds(argc > 3 ? std::atoi(argv[3]) : 20);
  const auto end = std::chrono::steady_clock::now() + run_for;
  PGconn* conn = nullptr;
  long long id = wall_ms() * 1000;  // unique across runs
  auto next = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_until(next);
    next += interval;
    const long long invoked = wall_ms();
    std::string error;
    long long sent = 0;  // the id of this attempt's insert, 0 when no insert was sent
    if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
      if (conn != nullptr) PQfinish(conn);
      conn = PQconnectdb(dsn.c_str());
      if (PQstatus(conn) != CONNECTION_OK) {
        error = "connect";
      } else {
        exec_ok(conn, "SET statement_timeout = '2s'");
        exec_ok(conn, "CREATE TABLE IF NOT EXISTS chaosplus_outage_witness (id bigint PRIMARY KEY)");
      }
    }
    if (error.empty()) {
      sent = ++id;
      const std::string sql = "INSERT INTO chaosplus_outage_witness VALUES (" + std::to_string(sent) + ")";
      if (!exec_ok(conn, sql.c_str())) error = "insert";
    }
    std::printf("{\"invoked\":%lld,\"completed\":%lld,\"ok\":%s,\"id\":%lld,\"host\":\"%s\"}\n", invoked, wall_ms(),
                error.empty() ? "true" : "false", sent, conn != nullptr && error.empty() ? PQhost(conn) : "");
    std::fflush(stdout);
  }
  if (conn != nullptr) PQfinish(conn);
  return 0;
}
