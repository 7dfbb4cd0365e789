#pragma once
// Statistics of latency samples, as pure functions. Nothing is dropped:
// outliers stay in the samples and show up in the spread and the flag.
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace tailsweep::stats {

// The q-quantile (0 <= q <= 1) of sorted values, linearly interpolated
// between order statistics (Hyndman-Fan type 7, numpy's default).
double quantile_sorted(std::span<const double> sorted, double q);

// Distribution-free confidence interval for the median: the 0-based ranks
// (low, high) of the order statistics such that P(x_(low) <= median <=
// x_(high)) >= confidence, from the Binomial(n, 1/2) distribution, as tight
// and symmetric as possible. Needs n large enough for the confidence (n >= 6
// at 95%); returns (n, n), ranks past the end, otherwise.
std::pair<std::size_t, std::size_t> median_ci_ranks(std::size_t n, double confidence);

struct Summary {
  std::size_t count = 0;
  double min = 0, max = 0, mean = 0, stddev = 0;
  double median = 0, p5 = 0, p25 = 0, p75 = 0, p95 = 0;
  double mad = 0;  // median absolute deviation from the median (unscaled)
  double iqr = 0;
  // The confidence interval of the median (95% unless asked otherwise);
  // has_median_ci is false when there are too few samples for one.
  bool has_median_ci = false;
  double median_ci_low = 0, median_ci_high = 0;
  // max(median - low, high - median) / median; +inf without an interval.
  double median_ci_relative_half_width = 0;
  // The spread is small: IQR at most 10% of the median (llama-bench and
  // MLPerf users ask for exactly this warning).
  bool stable = false;
};

inline constexpr double kStableIqrFraction = 0.10;

// Throws std::invalid_argument on no samples or a non-finite one.
Summary summarize(std::span<const double> samples, double confidence = 0.95);

}  // namespace tailsweep::stats
