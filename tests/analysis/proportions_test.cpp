// Accuracy's statistics against values worked by hand (and by the formulas
// in any statistics text: Wilson 1927; McNemar 1947, exact form).
#include "analysis/proportions.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace tailsweep::stats {
namespace {

TEST(Proportions, WilsonIntervalMatchesWorkedValues) {
  // 88.72% of 10,000 images: about +-0.62 points.
  const Interval full = wilson_interval(8872, 10000);
  EXPECT_NEAR(full.low, 0.880850, 1e-6);
  EXPECT_NEAR(full.high, 0.893252, 1e-6);
  // At the edges it stays in [0, 1] and is not empty, unlike p +- z*sqrt(p(1-p)/n).
  const Interval none_right = wilson_interval(0, 10);
  EXPECT_DOUBLE_EQ(none_right.low, 0.0);
  EXPECT_NEAR(none_right.high, 0.277540, 1e-6);
  const Interval all_right = wilson_interval(10, 10);
  EXPECT_NEAR(all_right.low, 0.722460, 1e-6);
  EXPECT_DOUBLE_EQ(all_right.high, 1.0);
  EXPECT_THROW(wilson_interval(3, 0), std::invalid_argument);
  EXPECT_THROW(wilson_interval(4, 3), std::invalid_argument);
}

TEST(Proportions, McNemarExactTestMatchesTheBinomialTail) {
  EXPECT_NEAR(mcnemar_exact_p(10, 0), 2.0 / 1024, 1e-12);  // 2 * (1/2)^10
  // b = 12, c = 4: 2 * (1 + 16 + 120 + 560 + 1820) / 2^16.
  EXPECT_NEAR(mcnemar_exact_p(12, 4), 2.0 * 2517 / 65536, 1e-12);
  EXPECT_NEAR(mcnemar_exact_p(4, 12), 2.0 * 2517 / 65536, 1e-12);  // symmetric
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(5, 5), 1.0);                    // capped at 1
  EXPECT_DOUBLE_EQ(mcnemar_exact_p(0, 0), 1.0);                    // no discordant image
  // 1.5 points on 1,000 images can be noise: 40 against 25 discordant images.
  EXPECT_GT(mcnemar_exact_p(40, 25), 0.05);
  // ... and the same 1.5 points out of 10,000 discordant pairs of 400 vs 250 is not.
  EXPECT_LT(mcnemar_exact_p(400, 250), 1e-6);
  // Large counts neither overflow nor underflow.
  const double p = mcnemar_exact_p(26000, 24000);
  EXPECT_GT(p, 0.0);
  EXPECT_LT(p, 1e-10);
  EXPECT_THROW(mcnemar_exact_p(-1, 2), std::invalid_argument);
}

}  // namespace
}  // namespace tailsweep::stats
