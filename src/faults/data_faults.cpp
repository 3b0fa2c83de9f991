// The data fault family: `corrupt` flips bytes in chosen pages of a file — any file, the relation
// file of a PostgreSQL table, an SQLite database — keeping an exact copy of the file in the run's
// state folder. The ledger entry names the copy before it is made, and holds the copy, both SHA-256s
// and every flipped run before the first byte is written (record first, then act); revert and
// `recover` put the original bytes back from that entry alone and check them by SHA-256
// (faults/file_corruption.h says what counts as restored when the file's owner wrote to it since).
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "faults/file_corruption.h"
#include "faults/pg_relation.h"
#include "faults/registry.h"
#include "faults/target_handle.h"

namespace chaosplus::faults {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKind = "data.corrupt";
constexpr Duration kServerTimeout = 30s;  // a CHECKPOINT of a busy server may take a while
constexpr std::uint64_t kMaxFlippedBytes = 64 * 1024;  // the ledger entry holds each byte twice (hex)

// "12" -> 12; nullopt for anything but digits that fit.
std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return n;
}

// "0,5, 9" -> {0, 5, 9}; nullopt when an item is not a number.
std::optional<std::vector<std::uint64_t>> number_list(std::string_view text) {
  std::vector<std::uint64_t> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    auto n = number(item);
    if (!n) return std::nullopt;
    out.push_back(*n);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The settings of one corrupt fault, read from its parameters (checked by `check` at load time).
struct Settings {
  std::string path;
  std::string table;
  std::string dsn;
  PageFormat format = PageFormat::raw;
  std::uint64_t page_size = 0;  // 0: the format's
  std::uint64_t pages = 1;
  std::vector<std::uint64_t> page_numbers;
  std::uint64_t bytes = 16;
  std::string region = "page";
  std::optional<std::uint64_t> seed;
};

constexpr std::array<std::string_view, 3> kFormats{"raw", "postgres", "sqlite"};
constexpr std::array<std::string_view, 3> kRegions{"page", "header", "body"};

// clang-format off
constexpr std::array<spec::FaultParam, 10> kParams{{
    {"path", spec::ParamKind::text, "", false, {},
     "an absolute path: the file to corrupt (any file; with format sqlite, an SQLite database)"},
    {"table", spec::ParamKind::text, "", false, {},
     "a PostgreSQL table such as public.accounts, instead of path: its relation file, found through dsn"},
    {"dsn", spec::ParamKind::text, "", false, {},
     "a libpq connection string (loopback hosts only): finds table's file; a CHECKPOINT runs there first"},
    {"format", spec::ParamKind::choice, "", false, kFormats,
     "how the file is cut into pages; default postgres with table, else raw (sqlite: the page size from its header)"},
    {"page_size", spec::ParamKind::byte_size, "", false, {},
     "the page size of a raw or postgres file; default 4096 (raw), the server's block_size or 8192 (postgres)"},
    {"pages", spec::ParamKind::text, "", false, {},
     "how many pages to corrupt, drawn with seed; default 1 (SQLite's page 1 only when named in page_numbers)"},
    {"page_numbers", spec::ParamKind::text, "", false, {},
     "which pages instead, such as 0,5: PostgreSQL blocks count from 0, SQLite pages from 1"},
    {"bytes", spec::ParamKind::byte_size, "16", false, {},
     "how many bytes are flipped in each page, one run (each XOR a non-zero mask, none becomes 0)"},
    {"region", spec::ParamKind::choice, "page", false, kRegions,
     "where in a page: anywhere, only its header, or the body after it (postgres 24 bytes, sqlite 8)"},
    {"seed", spec::ParamKind::text, "", false, {},
     "a number that draws the pages and the bytes, to repeat a run; default a random one, recorded"},
}};
// clang-format on

const spec::FaultType& corrupt_type();

std::uint64_t header_size(PageFormat format) {
  switch (format) {
    case PageFormat::postgres: return kPostgresPageHeader;
    case PageFormat::sqlite: return kSqliteBtreeHeader;
    case PageFormat::raw: return 0;
  }
  return 0;
}

// Reads and checks the parameters together; the problems name the parameter they are about.
Result<Settings> read_settings(const spec::Fault& fault, std::vector<spec::ParamProblem>& problems) {
  auto p = spec::FaultParams::read(corrupt_type(), fault);
  if (!p) return Error{p.error()};
  Settings s;
  s.path = p->text("path");
  s.table = p->text("table");
  s.dsn = p->text("dsn");
  if (!s.table.empty() && !s.path.empty()) problems.push_back({"table", "give path or table, not both"});
  if (s.table.empty() && s.path.empty()) {
    problems.push_back({"path", "found none, expected the absolute path of the file to corrupt, or table and dsn"});
  }
  if (!s.path.empty() && s.path.front() != '/') {
    problems.push_back({"path", "found '" + s.path + "', expected an absolute path (starting with /)"});
  }
  if (!s.table.empty() && s.dsn.empty()) {
    problems.push_back({"table", "expected dsn too: the connection string of the server that holds the table"});
  }
  if (!s.dsn.empty()) {
    if (auto ok = check_dsn(s.dsn); !ok) problems.push_back({"dsn", ok.error()});
  }
  s.format = !s.table.empty() ? PageFormat::postgres : PageFormat::raw;
  if (p->given("format")) {
    s.format = *page_format(p->text("format"));
    if (!s.table.empty() && s.format != PageFormat::postgres) {
      problems.push_back({"format", "found '" + p->text("format") + "', but a table's file is in format postgres"});
    }
  }
  if (p->given("page_size")) {
    s.page_size = p->bytes("page_size");
    if (s.format == PageFormat::sqlite) {
      problems.push_back({"page_size", "an SQLite database says its page size in its header: leave page_size out"});
    } else if (s.page_size < 512) {
      problems.push_back({"page_size", "found " + std::to_string(s.page_size) + ", expected at least 512 bytes"});
    }
  }
  if (p->given("pages")) {
    auto n = number(p->text("pages"));
    if (!n || *n == 0) {
      problems.push_back({"pages", "found '" + p->text("pages") + "', expected a number of pages from 1"});
    } else {
      s.pages = *n;
    }
  }
  if (p->given("page_numbers")) {
    auto list = number_list(p->text("page_numbers"));
    if (!list) {
      problems.push_back(
          {"page_numbers", "found '" + p->text("page_numbers") + "', expected page numbers separated by commas, such as 0,5"});
    } else {
      s.page_numbers = *list;
      if (p->given("pages")) problems.push_back({"page_numbers", "give pages (how many) or page_numbers (which), not both"});
      if (s.format == PageFormat::sqlite && std::find(list->begin(), list->end(), 0) != list->end()) {
        problems.push_back({"page_numbers", "SQLite pages are numbered from 1"});
      }
    }
  }
  s.bytes = p->bytes("bytes");
  if (s.bytes == 0) problems.push_back({"bytes", "found 0, expected at least 1 byte flipped per page"});
  const std::uint64_t page_count = s.page_numbers.empty() ? s.pages : s.page_numbers.size();
  if (s.bytes * page_count > kMaxFlippedBytes) {
    problems.push_back({"bytes", std::to_string(s.bytes) + " bytes in each of " + std::to_string(page_count) +
                                     " page(s) is more than " + std::to_string(kMaxFlippedBytes) +
                                     " bytes in all (the ledger keeps every one)"});
  }
  s.region = p->text("region");
  if (s.region != "page" && s.format == PageFormat::raw) {
    problems.push_back({"region", "a raw file has no page header: region " + s.region +
                                      " needs format postgres or sqlite (or a table)"});
  } else if (s.region == "header" && s.bytes > header_size(s.format)) {
    problems.push_back({"bytes", "found " + std::to_string(s.bytes) + ", but the page header of format " +
                                     std::string(format_name(s.format)) + " is " +
                                     std::to_string(header_size(s.format)) + " bytes (region header)"});
  }
  if (p->given("seed")) {
    auto n = number(p->text("seed"));
    if (!n) problems.push_back({"seed", "found '" + p->text("seed") + "', expected a whole number from 0"});
    s.seed = n;
  }
  return s;
}

std::vector<spec::ParamProblem> check(const spec::Fault& fault) {
  std::vector<spec::ParamProblem> problems;
  if (auto s = read_settings(fault, problems); !s) problems.push_back({"", s.error()});
  return problems;
}

std::string record_of(const std::string& target, const Settings& s, const std::string& copy,
                      const std::optional<Corruption>& done) {
  // The dsn is left out: it may hold a password, and undo needs only the file and its copy.
  nlohmann::json r{{"target", target}, {"copy", copy}};
  if (!s.table.empty()) r["table"] = s.table;
  if (done) r["corruption"] = nlohmann::json::parse(done->to_json());
  return r.dump();
}

class CorruptFault final : public Fault {
 public:
  CorruptFault(TargetHandle& target, Settings settings, std::string path, std::uint64_t seed, std::string copy)
      : target_(target.name()),
        settings_(std::move(settings)),
        path_(std::move(path)),
        seed_(seed),
        copy_(std::move(copy)) {}

  std::string kind() const override { return std::string(kKind); }
  std::string summary() const override {
    const std::uint64_t n = settings_.page_numbers.empty() ? settings_.pages : settings_.page_numbers.size();
    return "corrupt " + std::to_string(n) + " page(s) of " + path_ +
           (settings_.table.empty() ? "" : " (table " + settings_.table + ")") + " for " + target_ + ", " +
           std::to_string(settings_.bytes) + " bytes each, seed " + std::to_string(seed_);
  }
  std::string record() const override { return record_of(target_, settings_, copy_, corruption_); }
  std::map<std::string, std::int64_t> reach() const override {
    std::map<std::string, std::int64_t> out;
    if (corruption_) out["runs_flipped"] = static_cast<std::int64_t>(corruption_->flips.size());
    if (report_) {
      out["runs_restored"] = report_->runs_restored;
      out["runs_original"] = report_->runs_original;
      out["runs_rewritten"] = report_->runs_rewritten;
      out["sha256_verified"] = report_->verified ? 1 : 0;
      out["file_replaced"] = report_->found == FileState::replaced ? 1 : 0;
    }
    return out;
  }

  Status inject(HaltSwitch&) override {
    // The file must hold the latest version of every page before it is copied, or a later write of
    // a dirty page from shared_buffers would overwrite the damage.
    if (!settings_.dsn.empty()) {
      if (auto s = checkpoint(settings_.dsn, kServerTimeout); !s) return Error{"CHECKPOINT before the corruption: " + s.error()};
    }
    auto layout = page_layout(settings_.format, path_, settings_.page_size);
    if (!layout) return Error{layout.failure()};
    PagePlan plan;
    plan.page_size = layout->page_size;
    plan.first_page = layout->first_page;
    plan.first_page_shift = layout->first_page_shift;
    plan.never = layout->never;
    plan.pages = settings_.page_numbers;
    plan.count = settings_.pages;
    plan.bytes = settings_.bytes;
    plan.seed = seed_;
    if (settings_.region == "header") plan.to = layout->header;
    if (settings_.region == "body") plan.from = layout->header;
    auto prepared = prepare(path_, settings_.format, plan, copy_);
    if (!prepared) return Error{prepared.failure()};
    corruption_ = std::move(prepared).value();
    // Record first, then act: the entry holds the copy and every run before a byte is written.
    if (auto s = record_changed(); !s) return Error{"cannot update the ledger, nothing written: " + s.error()};
    return apply(*corruption_);
  }

  Status revert(HaltSwitch&) override {
    if (!corruption_) {  // stopped before the copy was complete: nothing written, only the copy to drop
      std::error_code ec;
      std::filesystem::remove(copy_, ec);
      return ok_status();
    }
    auto report = restore(*corruption_);
    if (!report) return Error{report.failure()};
    report_ = *report;
    return ok_status();
  }

 private:
  std::string target_;
  Settings settings_;
  std::string path_;
  std::uint64_t seed_;
  std::string copy_;
  std::optional<Corruption> corruption_;
  std::optional<RestoreReport> report_;
};

const spec::FaultType& corrupt_type() {
  static const spec::FaultType kType{"corrupt", spec::Capability::any, kParams,
                                     "flip bytes in chosen pages of a file, a PostgreSQL table or an SQLite database; "
                                     "an exact copy is kept and put back",
                                     false, check};
  return kType;
}

const std::array<spec::FaultType, 1>& types() {
  static const std::array<spec::FaultType, 1> kTypes{{corrupt_type()}};
  return kTypes;
}

constexpr std::array<std::string_view, 1> kKinds{kKind};

std::string copy_name(const std::string& state_dir, const std::string& path) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return copies_folder(state_dir) + "/" + std::filesystem::path(path).filename().string() + "." +
         std::to_string(::getpid()) + "." + std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()) +
         ".copy";
}

