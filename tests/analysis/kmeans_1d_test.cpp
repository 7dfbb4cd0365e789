#include "analysis/kmeans_1d.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

namespace tailsweep::clustering {
namespace {

double squared_error_of(const std::vector<float>& values, const KMeansResult& result) {
  double total = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double error = values[i] - result.centroids.at(result.indices.at(i));
    total += error * error;
  }
  return total;
}

TEST(KMeans1d, TwoWellSeparatedGroupsGetTheirMeans) {
  // Worked by hand: linear init puts the centroids at 0 and 10.2; the
  // boundary 5.1 splits the groups; the first step moves the centroids to
  // the means 0.1 and 10.1, whose boundary 5.1 changes no assignment.
  const std::vector<float> values{10.0f, 0.0f, 10.2f, 0.1f, 10.1f, 0.2f};
  const KMeansResult result = kmeans_1d(values, 2, KMeansInit::kLinear);
  ASSERT_EQ(result.centroids.size(), 2u);
  EXPECT_NEAR(result.centroids[0], 0.1, 1e-6);
  EXPECT_NEAR(result.centroids[1], 10.1, 1e-6);
  EXPECT_EQ(result.indices, (std::vector<std::uint8_t>{1, 0, 1, 0, 1, 0}));
  EXPECT_TRUE(result.converged);
  EXPECT_EQ(result.iterations, 1u);
  EXPECT_EQ(result.clusters_used, 2u);
  EXPECT_NEAR(result.squared_error, 4 * 0.01, 1e-6);  // four values 0.1 off, two exact
}

TEST(KMeans1d, LloydMovesABadStartToTheOptimum) {
  // Linear init on {0, 1, 2, 9}: centroids 0 and 9, boundary 4.5: {0,1,2}
  // and {9}. Then 1 and 9: converged. A quantile init starts at 1 and 9
  // too ((0.25 n) -> index 1, (0.75 n) -> index 3).
  const std::vector<float> values{0, 1, 2, 9};
  for (const KMeansInit init : {KMeansInit::kLinear, KMeansInit::kQuantile}) {
    const KMeansResult result = kmeans_1d(values, 2, init);
    EXPECT_FLOAT_EQ(result.centroids[0], 1.0f) << kmeans_init_name(init);
    EXPECT_FLOAT_EQ(result.centroids[1], 9.0f) << kmeans_init_name(init);
    EXPECT_DOUBLE_EQ(result.squared_error, 2.0);
  }
}

TEST(KMeans1d, AValueOnABoundaryGoesToTheLowerCluster) {
  // Centroids settle at 0 and 2 (values 0,0 and 2,2); 1 sits on the
  // midpoint. Start: linear 0 and 2 -> 1 joins the lower cluster, whose
  // mean is 1/3; boundary (1/3+2)/2 = 7/6 > 1: stable.
  const std::vector<float> values{0, 0, 1, 2, 2};
  const KMeansResult result = kmeans_1d(values, 2, KMeansInit::kLinear);
  EXPECT_NEAR(result.centroids[0], 1.0 / 3.0, 1e-6);
  EXPECT_FLOAT_EQ(result.centroids[1], 2.0f);
  EXPECT_EQ(result.indices[2], 0u);
}

TEST(KMeans1d, FewerDistinctValuesThanClustersAreExact) {
  const std::vector<float> values{3, -1, 3, 0.5f, -1};
  const KMeansResult result = kmeans_1d(values, 64, KMeansInit::kLinear);
  EXPECT_EQ(result.centroids, (std::vector<float>{-1, 0.5f, 3}));
  EXPECT_EQ(result.indices, (std::vector<std::uint8_t>{2, 0, 2, 1, 0}));
  EXPECT_DOUBLE_EQ(result.squared_error, 0.0);
  EXPECT_TRUE(result.converged);
  EXPECT_EQ(result.iterations, 0u);
  // One distinct value: a codebook of one.
  EXPECT_EQ(kmeans_1d(std::vector<float>(7, 0.25f), 2, KMeansInit::kQuantile).centroids,
            std::vector<float>{0.25f});
}

TEST(KMeans1d, GaussianWeightsConvergeWithEveryIndexNearestAndErrorFallingWithK) {
  std::mt19937 generator(7);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> values(20000);
  for (float& value : values) value = normal(generator);
  double previous = INFINITY;
  for (const std::size_t k : {16u, 64u, 256u}) {
    for (const KMeansInit init : {KMeansInit::kLinear, KMeansInit::kQuantile}) {
      const KMeansResult result = kmeans_1d(values, k, init);
      SCOPED_TRACE(std::to_string(k) + " " + kmeans_init_name(init));
      EXPECT_TRUE(result.converged);
      ASSERT_EQ(result.centroids.size(), k);
      EXPECT_TRUE(std::is_sorted(result.centroids.begin(), result.centroids.end()));
      EXPECT_NEAR(result.squared_error, squared_error_of(values, result),
                  1e-9 * result.squared_error + 1e-18);
      // Each value's centroid is its nearest (Lloyd's fixed point).
      for (std::size_t i = 0; i < values.size(); i += 97) {
        const float own = std::abs(values[i] - result.centroids[result.indices[i]]);
        for (const float centroid : result.centroids) {
          ASSERT_LE(own, std::abs(values[i] - centroid) + 1e-9f);
        }
      }
      // Each used centroid is the mean of its values (up to float rounding).
      std::vector<double> sums(k, 0);
      std::vector<std::size_t> counts(k, 0);
      for (std::size_t i = 0; i < values.size(); ++i) {
        sums[result.indices[i]] += values[i];
        ++counts[result.indices[i]];
      }
      for (std::size_t j = 0; j < k; ++j) {
        if (counts[j] > 0) {
          ASSERT_NEAR(result.centroids[j], sums[j] / counts[j], 1e-7);
        }
      }
      if (init == KMeansInit::kLinear) {
        EXPECT_LT(result.squared_error, previous);
        previous = result.squared_error;
      }
    }
  }
}

TEST(KMeans1d, TheSameValuesGiveTheSameCodebook) {
  std::mt19937 generator(3);
  std::uniform_real_distribution<float> uniform(-1, 1);
  std::vector<float> values(5000);
  for (float& value : values) value = uniform(generator);
  const KMeansResult first = kmeans_1d(values, 64, KMeansInit::kLinear);
  const KMeansResult second = kmeans_1d(values, 64, KMeansInit::kLinear);
  EXPECT_EQ(first.centroids, second.centroids);
  EXPECT_EQ(first.indices, second.indices);
}

TEST(KMeans1d, AStepCapStopsUnconvergedButStillNearest) {
  std::mt19937 generator(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(5000);
  for (float& value : values) value = normal(generator);
  const KMeansResult capped = kmeans_1d(values, 64, KMeansInit::kLinear, 1);
  EXPECT_EQ(capped.iterations, 1u);
  EXPECT_FALSE(capped.converged);
  EXPECT_NEAR(capped.squared_error, squared_error_of(values, capped), 1e-6);
}

TEST(KMeans1d, RefusesBadArguments) {
  const std::vector<float> values{1, 2, 3};
  EXPECT_THROW(kmeans_1d(values, 1, KMeansInit::kLinear), std::invalid_argument);
  EXPECT_THROW(kmeans_1d(values, 257, KMeansInit::kLinear), std::invalid_argument);
  EXPECT_THROW(kmeans_1d({}, 4, KMeansInit::kLinear), std::invalid_argument);
  const std::vector<float> with_nan{1, NAN, 3};
  EXPECT_THROW(kmeans_1d(with_nan, 2, KMeansInit::kLinear), std::invalid_argument);
  const std::vector<float> with_inf{1, INFINITY};
  EXPECT_THROW(kmeans_1d(with_inf, 2, KMeansInit::kLinear), std::invalid_argument);
  EXPECT_EQ(parse_kmeans_init("quantile"), KMeansInit::kQuantile);
  EXPECT_THROW(parse_kmeans_init("forgy"), std::invalid_argument);
}

}  // namespace
}  // namespace tailsweep::clustering
