#include "analysis/proportions.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace tailsweep::stats {

Interval wilson_interval(int64_t successes, int64_t trials, double z) {
  if (trials < 1 || successes < 0 || successes > trials) {
    throw std::invalid_argument("wilson_interval: needs 0 <= successes <= trials and trials >= 1");
  }
  const double n = static_cast<double>(trials);
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z / (1 + z2 / n) * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n));
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

double mcnemar_exact_p(int64_t b, int64_t c) {
  if (b < 0 || c < 0) throw std::invalid_argument("mcnemar_exact_p: negative counts");
  const int64_t n = b + c;
  if (n == 0) return 1.0;
  // P(X <= min(b, c)) for X ~ Binomial(n, 1/2), summed in logs so that a
  // test set of 50,000 images neither overflows nor underflows.
  const int64_t k = std::min(b, c);
  const double log_half_n = static_cast<double>(n) * std::log(0.5);
  double tail = 0;
  for (int64_t i = 0; i <= k; ++i) {
    const double log_choose = std::lgamma(static_cast<double>(n) + 1) -
                              std::lgamma(static_cast<double>(i) + 1) -
                              std::lgamma(static_cast<double>(n - i) + 1);
    tail += std::exp(log_choose + log_half_n);
  }
  return std::min(1.0, 2 * tail);
}

}  // namespace tailsweep::stats
