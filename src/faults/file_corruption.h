#pragma once
// One corruption of a file, as the ledger keeps it: the file (path, size, device and inode), an
// exact copy of it in chaosplus's state folder, its SHA-256 before and after, and the runs of bytes
// flipped (offset, original and corrupted bytes). prepare() makes the copy and works all of it out
// without touching the file; apply() flips the bytes; restore() puts them back, from this record
// alone after a crash too, without overwriting what the file's owner wrote since.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "faults/file_pages.h"
#include "faults/page_formats.h"

namespace chaosplus::faults {

struct Corruption {
  std::string path;
  std::string format;  // raw, postgres, sqlite
  std::uint64_t page_size = 0;
  std::uint64_t size = 0;
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::string copy;  // "" until the copy is made
  std::string sha256_before;
  std::string sha256_after;
  std::uint64_t seed = 0;
  std::vector<PageFlip> flips;

  std::string to_json() const;
  static Result<Corruption> from_json(std::string_view json);
};

// What the file holds now, compared with the record.
enum class FileState {
  corrupted,  // every flipped run still holds its corrupted bytes, and nothing else changed
  original,   // equal to the copy: nothing of the corruption is left
  changed,    // its owner wrote to it since: some runs may still be corrupted, others not
  replaced,   // another file is at the path now (another inode), or none
};

struct RestoreReport {
  FileState found = FileState::corrupted;
  int runs_restored = 0;   // runs that held the corrupted bytes and got their original ones back
  int runs_original = 0;   // runs that held their original bytes already
  int runs_rewritten = 0;  // runs that hold other bytes: the owner rewrote them (left as they are)
  bool verified = false;   // the whole file's SHA-256 equals sha256_before after the restore
  std::string said;        // what was found and done, for people
};

// Where copies are kept: <state_dir>/corrupt (mode 0700).
std::string copies_folder(const std::string& state_dir);

// Copies the file to `copy_path` and fills in everything: size, inode, both SHA-256s, and the runs
// planned by `plan` with their original and corrupted bytes. The file is not written.
Result<Corruption> prepare(const std::string& path, PageFormat format, PagePlan plan, const std::string& copy_path);

// Writes the corrupted bytes, synced, and checks the file's SHA-256 is sha256_after: a file its
// owner wrote to meanwhile is an error (the runs are then put back by restore()).
Status apply(const Corruption& c);

// Puts the original bytes back where the file still holds the corrupted ones (from the copy, or
// the recorded bytes when the copy is gone), never over bytes its owner wrote since; then checks:
// the whole file equals the copy (SHA-256) when nothing else changed, or else no run holds its
// corrupted bytes. Ok when nothing of the corruption is left in the file at the path; the copy is
// then removed.
Result<RestoreReport> restore(const Corruption& c);

std::string_view state_name(FileState state);

}  // namespace chaosplus::faults
