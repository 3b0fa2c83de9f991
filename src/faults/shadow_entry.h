#pragma once
// One account's entry in the local account files (/etc/shadow, /etc/passwd) as exact text, and
// changing fields of a shadow entry the way shadow-utils does it: under lckpwdf() (the lock usermod,
// passwd and chage take), the whole file written to "<file>+" with the original's owner and mode,
// synced and renamed over it, so readers see the old file or the new one and every other byte of it
// stays as it was. For lock_account (faults/account_fault.cpp), whose revert must give back the
// entry byte for byte: usermod -p would set the last-change day, which is why it is not used.
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace chaosplus::faults {

// Fields of a shadow entry (shadow(5)), counted from 0.
constexpr std::size_t kShadowPassword = 1;  // the hash; "!" in front = locked
constexpr std::size_t kShadowExpire = 7;    // days since 1970-01-01 after which the account is expired; "" = never

// The line of `user` in an account file ("name:field:..."), without its newline; an error with
// ErrorCode::not_found when the file has none.
Result<std::string> account_line(const std::string& file, const std::string& user);

std::vector<std::string> split_fields(const std::string& line);
std::string join_fields(const std::vector<std::string>& fields);

// Under lckpwdf(): reads the entry of `user` in `file`, hands its fields to `edit`, and when they
// changed writes the file back with only that line replaced. Returns the line as it is afterwards.
Result<std::string> edit_shadow_entry(const std::string& file, const std::string& user,
                                      const std::function<void(std::vector<std::string>&)>& edit);

}  // namespace chaosplus::faults
