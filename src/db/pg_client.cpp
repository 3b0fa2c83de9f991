#include "db/pg_client.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <thread>
#include <utility>

#include "core/allowed_hosts.h"
#include "core/loopback.h"

namespace chaosplus::db {
namespace {

using Clock = std::chrono::steady_clock;

struct ConnCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
using PgConn = std::unique_ptr<PGconn, ConnCloser>;

struct ResultClearer {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultClearer>;

struct OptionsFreer {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

struct CancelFreer {
  void operator()(PGcancel* cancel) const { PQfreeCancel(cancel); }
};
using PgCancel = std::unique_ptr<PGcancel, CancelFreer>;

// libpq's messages end in newlines and carry tab-indented hints; one line reads better in a journal.
std::string one_line(const char* text) {
  std::string out;
  bool space = false;
  for (const char* p = text ? text : ""; *p; ++p) {
    if (*p == '\n' || *p == '\t' || *p == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += *p;
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

// The parsed connection string, with the host lists kept apart so each host can be tried on its own.
struct ParsedConninfo {
  std::vector<std::pair<std::string, std::string>> others;  // every set option but host/hostaddr/port
  std::optional<std::string> host, hostaddr, port;
  std::optional<std::string> service;
  std::optional<std::string> connect_timeout;
};

Result<ParsedConninfo> parse_conninfo(std::string_view conninfo) {
  char* message = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsFreer> options(PQconninfoParse(std::string(conninfo).c_str(), &message));
  if (!options) {
    std::string why = message ? one_line(message) : "out of memory";
    PQfreemem(message);
    return Error{"connection string does not parse: " + why, ErrorCode::invalid_argument};
  }
  ParsedConninfo parsed;
  for (const PQconninfoOption* o = options.get(); o->keyword; ++o) {
    if (!o->val) continue;
    std::string key = o->keyword, value = o->val;
    if (key == "host") parsed.host = value;
    else if (key == "hostaddr") parsed.hostaddr = value;
    else if (key == "port") parsed.port = value;
    else {
      if (key == "service") parsed.service = value;
      if (key == "connect_timeout") parsed.connect_timeout = value;
      parsed.others.emplace_back(std::move(key), std::move(value));
    }
  }
  return parsed;
}

// A unix socket directory ("/var/run/postgresql") or an abstract socket ("@name") never leaves the
// host; anything else must be a loopback address or "localhost".
bool local_host_entry(const std::string& host) {
  return (!host.empty() && (host.front() == '/' || host.front() == '@')) || allowed_hosts().allows_host(host);
}

Status check_hosts(const std::string& what, const std::string& list, bool is_hostaddr) {
  for (const auto& entry : split_commas(list)) {
    if (entry.empty()) continue;  // libpq's default: the local unix socket
    bool local = is_hostaddr ? allowed_hosts().allows_address(entry) : local_host_entry(entry);
    if (!local)
      return Error{what + " \"" + entry + "\" is not a unix socket directory nor on the allow-list; " + allow_hint(),
                   ErrorCode::invalid_argument};
  }
  return ok_status();
}

Status check_parsed(const ParsedConninfo& parsed) {
  if (parsed.service)
    return Error{"service=" + *parsed.service +
                     " takes its hosts from a service file that is not checked: "
                     "name host= (loopback) instead",
                 ErrorCode::invalid_argument};
  if (parsed.host)
    if (auto s = check_hosts("host", *parsed.host, false); !s) return s;
  if (parsed.hostaddr)
    if (auto s = check_hosts("hostaddr", *parsed.hostaddr, true); !s) return s;
  // libpq fills each option the string leaves out from the environment; PGHOSTADDR even overrides
  // where a named host is reached.
  if (!parsed.host)
    if (const char* env = std::getenv("PGHOST"))
      if (auto s = check_hosts("host (from PGHOST)", env, false); !s) return s;
  if (!parsed.hostaddr)
    if (const char* env = std::getenv("PGHOSTADDR"))
      if (auto s = check_hosts("hostaddr (from PGHOSTADDR)", env, true); !s) return s;
  if (!parsed.service && std::getenv("PGSERVICE"))
    return Error{"the PGSERVICE environment variable names a service file whose hosts are not checked: unset it",
                 ErrorCode::invalid_argument};
  return ok_status();
}

// One host of a multi-host string, with its port.
struct HostTarget {
  std::optional<std::string> host, hostaddr, port;
};

Result<std::vector<HostTarget>> host_targets(const ParsedConninfo& parsed) {
  std::vector<std::string> hosts, addrs, ports;
  if (parsed.host) hosts = split_commas(*parsed.host);
  if (parsed.hostaddr) addrs = split_commas(*parsed.hostaddr);
  if (parsed.port) ports = split_commas(*parsed.port);
  if (!hosts.empty() && !addrs.empty() && hosts.size() != addrs.size())
    return Error{"connection string names " + std::to_string(hosts.size()) + " hosts but " +
                     std::to_string(addrs.size()) + " hostaddr values",
                 ErrorCode::invalid_argument};
  std::size_t count = std::max<std::size_t>({hosts.size(), addrs.size(), 1});
  if (ports.size() > 1 && ports.size() != count)
    return Error{
        "connection string names " + std::to_string(count) + " hosts but " + std::to_string(ports.size()) + " ports",
        ErrorCode::invalid_argument};
  std::vector<HostTarget> targets(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!hosts.empty() && !hosts[i].empty()) targets[i].host = hosts[i];
    if (!addrs.empty() && !addrs[i].empty()) targets[i].hostaddr = addrs[i];
    if (!ports.empty()) {
      const auto& port = ports.size() == 1 ? ports[0] : ports[i];
      if (!port.empty()) targets[i].port = port;
    }
  }
  return targets;
}

// Waits until `fd` is ready for `events` or `deadline` passes: >0 ready, 0 deadline, <0 error.
int wait_socket(int fd, short events, Clock::time_point deadline, short* revents = nullptr) {
  for (;;) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return 0;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) continue;  // re-check the deadline (poll may wake early on a rounded timeout)
    if (revents) *revents = p.revents;
    return n;
  }
}

std::string seconds_text(Duration d) { return format_duration(d); }

// One attempt on one host, bounded by `deadline`. libpq's own connect_timeout does not apply to
// non-blocking connects, so this is where a host that accepts but never answers (a paused
// postmaster) is given up on, letting the next host of the list have its turn.
Result<PgConn> connect_one(const ParsedConninfo& parsed, const HostTarget& target, Clock::time_point deadline,
                           Duration budget) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : parsed.others) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  auto add = [&](const char* key, const std::optional<std::string>& value) {
    if (!value) return;
    keys.push_back(key);
    values.push_back(value->c_str());
  };
  add("host", target.host);
  add("hostaddr", target.hostaddr);
  add("port", target.port);
  keys.push_back(nullptr);
  values.push_back(nullptr);

