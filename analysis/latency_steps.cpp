#include "analysis/latency_steps.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/util/errors.h"

namespace tailsweep::schedule {

std::vector<LatencyStep> find_latency_steps(std::span<const LatencyPoint> points,
                                            const StepRules& rules) {
  std::vector<LatencyPoint> curve(points.begin(), points.end());
  std::sort(curve.begin(), curve.end(),
            [](const LatencyPoint& a, const LatencyPoint& b) { return a.tokens < b.tokens; });
  for (std::size_t i = 1; i < curve.size(); ++i) {
    if (curve[i].tokens == curve[i - 1].tokens) {
      throw InputError(fmt::format("two latency points at {} tokens", curve[i].tokens));
    }
  }
  std::vector<LatencyStep> steps;
  if (curve.size() < 2) return steps;
  std::vector<double> rises;
  for (std::size_t i = 1; i < curve.size(); ++i) {
    rises.push_back(std::fabs(curve[i].median_ms - curve[i - 1].median_ms));
  }
  std::vector<double> sorted = rises;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2),
                   sorted.end());
  const double typical_rise = sorted[sorted.size() / 2];
  const double full_ms = curve.back().median_ms;
  for (std::size_t i = 1; i < curve.size(); ++i) {
    const LatencyPoint& below = curve[i - 1];
    const LatencyPoint& above = curve[i];
    const double rise = above.median_ms - below.median_ms;
    const bool separated = above.ci_low_ms > below.ci_high_ms;
    const bool tall = rise >= rules.min_rise_fraction * below.median_ms;
    const bool steeper_than_slope = rise >= rules.slope_factor * typical_rise;
    if (separated && tall && steeper_than_slope) {
      steps.push_back(LatencyStep{below.tokens, above.tokens, below.median_ms, above.median_ms,
                                  rise, rise / below.median_ms, full_ms - below.median_ms});
    }
  }
  return steps;
}

std::vector<LatencyPoint> paired_curve(std::span<const PairedPoint> points) {
  const auto find = [&](int64_t tokens) -> const PairedPoint* {
    for (const PairedPoint& p : points) {
      if (p.measured.tokens == tokens) return &p;
    }
    return nullptr;
  };
  std::vector<LatencyPoint> curve;
  curve.reserve(points.size());
  for (const PairedPoint& p : points) {
    LatencyPoint point = p.measured;
    const PairedPoint* reference = p.ratio_to_tokens ? find(*p.ratio_to_tokens) : nullptr;
    if (p.ratio && reference != nullptr) {
      const double scale = reference->measured.median_ms;
      point.median_ms = *p.ratio * scale;
      point.ci_low_ms = p.ratio_ci_low.value_or(*p.ratio) * scale;
      point.ci_high_ms = p.ratio_ci_high.value_or(*p.ratio) * scale;
    } else if (std::any_of(points.begin(), points.end(), [&](const PairedPoint& other) {
                 return other.ratio && other.ratio_to_tokens == p.measured.tokens;
               })) {
      point.ci_low_ms = point.ci_high_ms = point.median_ms;  // the scale itself
    }
    curve.push_back(point);
  }
  return curve;
}

}  // namespace tailsweep::schedule
