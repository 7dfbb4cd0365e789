#pragma once
// Matched-latency baselines: on one device, the Top-K r and the ToMe r whose
// measured latency is closest to POMT's, so that accuracy is compared at
// equal speed. Pure functions; the coordinator feeds them a latency job's
// measurements (docs/sweeps.md, "Matched-latency baselines").
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/model/model_config.h"

namespace tailsweep::schedule {

// The families matched against POMT.
inline constexpr std::string_view kMatchedFamilies[] = {"topk", "tome"};

// The candidates of a family for a model: "topk:1" ... "topk:R_MAX" (or
// tome), every r that still leaves at least 3 tokens (CLS and two patch
// tokens) after the last block if it removed r in every block:
// R_MAX = (N - 3) / depth. InputError for an unknown family.
std::vector<std::string> matching_candidates(std::string_view family, const VitConfig& config);

struct MethodLatency {
  std::string method;  // canonical spec, e.g. "tome:8"
  double median_ms = 0;
};

struct MatchedBaseline {
  std::string method;
  double latency_ms = 0;
  double relative_gap = 0;  // (latency - target) / target
  bool within_tolerance = false;
  std::size_t candidates = 0;
};

// The candidate with the smallest |latency - target|; on a tie the earlier
// candidate (the lighter reduction, listed first). within_tolerance when
// |relative_gap| <= tolerance. InputError: no candidates, a target or a
// latency that is not positive and finite, a tolerance <= 0.
MatchedBaseline match_latency(double target_ms, std::span<const MethodLatency> candidates,
                              double tolerance);

}  // namespace tailsweep::schedule
