#pragma once
// POMT's offline schedule, exactly as its reference code computes it, as a
// pure function (REFERENCES.md, "POMT, the offline schedule"):
//   U(n) = a (1 - L(n) / max L) + (1 - a) A(n) / max A
//   n*   = argmax U over the grid, R = (N - 1) - (n* + 1)
// n counts tokens with CLS. Note the reference's off-by-two: pruning R
// tokens at one block leaves N - R = n* + 2 tokens, not n*. We keep it, for
// fidelity, and report both.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tailsweep::schedule {

struct CurvePoint {
  int64_t tokens = 0;
  double value = 0;  // latency in ms, or top-1 as a fraction
};

struct PomtSchedule {
  int64_t n_star = 0;
  int64_t r = 0;                     // clamped at 0
  int64_t tokens_after_pruning = 0;  // N - R
  double utility = 0;                // U(n*)
  double latency_at_n_star_ms = 0;
  double baseline_latency_ms = 0;  // L at the largest grid point (N when measured)
  double accuracy_at_n_star = 0;
  std::vector<int64_t> grid;      // the token counts both curves have, ascending
  std::vector<double> utilities;  // U on that grid
};

// Uses the token counts present in both curves. Ties go to the larger n,
// as numpy's argmax over the reference's descending grid. Throws
// InputError: alpha outside [0, 1], no common point, a non-positive or
// non-finite latency, a negative accuracy, tokens_total < 2.
PomtSchedule pomt_schedule(std::span<const CurvePoint> latency_ms,
                           std::span<const CurvePoint> accuracy, double alpha,
                           int64_t tokens_total);

// The token counts only one of the two curves has. pomt_schedule uses the
// counts both have; a user should see what that left out, not find out.
struct GridMismatch {
  std::vector<int64_t> latency_only;   // ascending
  std::vector<int64_t> accuracy_only;  // ascending
  bool any() const { return !latency_only.empty() || !accuracy_only.empty(); }
};
GridMismatch grid_mismatch(std::span<const CurvePoint> latency_ms,
                           std::span<const CurvePoint> accuracy);

// N, the tokens with CLS of the model the curves belong to: the option when
// given, else the model's own count when the source names it, else the
// largest count on either curve. InputError when the option and the model
// disagree, or a curve reaches past N (R would be negative there).
struct TokensTotal {
  int64_t value = 0;
  std::string source;  // "option", "model" or "curve"
};
TokensTotal resolve_tokens_total(std::optional<int64_t> option, std::optional<int64_t> model_tokens,
                                 std::span<const CurvePoint> latency_ms,
                                 std::span<const CurvePoint> accuracy);

// The step-aligned variant: the same utility and n*, but the pruning lands
// at or below the step that the reference's n* + 2 would cross. For each
// detected step (a, b] (a: the last count measured below it, b: the first
// above), the reference's landing crosses it when (a, b] meets (n*, n* + 2]:
// on a grid of stride 1, a cliff right after n* or n* + 1; on a coarser
// grid, a step whose exact place between a and b is unknown. Then the
// landing is a, the largest count known to be below the step (a is n* or
// n* + 1). Otherwise, the reference's rule. Ties between steps go to the
// lowest a.
struct AlignedSchedule {
  int64_t r = 0;
  int64_t tokens_after_pruning = 0;  // N - R
  // The step the reference would have crossed: below..above tokens; 0 when
  // none was near and the reference's rule stands.
  int64_t step_below = 0;
  int64_t step_above = 0;
  bool moved() const { return step_below != 0; }
};

// `steps`: (a, b) pairs, as find_latency_steps gives them (tokens_below,
// tokens_above). Throws InputError for a step with a >= b.
AlignedSchedule align_to_steps(const PomtSchedule& schedule,
                               std::span<const std::pair<int64_t, int64_t>> steps,
                               int64_t tokens_total);

}  // namespace tailsweep::schedule
