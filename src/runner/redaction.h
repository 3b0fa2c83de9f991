#pragma once
// Ledger records hold what it takes to undo a change, secrets included (the fault proxy's bearer
// token). Whatever prints or publishes a record shows it through these, secrets replaced.
#include <string>
#include <string_view>

namespace chaosplus::runner {

inline constexpr std::string_view kRedacted = "<redacted>";

// Keys whose values are secrets: names containing token, password, secret, credential,
// authorization or api_key (any case).
bool is_secret_key(std::string_view key);

// The JSON record with the value of every secret key replaced by kRedacted, at any depth. A record
// that is not readable JSON (or nested too deep to walk) is not shown at all: it could hold anything.
std::string redact_record(std::string_view record);

// `text` (a message about `record`) with each secret value of `record`, and `record` itself when it
// is unreadable, replaced: errors quote records and their fields.
std::string redact_secrets(std::string_view text, std::string_view record);

}  // namespace chaosplus::runner
