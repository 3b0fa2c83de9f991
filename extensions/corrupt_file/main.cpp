// chaosplus-ext-corrupt-file: an example extension (docs/extensions.md, protocol 1).
//
// Fault `corrupt`: overwrites `bytes` bytes of the file at `path`, from `offset`, with their bitwise
// inverse. Before it writes, it sends a checkpoint holding the original bytes (hex), the file's size
// and modification time, and waits until chaosplus has stored it in its ledger: a runner killed at
// any moment leaves a record from which `revert` puts exactly those bytes back. `revert` is
// idempotent (bytes already original: nothing to do) and verifies what it wrote.
//
// Probe `file_intact`: passes when the sha256 of the file at `path` equals `sha256`.
//
// It reads one JSON request per line on stdin and answers one line each on stdout; what it does is
// also written to stderr (the extension's log).
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using nlohmann::json;

// Refused above this, so a record stays small enough for the ledger.
constexpr long long kMaxBytes = 64 * 1024;

struct Refusal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class File {
 public:
  File(const std::string& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC)) {
    if (fd_ < 0) throw Refusal("cannot open " + path + ": " + std::strerror(errno));
  }
  ~File() { ::close(fd_); }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

std::string to_hex(const std::vector<unsigned char>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) out += {digits[b >> 4], digits[b & 15]};
  return out;
}

std::vector<unsigned char> from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw Refusal("record: odd-length hex");
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::vector<unsigned char> read_at(int fd, long long offset, long long count) {
  std::vector<unsigned char> buf(static_cast<std::size_t>(count));
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, offset + static_cast<long long>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Refusal("cannot read " + std::to_string(count) + " bytes at offset " + std::to_string(offset));
    done += static_cast<std::size_t>(n);
  }
  return buf;
}

