#include "agent/measure/sampling.h"

#include <algorithm>
#include <chrono>

namespace tailsweep::agent {

std::optional<Sampled> sample_until_stop(const std::function<double()>& sample,
                                         const StoppingRule& rule,
                                         const std::atomic<bool>* interrupt) {
  using Milliseconds = std::chrono::duration<double, std::milli>;
  Sampled result;
  double elapsed_ms = 0;
  std::size_t next_check = rule.min_samples;
  while (true) {
    if (interrupt != nullptr && interrupt->load(std::memory_order_relaxed)) return std::nullopt;
    result.samples_ms.push_back(sample());
    elapsed_ms += result.samples_ms.back();
    const bool at_cap = Milliseconds(elapsed_ms) >= rule.time_cap;
    if (at_cap || result.samples_ms.size() >= next_check) {
      result.stop = should_stop(result.samples_ms, Milliseconds(elapsed_ms), rule);
      if (result.stop != StopReason::kContinue) return result;
      if (result.samples_ms.size() >= next_check) {
        next_check = result.samples_ms.size() + std::max<std::size_t>(1, next_check / 10);
      }
    }
  }
}

}  // namespace tailsweep::agent
