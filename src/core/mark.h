#pragma once
// Where something came from in the user's file, so errors found long after loading still point
// into it.
namespace chaosplus {

struct Mark {
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based
};

}  // namespace chaosplus
