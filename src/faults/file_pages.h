#pragma once
// The file side of data corruption: where in a file's pages to flip bytes (drawn from a seed, so a
// run can be repeated), what the flipped bytes are (XOR with a non-zero mask, never a zero byte:
// an all-zero page passes PostgreSQL's checksum as "new"), a file's SHA-256 (with or without some
// byte ranges replaced), an exact copy of it, and reads and writes at offsets, synced.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::faults {

// Where to flip: inside which pages, how many bytes each, from which part of a page.
struct PagePlan {
  std::uint64_t file_size = 0;
  std::uint64_t page_size = 0;
  std::uint64_t first_page = 0;          // the number of the file's first page: 0 (PostgreSQL, raw), 1 (SQLite)
  std::vector<std::uint64_t> pages;      // the pages asked for by number; empty: draw `count` of them
  std::uint64_t count = 1;               // how many pages to draw when `pages` is empty
  std::vector<std::uint64_t> never;      // pages never drawn (SQLite's page 1); asked for by number, allowed
  std::uint64_t bytes = 16;              // bytes flipped in each page, one contiguous run
  std::uint64_t from = 0;                // the run lies in [from, to) of the page
  std::uint64_t to = 0;                  // 0: the page's end
  std::uint64_t first_page_shift = 0;    // the file's first page starts with a file header this long
  std::uint64_t seed = 0;
};

struct PageFlip {
  std::uint64_t page = 0;    // its number as the file's format counts pages
  std::uint64_t offset = 0;  // in the file
  std::vector<unsigned char> original;
  std::vector<unsigned char> corrupted;  // original XOR a non-zero mask; never a zero byte
};

// The runs to flip, in file order, without their bytes (page, offset and the length in `original`'s
// size, filled with zeros). Errors say what does not fit: a page past the end, a run longer than
// the part of the page it must lie in, more pages asked than the file has.
Result<std::vector<PageFlip>> plan_flips(const PagePlan& plan);

// Fills `corrupted` from `original` with masks drawn from `seed` (each byte changes, and none
// becomes zero).
void flip_bytes(std::vector<PageFlip>& flips, std::uint64_t seed);

// The SHA-256 (lower-case hex) of the file at `path`, read as if each run of `patches` held its
// corrupted bytes (`as_corrupted`) or its original ones.
Result<std::string> file_sha256(const std::string& path, std::span<const PageFlip> patches = {},
                                bool as_corrupted = true);

// Copies `from` to a new file `to` (mode 0600, never over an existing one), synced with its folder;
// returns the copy's SHA-256.
Result<std::string> copy_exactly(const std::string& from, const std::string& to);

Result<std::vector<unsigned char>> read_at(const std::string& path, std::uint64_t offset, std::uint64_t count);
// Writes every run's bytes (corrupted or original) in place, then syncs the file: the inode stays,
// so a database that holds the file open sees them.
Status write_runs(const std::string& path, std::span<const PageFlip> runs, bool corrupted);

std::string to_hex(std::span<const unsigned char> bytes);
Result<std::vector<unsigned char>> from_hex(std::string_view hex);

}  // namespace chaosplus::faults
