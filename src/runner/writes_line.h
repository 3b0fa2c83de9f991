#pragma once
// A write workload's figures in one line for people, from its writes.summary event: the live view
// prints it when the workload ends, the run's summary (and `chaosplus report`) lists it again.
#include <string>

#include "core/event.h"

namespace chaosplus::runner {

// "writes orders: 6000 attempted, 5900 acknowledged, 60 failed, 40 unknown; lost 0, unexpected 0,
// unknown committed 3; RPO 0 write(s); RTO 3.20s (promotion 2.10s, reconnection 1.10s) after kill
// db; split brain: none", and with `thresholds` each threshold's message after it.
std::string writes_line(const Event& summary, bool thresholds);

}  // namespace chaosplus::runner
