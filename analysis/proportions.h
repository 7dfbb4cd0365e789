#pragma once
// Statistics of accuracy on a test set: how sure a top-1 is, and whether two
// methods measured on the same images differ beyond chance. Pure functions.
#include <cstdint>

namespace tailsweep::stats {

struct Interval {
  double low = 0;
  double high = 0;
};

// The Wilson score interval of a proportion (successes of trials) at the
// normal quantile z (1.96: 95%). It stays inside [0, 1] and behaves near 0
// and 1, where the normal approximation does not. trials must be >= 1.
Interval wilson_interval(int64_t successes, int64_t trials, double z = 1.96);

// McNemar's exact test of two methods on the same images: b images only the
// first got right, c only the second. The two-sided p-value of b given
// b + c under "either is as likely" (binomial, p = 1/2); 1 when b + c = 0.
// A small p says the methods differ; a large one that the difference in
// top-1 is within what the images' draw alone would give.
double mcnemar_exact_p(int64_t b, int64_t c);

}  // namespace tailsweep::stats
