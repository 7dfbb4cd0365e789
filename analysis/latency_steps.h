#pragma once
// Steps in a latency curve L(n): where the latency jumps from one token count
// to the next by more than the curve's own noise and slope explain. On a GPU
// these are the tail-effect cliffs (one more wave of thread blocks); POMT
// prunes to just below one. Pure functions.
//
// The test, between neighbouring grid points a < b:
//   1. the 95% CIs of the two medians do not overlap (low(b) > high(a)), and
//   2. the rise L(b) - L(a) is at least `min_rise_fraction` of L(a), and
//   3. the rise is at least `slope_factor` times the median rise between
//      neighbours over the whole curve (a steady slope is not a step).
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tailsweep::schedule {

struct LatencyPoint {
  int64_t tokens = 0;
  double median_ms = 0;
  double ci_low_ms = 0;  // the median's 95% CI; equal to the median when unknown
  double ci_high_ms = 0;
};

struct StepRules {
  double min_rise_fraction = 0.02;
  double slope_factor = 3.0;
};

struct LatencyStep {
  int64_t tokens_below = 0;  // a: the last count before the step
  int64_t tokens_above = 0;  // b: the first count after it
  double below_ms = 0;
  double above_ms = 0;
  double height_ms = 0;        // above - below
  double height_fraction = 0;  // height / below
  // Pruning from the largest count measured down to just below the step.
  double saved_from_full_ms = 0;
};

// A curve point measured in rounds carries its paired ratio to the curve's
// reference point (docs/profile.md). On a machine that drifts, the ratio is
// precise where the median is not: the curve on the reference's scale is
// L(n) = ratio(n) x L(reference), with the ratio's CI, and the reference
// itself exact on that scale.
struct PairedPoint {
  LatencyPoint measured;
  std::optional<double> ratio, ratio_ci_low, ratio_ci_high;
  std::optional<int64_t> ratio_to_tokens;
};
// Points without a ratio, or whose reference is not among `points`, stay as
// measured; a reference is exact. Same order as `points`.
std::vector<LatencyPoint> paired_curve(std::span<const PairedPoint> points);

// points in any order; duplicates of a token count are an InputError.
std::vector<LatencyStep> find_latency_steps(std::span<const LatencyPoint> points,
                                            const StepRules& rules = {});

}  // namespace tailsweep::schedule
