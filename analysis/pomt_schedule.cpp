#include "analysis/pomt_schedule.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::schedule {
namespace {

std::map<int64_t, double> by_tokens(std::span<const CurvePoint> curve, const char* what) {
  std::map<int64_t, double> points;
  for (const CurvePoint& point : curve) {
    if (!std::isfinite(point.value)) {
      throw InputError(fmt::format("{} at {} tokens is not a finite number", what, point.tokens));
    }
    if (!points.emplace(point.tokens, point.value).second) {
      throw InputError(fmt::format("{} has two points at {} tokens", what, point.tokens));
    }
  }
  return points;
}

}  // namespace

GridMismatch grid_mismatch(std::span<const CurvePoint> latency_ms,
                           std::span<const CurvePoint> accuracy) {
  std::set<int64_t> latency, top1;
  for (const CurvePoint& point : latency_ms) latency.insert(point.tokens);
  for (const CurvePoint& point : accuracy) top1.insert(point.tokens);
  GridMismatch mismatch;
  std::ranges::set_difference(latency, top1, std::back_inserter(mismatch.latency_only));
  std::ranges::set_difference(top1, latency, std::back_inserter(mismatch.accuracy_only));
  return mismatch;
}

TokensTotal resolve_tokens_total(std::optional<int64_t> option, std::optional<int64_t> model_tokens,
                                 std::span<const CurvePoint> latency_ms,
                                 std::span<const CurvePoint> accuracy) {
  if (latency_ms.empty() || accuracy.empty()) {
    throw InputError(latency_ms.empty() ? "the latency curve has no points"
                                        : "the accuracy curve has no points");
  }
  int64_t largest = 0;
  for (const CurvePoint& point : latency_ms) largest = std::max(largest, point.tokens);
  for (const CurvePoint& point : accuracy) largest = std::max(largest, point.tokens);
  if (option && model_tokens && *option != *model_tokens) {
    throw InputError(fmt::format(
        "--tokens-total {} contradicts the model the curve was measured on ({} tokens with CLS)",
        *option, *model_tokens));
  }
  const TokensTotal total = option         ? TokensTotal{*option, "option"}
                            : model_tokens ? TokensTotal{*model_tokens, "model"}
                                           : TokensTotal{largest, "curve"};
  if (largest > total.value) {
    throw InputError(fmt::format("the curves reach {} tokens, past N = {} (from the {}){}", largest,
                                 total.value, total.source,
                                 total.source == "option" ? ": give the model's own N" : ""));
  }
  if (total.value < 2) throw InputError(fmt::format("N = {} is below 2", total.value));
  return total;
}

PomtSchedule pomt_schedule(std::span<const CurvePoint> latency_ms,
                           std::span<const CurvePoint> accuracy, double alpha,
                           int64_t tokens_total) {
  if (!(alpha >= 0 && alpha <= 1))
    throw InputError(fmt::format("alpha {} is outside [0, 1]", alpha));
  if (tokens_total < 2) throw InputError(fmt::format("tokens_total {} is below 2", tokens_total));
  const auto latency = by_tokens(latency_ms, "latency");
  const auto top1 = by_tokens(accuracy, "accuracy");
  PomtSchedule result;
  double max_latency = 0;
  double max_accuracy = 0;
  for (const auto& [tokens, ms] : latency) {
    const auto found = top1.find(tokens);
    if (found == top1.end()) continue;
    if (!(ms > 0)) throw InputError(fmt::format("latency at {} tokens is {} ms", tokens, ms));
    if (found->second < 0) {
      throw InputError(fmt::format("accuracy at {} tokens is {}", tokens, found->second));
    }
    result.grid.push_back(tokens);
    max_latency = std::max(max_latency, ms);
    max_accuracy = std::max(max_accuracy, found->second);
  }
  if (result.grid.empty()) {
    throw InputError("the latency and accuracy curves have no token count in common");
  }
  for (const int64_t tokens : result.grid) {
    const double accuracy_term = max_accuracy > 0 ? top1.at(tokens) / max_accuracy : 0.0;
    result.utilities.push_back(alpha * (1.0 - latency.at(tokens) / max_latency) +
                               (1.0 - alpha) * accuracy_term);
  }
  // Descending scan, strict improvement: ties keep the larger n.
  std::size_t best = result.grid.size() - 1;
  for (std::size_t i = result.grid.size(); i-- > 0;) {
    if (result.utilities[i] > result.utilities[best]) best = i;
  }
  result.n_star = result.grid[best];
  result.utility = result.utilities[best];
  result.r = std::max<int64_t>(0, (tokens_total - 1) - (result.n_star + 1));
  result.tokens_after_pruning = tokens_total - result.r;
  result.latency_at_n_star_ms = latency.at(result.n_star);
  result.baseline_latency_ms = latency.rbegin()->second;
  result.accuracy_at_n_star = top1.at(result.n_star);
  return result;
}

AlignedSchedule align_to_steps(const PomtSchedule& schedule,
                               std::span<const std::pair<int64_t, int64_t>> steps,
                               int64_t tokens_total) {
  AlignedSchedule aligned;
  aligned.r = schedule.r;
  aligned.tokens_after_pruning = schedule.tokens_after_pruning;
  const int64_t n_star = schedule.n_star;
  const int64_t landing = schedule.tokens_after_pruning;  // n* + 2, or N when R is clamped
  for (const auto& [below, above] : steps) {
    if (below >= above) {
      throw InputError(fmt::format("a step from {} to {} tokens does not rise in tokens", below,
                                   above));
    }
    // (below, above] meets (n*, landing]?
    const bool crossed = below < landing && above > n_star;
    if (!crossed || below < n_star) continue;  // below n*: n* is already past that step
    if (aligned.moved() && below >= aligned.step_below) continue;
    aligned.step_below = below;
    aligned.step_above = above;
    aligned.tokens_after_pruning = below;
    aligned.r = tokens_total - below;
  }
  return aligned;
}

}  // namespace tailsweep::schedule