  std::string where = target.host.value_or(target.hostaddr.value_or("default host"));
  where += ":" + target.port.value_or("default port");
  PgConn conn(PQconnectStartParams(keys.data(), values.data(), 0));
  if (!conn) return Error{"connect to " + where + ": out of memory", ErrorCode::io_error};
  if (PQstatus(conn.get()) == CONNECTION_BAD)
    return Error{"connect to " + where + ": " + one_line(PQerrorMessage(conn.get())), ErrorCode::unavailable};
  // libpq's documented loop: behave as if the last poll asked for writing.
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  for (;;) {
    if (state == PGRES_POLLING_OK) return conn;
    if (state == PGRES_POLLING_FAILED)
      return Error{"connect to " + where + ": " + one_line(PQerrorMessage(conn.get())), ErrorCode::unavailable};
    short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    int ready = wait_socket(PQsocket(conn.get()), events, deadline);
    if (ready == 0)
      return Error{"connect to " + where + ": no answer within " + seconds_text(budget), ErrorCode::timeout};
    if (ready < 0) return Error{"connect to " + where + ": poll failed", ErrorCode::io_error};
    state = PQconnectPoll(conn.get());
  }
}

Duration connect_timeout_of(const ParsedConninfo& parsed) {
  if (!parsed.connect_timeout) return Duration::zero();
  char* end = nullptr;
  long seconds = std::strtol(parsed.connect_timeout->c_str(), &end, 10);
  if (end == parsed.connect_timeout->c_str() || seconds <= 0) return Duration::zero();
  return std::chrono::seconds(std::max(seconds, 2L));  // libpq's own floor: 1 second is too short to mean it
}

QueryError error(Failure failure, std::string message, std::string sqlstate = {}) {
  return QueryError{failure, std::move(sqlstate), std::move(message)};
}

}  // namespace

struct Connection::Impl {
  PgConn conn;
  bool broken = false;  // cancelled or torn mid-exchange: never reused
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

Status check_loopback_conninfo(std::string_view conninfo) {
  auto parsed = parse_conninfo(conninfo);
  if (!parsed) return parsed.failure();
  return check_parsed(*parsed);
}

Result<std::unique_ptr<Connection>> Connection::open(std::string_view conninfo, Duration timeout) {
  auto parsed = parse_conninfo(conninfo);
  if (!parsed) return parsed.failure();
  if (auto s = check_parsed(*parsed); !s) return s.failure();
  auto targets = host_targets(*parsed);
  if (!targets) return targets.failure();

  const auto start = Clock::now();
  const auto deadline = start + timeout;
  const Duration per_host = connect_timeout_of(*parsed);
  std::string errors;
  ErrorCode code = ErrorCode::unavailable;
  for (const auto& target : *targets) {
    auto now = Clock::now();
    if (now >= deadline) {
      errors += (errors.empty() ? "" : "; ") + std::string("no time left for the remaining hosts");
      code = ErrorCode::timeout;
      break;
    }
    auto host_deadline = deadline;
    Duration budget = timeout;
    if (per_host > Duration::zero() && now + per_host < deadline) {
      host_deadline = now + per_host;
      budget = per_host;
    }
    auto conn = connect_one(*parsed, target, host_deadline, budget);
    if (conn) {
      // Notices (a WARNING before a shutdown) would go to stderr by default; the caller gets errors.
      PQsetNoticeProcessor(
          conn->get(), [](void*, const char*) {}, nullptr);
      if (PQsetnonblocking(conn->get(), 1) != 0)
        return Error{"cannot make the connection non-blocking: " + one_line(PQerrorMessage(conn->get())),
                     ErrorCode::io_error};
      auto impl = std::make_unique<Impl>();
      impl->conn = std::move(*conn);
      return std::unique_ptr<Connection>(new Connection(std::move(impl)));  // private constructor
    }
    errors += (errors.empty() ? "" : "; ") + conn.error();
    if (conn.code() == ErrorCode::timeout) code = ErrorCode::timeout;
  }
  return Error{errors, code};
}

namespace {

// At the deadline the statement may still run (and commit) on the server: ask the server to cancel
// it. PQcancel blocks until the postmaster answers, which never happens while it is paused
// (SIGSTOP), so it runs on a thread of its own that owns its PGcancel and is not waited for.
void cancel_in_background(PGconn* conn) {
  PgCancel cancel(PQgetCancel(conn));
  if (!cancel) return;
  std::thread([cancel = std::move(cancel)] {
    char message[256];
    PQcancel(cancel.get(), message, sizeof message);
  }).detach();
}

QueryResult to_query_result(PGresult* result) {
  QueryResult out;
  const char* status = PQcmdStatus(result);
  out.command_status = status ? status : "";
  if (PQresultStatus(result) != PGRES_TUPLES_OK) return out;
  const int columns = PQnfields(result);
  const int rows = PQntuples(result);
  out.columns.reserve(columns);
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(result, c));
  out.rows.reserve(rows);
  for (int r = 0; r < rows; ++r) {
    auto& row = out.rows.emplace_back();
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c)) row.emplace_back(std::nullopt);
      else row.emplace_back(std::string(PQgetvalue(result, r, c), PQgetlength(result, r, c)));
    }
  }
  return out;
}

}  // namespace

