#pragma once
// How the reports and compare write figures, so a number reads the same in every format.
#include <string>

namespace chaosplus::report {

std::string fixed(double value, int decimals);  // "%.*f"
std::string ms_text(double ms);                 // "0.73 ms", "101.0 ms"
std::string s_text(double ms);                  // milliseconds as "1.02 s"
std::string percent_text(double fraction);      // 0.1 -> "10.00%"

}  // namespace chaosplus::report
