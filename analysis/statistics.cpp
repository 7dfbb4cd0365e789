#include "analysis/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace tailsweep::stats {
namespace {

// log C(n, k) via lgamma: exact enough for the tail sums below at any n we
// will see (a point rarely has more than a few thousand samples).
double log_binomial(std::size_t n, std::size_t k) {
  return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(n - k) + 1);
}

}  // namespace

double quantile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) throw std::invalid_argument("quantile of no values");
  if (!(q >= 0.0 && q <= 1.0)) throw std::invalid_argument("quantile outside [0, 1]");
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

std::pair<std::size_t, std::size_t> median_ci_ranks(std::size_t n, double confidence) {
  if (n == 0) return {0, 0};
  // The interval [x_(j), x_(n-1-j)] (0-based) misses the median when fewer
  // than j+1 samples lie below it or fewer than j+1 above: probability
  // 2 * P(B <= j) for B ~ Binomial(n, 1/2). Take the largest j that keeps
  // the coverage at least `confidence`.
  const double alpha = 1.0 - confidence;
  const double log_half_n = static_cast<double>(n) * std::log(0.5);
  double tail = 0.0;  // P(B <= j)
  std::size_t best = n;
  for (std::size_t j = 0; j < (n + 1) / 2; ++j) {
    tail += std::exp(log_binomial(n, j) + log_half_n);
    if (2.0 * tail > alpha) break;
    best = j;
  }
  if (best == n) return {n, n};  // too few samples for this confidence
  return {best, n - 1 - best};
}

Summary summarize(std::span<const double> samples, double confidence) {
  if (samples.empty()) throw std::invalid_argument("summarize: no samples");
  std::vector<double> sorted(samples.begin(), samples.end());
  for (const double value : sorted) {
    if (!std::isfinite(value)) throw std::invalid_argument("summarize: non-finite sample");
  }
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();

  Summary s;
  s.count = n;
  s.min = sorted.front();
  s.max = sorted.back();
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(n);
  double squares = 0.0;
  for (const double value : sorted) squares += (value - s.mean) * (value - s.mean);
  s.stddev = n > 1 ? std::sqrt(squares / static_cast<double>(n - 1)) : 0.0;
  s.median = quantile_sorted(sorted, 0.5);
  s.p5 = quantile_sorted(sorted, 0.05);
  s.p25 = quantile_sorted(sorted, 0.25);
  s.p75 = quantile_sorted(sorted, 0.75);
  s.p95 = quantile_sorted(sorted, 0.95);
  s.iqr = s.p75 - s.p25;

  std::vector<double> deviations(n);
  std::transform(sorted.begin(), sorted.end(), deviations.begin(),
                 [&](double value) { return std::abs(value - s.median); });
  std::sort(deviations.begin(), deviations.end());
  s.mad = quantile_sorted(deviations, 0.5);

  const auto [low, high] = median_ci_ranks(n, confidence);
  s.has_median_ci = low < n;
  if (s.has_median_ci) {
    s.median_ci_low = sorted[low];
    s.median_ci_high = sorted[high];
    const double half = std::max(s.median - s.median_ci_low, s.median_ci_high - s.median);
    s.median_ci_relative_half_width =
        s.median > 0 ? half / s.median : std::numeric_limits<double>::infinity();
  } else {
    s.median_ci_relative_half_width = std::numeric_limits<double>::infinity();
  }
  s.stable = s.median > 0 && s.iqr <= kStableIqrFraction * s.median;
  return s;
}

}  // namespace tailsweep::stats