Result<std::unique_ptr<Fault>> make(const spec::Fault& fault, TargetHandle& target) {
  std::vector<spec::ParamProblem> problems;
  auto settings = read_settings(fault, problems);
  if (!settings) return Error{settings.error()};
  if (!problems.empty()) return Error{"fault 'corrupt': " + problems.front().param + ": " + problems.front().message};
  if (target.state_dir.empty()) {
    return Error{"fault 'corrupt' on '" + target.name() + "': no state folder to keep the file's copy in"};
  }
  std::string path = settings->path;
  if (!settings->table.empty()) {
    auto file = relation_file(settings->dsn, settings->table, kServerTimeout);
    if (!file) return Error{"fault 'corrupt' on '" + target.name() + "': " + file.error()};
    path = file->path;
    if (settings->page_size == 0) settings->page_size = file->block_size;
  }
  const std::uint64_t seed = settings->seed ? *settings->seed : std::random_device{}() * 0x100000001ULL + std::random_device{}();
  auto copy = copy_name(target.state_dir, path);
  return std::unique_ptr<Fault>(std::make_unique<CorruptFault>(target, std::move(settings).value(), std::move(path),
                                                               seed, std::move(copy)));
}

Status undo_corrupt(std::string_view, std::string_view record) {
  const auto r = nlohmann::json::parse(record, nullptr, false);
  if (r.is_discarded() || !r.is_object()) return Error{"unreadable ledger record: " + std::string(record)};
  if (!r.contains("corruption")) {
    // The copy was being made, or not yet: the file was not written.
    std::error_code ec;
    if (const auto copy = r.value("copy", std::string()); !copy.empty()) std::filesystem::remove(copy, ec);
    return ok_status();
  }
  auto c = Corruption::from_json(r.at("corruption").dump());
  if (!c) return Error{c.error()};
  auto report = restore(*c);
  if (!report) return Error{report.failure()};
  return ok_status();
}

}  // namespace

FaultFamily data_fault_family() { return {"data", types(), kKinds, make, undo_corrupt}; }

}  // namespace chaosplus::faults
