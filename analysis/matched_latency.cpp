#include "analysis/matched_latency.h"

#include <cmath>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::schedule {

std::vector<std::string> matching_candidates(std::string_view family, const VitConfig& config) {
  if (family != "topk" && family != "tome") {
    throw InputError(fmt::format("no matched-latency family '{}' (expected topk or tome)", family));
  }
  const int64_t r_max = (config.total_tokens() - 3) / std::max<int64_t>(1, config.depth);
  std::vector<std::string> candidates;
  for (int64_t r = 1; r <= r_max; ++r) candidates.push_back(fmt::format("{}:{}", family, r));
  return candidates;
}

MatchedBaseline match_latency(double target_ms, std::span<const MethodLatency> candidates,
                              double tolerance) {
  if (!(std::isfinite(target_ms) && target_ms > 0)) {
    throw InputError(fmt::format("target latency {} ms is not a positive number", target_ms));
  }
  if (!(tolerance > 0)) throw InputError(fmt::format("tolerance {} is not positive", tolerance));
  if (candidates.empty()) throw InputError("no candidate latencies to match against");
  const MethodLatency* best = nullptr;
  for (const MethodLatency& candidate : candidates) {
    if (!(std::isfinite(candidate.median_ms) && candidate.median_ms > 0)) {
      throw InputError(fmt::format("{}: latency {} ms is not a positive number", candidate.method,
                                   candidate.median_ms));
    }
    if (best == nullptr ||
        std::abs(candidate.median_ms - target_ms) < std::abs(best->median_ms - target_ms)) {
      best = &candidate;
    }
  }
  MatchedBaseline matched;
  matched.method = best->method;
  matched.latency_ms = best->median_ms;
  matched.relative_gap = (best->median_ms - target_ms) / target_ms;
  matched.within_tolerance = std::abs(matched.relative_gap) <= tolerance;
  matched.candidates = candidates.size();
  return matched;
}

}  // namespace tailsweep::schedule