QueryOutcome<QueryResult> Connection::query(std::string_view sql, const std::vector<std::string>& params,
                                            Duration timeout) {
  PGconn* conn = impl_->conn.get();
  if (impl_->broken || PQstatus(conn) != CONNECTION_OK)
    return error(Failure::connect, "the connection is broken: open a new one");
  // An idle connection has nothing to read unless the server is gone or going (its FATAL goodbye,
  // then EOF). Found now, that is a definite failure: the statement was never sent.
  // libpq reads what is there and sees the EOF on the next read, hence the few rounds.
  for (int round = 0; round < 4; ++round) {
    pollfd idle{PQsocket(conn), POLLIN, 0};
    if (::poll(&idle, 1, 0) <= 0) break;
    if (!PQconsumeInput(conn) || PQstatus(conn) != CONNECTION_OK) {
      impl_->broken = true;
      return error(Failure::connect,
                   "the server closed the connection before the statement was sent: " + one_line(PQerrorMessage(conn)));
    }
    PQisBusy(conn);  // parses what arrived (a goodbye while idle is taken as a notice)
  }
  const auto deadline = Clock::now() + timeout;
  auto deadline_passed = [&] {
    cancel_in_background(conn);
    impl_->broken = true;  // a reply may still be on its way: the connection's state is unknown
    return error(Failure::unknown,
                 "no answer within " + seconds_text(timeout) + ": statement cancelled, outcome unknown");
  };
  auto torn = [&](const char* when) {
    impl_->broken = true;
    return error(Failure::unknown, std::string("connection lost ") + when + ": " + one_line(PQerrorMessage(conn)));
  };

  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p.c_str());
  const std::string text(sql);
  if (!PQsendQueryParams(conn, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr,
                         0)) {
    // libpq refused before sending (a usage error) while the connection holds, or the connection broke
    // part-way through sending: then the server may have the statement, so the outcome is unknown.
    if (PQstatus(conn) == CONNECTION_OK) return error(Failure::rejected, "not sent: " + one_line(PQerrorMessage(conn)));
    return torn("while sending");
  }

  // Push the request out; the server may talk back meanwhile (notices), so read as well.
  for (;;) {
    int pending = PQflush(conn);
    if (pending == 0) break;
    if (pending < 0) return torn("while sending");
    short revents = 0;
    int ready = wait_socket(PQsocket(conn), POLLIN | POLLOUT, deadline, &revents);
    if (ready == 0) return deadline_passed();
    if (ready < 0) return torn("while sending");
    if ((revents & POLLIN) && !PQconsumeInput(conn)) return torn("while sending");
  }

  std::optional<QueryError> failed;
  std::optional<QueryResult> answer;
  for (;;) {
    while (PQisBusy(conn) && PQstatus(conn) == CONNECTION_OK) {
      int ready = wait_socket(PQsocket(conn), POLLIN, deadline);
      if (ready == 0) return deadline_passed();
      if (ready < 0) return torn("waiting for the answer");
      // On a closed connection libpq keeps what arrived before the end (often the server's FATAL
      // error with its SQLSTATE); PQgetResult hands it over without waiting once the status is bad.
      if (!PQconsumeInput(conn) && PQstatus(conn) == CONNECTION_OK) return torn("waiting for the answer");
    }
    PgResult result(PQgetResult(conn));
    if (!result) break;
    switch (PQresultStatus(result.get())) {
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY:
        if (!failed) answer = to_query_result(result.get());
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH: impl_->broken = true; return error(Failure::rejected, "COPY is not supported here");
      default:
        if (!failed) {
          const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
          failed = error(Failure::rejected, one_line(PQresultErrorMessage(result.get())), state ? state : "");
        }
        break;
    }
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    // An error that closed the connection (the backend was terminated, the server shut down): the
    // statement may have committed before the end, so it is not a definite failure.
    impl_->broken = true;
    QueryError lost = failed.value_or(error(Failure::unknown, ""));
    lost.failure = Failure::unknown;
    if (lost.message.empty()) lost.message = "connection lost: " + one_line(PQerrorMessage(conn));
    return lost;
  }
  if (failed) return *failed;
  if (!answer) return error(Failure::unknown, "the server sent no result");
  return std::move(*answer);
}

bool Connection::broken() const { return impl_->broken || PQstatus(impl_->conn.get()) != CONNECTION_OK; }

std::string Connection::host() const {
  const char* host = PQhost(impl_->conn.get());
  return host ? host : "";
}

int Connection::port() const {
  const char* port = PQport(impl_->conn.get());
  return port && *port ? std::atoi(port) : 0;
}

}  // namespace chaosplus::db
