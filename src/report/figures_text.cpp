#include "report/figures_text.h"

#include <cstdio>

namespace chaosplus::report {

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string ms_text(double ms) { return fixed(ms, ms < 10 ? 2 : 1) + " ms"; }
std::string s_text(double ms) { return fixed(ms / 1000.0, 2) + " s"; }
std::string percent_text(double fraction) { return fixed(fraction * 100, 2) + "%"; }

}  // namespace chaosplus::report
