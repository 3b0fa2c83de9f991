#pragma once
// A throw-away PostgreSQL server for tests: initdb -k (data checksums) as the postgres user into a
// fresh directory, started with pg_ctl on a free port of one loopback address, trust authentication,
// stopped and deleted by the destructor. For tests that need one server, not the Patroni lab.
//
//   PostgresInstance pg;
//   ASSERT_TRUE(pg.ok()) << pg.error();
//   auto conn = db::Connection::open(pg.conninfo(), 5s);
#include <sys/types.h>

#include <string>
#include <vector>

namespace chaosplus::testing {

class PostgresInstance {
 public:
  struct Options {
    std::string address = "127.0.0.1";  // listen_addresses (a loopback address)
    std::vector<std::string> settings;  // extra "name=value" server settings (-c)
  };

  PostgresInstance();
  explicit PostgresInstance(Options options);
  ~PostgresInstance();  // stops the server (immediate) and removes its directory
  PostgresInstance(const PostgresInstance&) = delete;
  PostgresInstance& operator=(const PostgresInstance&) = delete;

  // "" when this machine cannot run one (not root, no PostgreSQL binaries): the reason to skip.
  static std::string unavailable();

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // what failed (with the server log's tail)

  const std::string& address() const { return options_.address; }
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  // "host=127.0.0.1 port=N user=postgres dbname=postgres" plus `extra` ("connect_timeout=2").
  std::string conninfo(const std::string& extra = {}) const;

  // Runs SQL with psql (as a separate client); returns its output (unaligned, tuples only) or
  // "ERROR: ..." on failure.
  std::string psql(const std::string& sql) const;

  bool stop(const std::string& mode = "fast");  // pg_ctl stop -m mode; true when stopped
  bool start();                                 // pg_ctl start -w again after stop()
  pid_t postmaster_pid() const;                 // from postmaster.pid; 0 when not running

 private:
  bool run(const std::vector<std::string>& argv, std::string* output = nullptr) const;
  std::string log_tail() const;

  Options options_;
  std::string bin_dir_;
  std::string root_;  // the directory we created (data dir inside)
  std::string data_dir_;
  int port_ = 0;
  bool running_ = false;
  std::string error_;
};

}  // namespace chaosplus::testing
