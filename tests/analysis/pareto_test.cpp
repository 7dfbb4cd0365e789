// The Pareto front of (cost, value) points, worked by hand.
#include "analysis/pareto.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace tailsweep::stats {
namespace {

TEST(ParetoFront, KeepsThePointsNothingBeatsOnBoth) {
  // (latency change %, top-1 %): none at 0/89, pomt -18/87.3, topk -18/83.9
  // (dominated by pomt), tome -11/88.6, topk:8 +2/87.5 (dominated by none),
  // topk:31 -35/80.3.
  const std::vector<ParetoPoint> points = {{0, 89.1},     {-18.3, 87.3}, {-17.9, 83.9},
                                           {-10.8, 88.6}, {1.7, 87.5},   {-34.8, 80.3}};
  EXPECT_EQ(pareto_front(points), (std::vector<std::size_t>{5, 1, 3, 0}));
}

TEST(ParetoFront, EqualPointsStayAndWorseOnesAtTheSameCostGo) {
  const std::vector<ParetoPoint> points = {{1, 5}, {1, 5}, {1, 4}, {2, 5}};
  EXPECT_EQ(pareto_front(points), (std::vector<std::size_t>{0, 1}));
}

TEST(ParetoFront, NonFinitePointsAndNoPoints) {
  EXPECT_TRUE(pareto_front({}).empty());
  const std::vector<ParetoPoint> points = {{NAN, 100}, {1, 1}};
  EXPECT_EQ(pareto_front(points), (std::vector<std::size_t>{1}));
}

// Three costs (latency, energy, parameters): a point worse in all three is
// off; one better in any is on; equal points both stay; non-finite never.
TEST(Nondominated, KeepsEveryPointNoOtherBeatsInEveryCost) {
  const std::vector<std::vector<double>> costs = {
      {10, 1.0, 5},  // on: the lowest energy
      {5, 2.0, 8},   // on: the lowest latency
      {12, 1.5, 9},  // off: (10, 1.0, 5) is better in all three
      {8, 3.0, 2},   // on: the fewest parameters
      {5, 2.0, 8},   // on: equal to a point on the front
      {1, NAN, 1},   // never
  };
  EXPECT_EQ(nondominated(costs), (std::vector<std::size_t>{0, 1, 3, 4}));
  EXPECT_TRUE(nondominated(std::vector<std::vector<double>>{}).empty());
}

}  // namespace
}  // namespace tailsweep::stats
