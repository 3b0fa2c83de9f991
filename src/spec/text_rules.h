#pragma once
// Rules for text that leaves the experiment file: into messages and output (control characters are
// shown escaped, so a NUL cannot cut a line and an escape sequence cannot forge one), and into file
// names (the journal pattern stays below the runs folder the user chose).
#include <optional>
#include <string>
#include <string_view>

namespace chaosplus::spec {

bool is_control(char c);                       // below 0x20, or DEL
std::string shown_control(char c);             // "\0", "\t", "\n", "\x1b"
std::string printable(std::string_view text);  // every control character shown escaped

// What is wrong with `pattern` as outputs.journal ("found the absolute path '/etc/shadow', expected
// ..."), or nothing: a relative file name pattern without '..' parts, placeholders {name}, {time}
// and {run} only.
std::optional<std::string> journal_pattern_problem(std::string_view pattern);

}  // namespace chaosplus::spec
