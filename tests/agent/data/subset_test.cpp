#include "agent/data/subset.h"

#include <algorithm>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::datasets {
namespace {

std::vector<int32_t> balanced(int classes, int per_class) {
  std::vector<int32_t> labels;
  for (int i = 0; i < classes * per_class; ++i) labels.push_back(i % classes);
  return labels;
}

std::map<int, int> counts(const std::vector<int32_t>& labels,
                          const std::vector<std::size_t>& picked) {
  std::map<int, int> per_class;
  for (std::size_t i : picked) per_class[labels[i]] += 1;
  return per_class;
}

TEST(StratifiedSubset, TakesEqualSharesDrawnWithASeed) {
  const auto labels = balanced(10, 50);
  const auto picked = stratified_subset(labels, 10, 100, 7);
  ASSERT_EQ(picked.size(), 100u);
  for (const auto& [label, n] : counts(labels, picked)) EXPECT_EQ(n, 10) << label;
  EXPECT_TRUE(std::is_sorted(picked.begin(), picked.end()));
  EXPECT_EQ(std::set<std::size_t>(picked.begin(), picked.end()).size(), 100u);
  EXPECT_EQ(stratified_subset(labels, 10, 100, 7), picked);
  EXPECT_NE(stratified_subset(labels, 10, 100, 8), picked);
  // Never "the first 100": those would be indices 0..99.
  EXPECT_GT(picked.back(), 99u);
}

TEST(StratifiedSubset, GivesTheRemainderToTheLowestClasses) {
  const auto labels = balanced(10, 50);
  const auto per_class = counts(labels, stratified_subset(labels, 10, 13, 1));
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class.at(c), c < 3 ? 2 : 1) << c;
}

TEST(StratifiedSubset, SpreadsAShortClassesShortfall) {
  std::vector<int32_t> labels(100, 1);
  labels[5] = 0;  // class 0 has a single image
  const auto per_class = counts(labels, stratified_subset(labels, 2, 20, 1));
  EXPECT_EQ(per_class.at(0), 1);
  EXPECT_EQ(per_class.at(1), 19);
}

TEST(StratifiedSubset, ALimitAboveTheSetTakesEverythingAndBadLabelsAreRefused) {
  const auto labels = balanced(3, 4);
  EXPECT_EQ(stratified_subset(labels, 3, 100, 1).size(), 12u);
  EXPECT_THROW(stratified_subset(std::vector<int32_t>{0, 1, 5}, 3, 2, 1), InputError);
  EXPECT_THROW(stratified_subset(std::vector<int32_t>{0, -1}, 3, 1, 1), InputError);
}

}  // namespace
}  // namespace tailsweep::datasets
