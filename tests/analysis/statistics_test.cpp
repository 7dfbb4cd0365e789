#include "analysis/statistics.h"

#include <cmath>
#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

namespace tailsweep::stats {
namespace {

TEST(Quantile, InterpolatesLinearlyBetweenOrderStatistics) {
  const std::vector<double> values = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(quantile_sorted(values, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(values, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(quantile_sorted(values, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile_sorted(values, 1.0), 4.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(std::vector<double>{7}, 0.3), 7.0);
  EXPECT_THROW(quantile_sorted(std::vector<double>{}, 0.5), std::invalid_argument);
  EXPECT_THROW(quantile_sorted(values, 1.5), std::invalid_argument);
}

using Ranks = std::pair<std::size_t, std::size_t>;

// Ranks from the published tables of distribution-free median intervals
// (1-based there, 0-based here).
TEST(MedianCi, MatchesTheBinomialTables) {
  EXPECT_EQ(median_ci_ranks(5, 0.95), Ranks(5, 5));
  EXPECT_EQ(median_ci_ranks(6, 0.95), Ranks(0, 5));
  EXPECT_EQ(median_ci_ranks(10, 0.95), Ranks(1, 8));
  EXPECT_EQ(median_ci_ranks(20, 0.95), Ranks(5, 14));
  EXPECT_EQ(median_ci_ranks(100, 0.95), Ranks(39, 60));
  EXPECT_EQ(median_ci_ranks(10, 0.99), Ranks(0, 9));
}

TEST(MedianCi, CoversTheTrueMedianAtLeastAsOftenAsAsked) {
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> skewed(1.0);
  const double true_median = std::log(2.0);
  int covered = 0;
  const int trials = 2000;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> samples(31);
    for (auto& v : samples) v = skewed(rng);
    const Summary s = summarize(samples);
    covered += s.median_ci_low <= true_median && true_median <= s.median_ci_high;
  }
  EXPECT_GE(covered, static_cast<int>(0.94 * trials));  // nominal >= 95%
}

TEST(Summarize, HandComputedCase) {
  const std::vector<double> samples = {5, 1, 9, 3, 7, 2, 8, 4, 6};
  const Summary s = summarize(samples);
  EXPECT_EQ(s.count, 9u);
  EXPECT_DOUBLE_EQ(s.median, 5);
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_NEAR(s.stddev, std::sqrt(7.5), 1e-12);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 9);
  EXPECT_DOUBLE_EQ(s.p25, 3);
  EXPECT_DOUBLE_EQ(s.p75, 7);
  EXPECT_DOUBLE_EQ(s.iqr, 4);
  EXPECT_DOUBLE_EQ(s.p5, 1.4);
  EXPECT_DOUBLE_EQ(s.mad, 2);    // |x - 5| = 0,1,1,2,2,3,3,4,4
  ASSERT_TRUE(s.has_median_ci);  // n = 9: ranks 1 and 7 (coverage 96%)
  EXPECT_DOUBLE_EQ(s.median_ci_low, 2);
  EXPECT_DOUBLE_EQ(s.median_ci_high, 8);
  EXPECT_DOUBLE_EQ(s.median_ci_relative_half_width, 0.6);
  EXPECT_FALSE(s.stable);
}

TEST(Summarize, TightSamplesAreStableWithANarrowInterval) {
  std::vector<double> samples;
  for (int i = 0; i < 200; ++i) samples.push_back(10.0 + 0.01 * (i % 7));
  samples.push_back(50.0);  // one outlier is kept, and barely moves the median
  const Summary s = summarize(samples);
  EXPECT_TRUE(s.stable);
  EXPECT_LT(s.median_ci_relative_half_width, 0.01);
  EXPECT_DOUBLE_EQ(s.max, 50.0);
  EXPECT_GT(s.mean, s.median);
}

TEST(Summarize, TooFewSamplesHaveNoInterval) {
  const Summary s = summarize(std::vector<double>{1.0, 1.1, 0.9});
  EXPECT_FALSE(s.has_median_ci);
  EXPECT_TRUE(std::isinf(s.median_ci_relative_half_width));
}

TEST(Summarize, RefusesEmptyOrNonFiniteInput) {
  EXPECT_THROW(summarize(std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(summarize(std::vector<double>{1.0, NAN}), std::invalid_argument);
  EXPECT_THROW(summarize(std::vector<double>{1.0, INFINITY}), std::invalid_argument);
}

}  // namespace
}  // namespace tailsweep::stats