void write_at(int fd, long long offset, const std::vector<unsigned char>& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, offset + static_cast<long long>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Refusal(std::string("cannot write: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) throw Refusal(std::string("fsync: ") + std::strerror(errno));
}

struct stat stat_of(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Refusal(std::string("fstat: ") + std::strerror(errno));
  return st;
}

long long mtime_ns(const struct stat& st) { return st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec; }

void set_mtime(int fd, long long ns) {
  const timespec times[2] = {{0, UTIME_OMIT},
                             {static_cast<time_t>(ns / 1000000000LL), static_cast<long>(ns % 1000000000LL)}};
  if (::futimens(fd, times) != 0) throw Refusal(std::string("futimens: ") + std::strerror(errno));
}

void send(const json& line) { std::cout << line.dump() << '\n' << std::flush; }

void log(const std::string& line) { std::cerr << "corrupt-file: " << line << '\n' << std::flush; }

json describe() {
  return {
      {"name", "corrupt-file"},
      {"version", "1.0.0"},
      {"protocol", 1},
      {"faults",
       {{{"name", "corrupt"},
         {"description", "Inverts bytes of a file in place; revert writes the original bytes back."},
         {"params",
          {{{"name", "path"}, {"kind", "text"}, {"required", true}, {"description", "an existing regular file"}},
           {{"name", "offset"}, {"kind", "integer"}, {"default", 0}, {"description", "first byte to corrupt"}},
           {{"name", "bytes"},
            {"kind", "integer"},
            {"default", 1},
            {"description", "how many bytes, 1 to 65536, all inside the file"}}}}}}},
      {"probes",
       {{{"name", "file_intact"},
         {"description", "Passes when the file's sha256 equals the expected one."},
         {"params",
          {{{"name", "path"}, {"kind", "text"}, {"required", true}, {"description", "the file"}},
           {{"name", "sha256"}, {"kind", "text"}, {"required", true}, {"description", "expected digest, hex"}}}}}}}};
}

// Asks chaosplus to store `record` before anything changes; true when it did.
bool checkpoint(const json& record) {
  send({{"checkpoint", record}});
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  const json answer = json::parse(line, nullptr, false);
  return !answer.is_discarded() && answer.value("checkpointed", false);
}

json inject(const json& request) {
  const json& params = request.at("params");
  const std::string path = params.at("path").get<std::string>();
  const long long offset = params.value("offset", 0LL);
  const long long count = params.value("bytes", 1LL);
  if (count < 1 || count > kMaxBytes) throw Refusal("bytes must be 1 to " + std::to_string(kMaxBytes));
  if (offset < 0) throw Refusal("offset must not be negative");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Refusal(path + " does not exist (" + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw Refusal(path + " is not a regular file");
  File file(path, O_RDWR);
  st = stat_of(file.fd());
  if (offset + count > st.st_size) {
    throw Refusal("bytes " + std::to_string(offset) + ".." + std::to_string(offset + count) + " are not all inside " +
                  path + " (" + std::to_string(st.st_size) + " bytes)");
  }
  const std::vector<unsigned char> original = read_at(file.fd(), offset, count);
  std::vector<unsigned char> corrupted = original;
  for (unsigned char& b : corrupted) b = static_cast<unsigned char>(~b);
  const json record = {{"path", path},
                       {"offset", offset},
                       {"original", to_hex(original)},
                       {"corrupted", to_hex(corrupted)},
                       {"size", static_cast<long long>(st.st_size)},
                       {"mtime_ns", mtime_ns(st)}};
  if (!checkpoint(record)) throw Refusal("chaosplus did not store the checkpoint; nothing was changed");
  write_at(file.fd(), offset, corrupted);
  log("inverted " + std::to_string(count) + " bytes of " + path + " at offset " + std::to_string(offset));
  send({{"event", "corrupt_file.written"}, {"path", path}, {"offset", offset}, {"bytes", count}});
  return {{"record", record}};
}

json revert(const json& request) {
  const json& record = request.at("record");
  if (record.is_null()) {
    log("revert: no record, so inject never reached its checkpoint and changed nothing");
    return {{"restored", false}};
  }
  const std::string path = record.at("path").get<std::string>();
  const long long offset = record.at("offset").get<long long>();
  const std::vector<unsigned char> original = from_hex(record.at("original").get<std::string>());
  File file(path, O_RDWR);
  const struct stat st = stat_of(file.fd());
  if (st.st_size != record.at("size").get<long long>()) {
    throw Refusal(path + " is " + std::to_string(st.st_size) + " bytes now, " +
                  std::to_string(record.at("size").get<long long>()) +
                  " when it was corrupted: changed since, not reverted");
  }
  const long long count = static_cast<long long>(original.size());
  if (read_at(file.fd(), offset, count) == original) {
    log("revert: " + path + " already holds its original bytes");
    return {{"restored", false}};
  }
  write_at(file.fd(), offset, original);
  set_mtime(file.fd(), record.at("mtime_ns").get<long long>());
  if (read_at(file.fd(), offset, count) != original) throw Refusal("wrote the original bytes back but read others");
  log("revert: wrote the " + std::to_string(count) + " original bytes of " + path + " back at offset " +
      std::to_string(offset));
  send({{"event", "corrupt_file.restored"}, {"path", path}, {"offset", offset}, {"bytes", count}});
  return {{"restored", true}};
}

std::string sha256_of(const std::string& path) {
  File file(path, O_RDONLY);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  char buf[65536];
  while (true) {
    const ssize_t n = ::read(file.fd(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Refusal("cannot read " + path + ": " + std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf, static_cast<std::size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return to_hex(std::vector<unsigned char>(digest, digest + length));
}

json probe(const json& request) {
  const json& params = request.at("params");
  const std::string path = params.at("path").get<std::string>();
  const std::string actual = sha256_of(path);
  if (actual != params.at("sha256").get<std::string>()) {
    throw Refusal(path + " has sha256 " + actual + ", not the expected one");
  }
  return {{"message", path + " is intact"}};
}

json answer(const json& request) {
  const std::string kind = request.value("request", "");
  if (kind == "describe") return describe();
  const std::string op = request.value(kind == "probe" ? "probe" : "fault", "");
  if (kind == "inject" && op == "corrupt") return inject(request);
  if (kind == "revert" && op == "corrupt") return revert(request);
  if (kind == "probe" && op == "file_intact") return probe(request);
  throw Refusal("unknown request '" + kind + "'" + (op.empty() ? "" : " of '" + op + "'"));
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    const json request = json::parse(line, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      log("not a JSON object: " + line);
      return 2;
    }
    json reply;
    try {
      reply = answer(request);
      reply["ok"] = true;
    } catch (const std::exception& e) {  // Refusal, and a record or request missing a field
      log(request.value("request", "?") + " refused: " + e.what());
      reply = {{"ok", false}, {"error", e.what()}};
    }
    reply["id"] = request.value("id", json());
    send(reply);
  }
  return 0;
}
