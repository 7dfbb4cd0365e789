#pragma once
// The one timing loop of every measurement (profile points, method
// latencies, an eval's latency): sample until the stopping rule says the
// median's CI is within the precision, or the time cap is used up.
#include <atomic>
#include <functional>
#include <optional>
#include <vector>

#include "analysis/profile_plan.h"

namespace tailsweep::agent {

struct Sampled {
  std::vector<double> samples_ms;
  StopReason stop = StopReason::kContinue;  // kPrecisionReached or kTimeCap
};

// `sample` returns one latency in milliseconds. The cap counts the sampled
// time itself: for the engine that is the timed passes (what the device
// spent), for a simulated device its simulated time, so a simulated point
// costs what the device would. The precision, which needs a sorted summary,
// is checked each time the samples have grown by 10%, the cap at every
// sample. nullopt when `interrupt` was set before the rule stopped.
std::optional<Sampled> sample_until_stop(const std::function<double()>& sample,
                                         const StoppingRule& rule,
                                         const std::atomic<bool>* interrupt = nullptr);

}  // namespace tailsweep::agent
