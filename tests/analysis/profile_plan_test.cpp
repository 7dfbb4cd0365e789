#include "analysis/profile_plan.h"

#include <algorithm>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using std::chrono::duration;
using ::testing::HasSubstr;

std::string grid_error(std::string_view text, int64_t max_tokens = 197) {
  try {
    parse_token_grid(text, max_tokens);
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

TEST(TokenGrid, ParsesRangesStepsAndLists) {
  const auto all = parse_token_grid("2:197", 197);
  EXPECT_EQ(all.size(), 196u);
  EXPECT_EQ(all.front(), 2);
  EXPECT_EQ(all.back(), 197);
  // Every fifth, and the top of the range always.
  EXPECT_EQ(parse_token_grid("2:20:5", 197), (std::vector<int64_t>{2, 7, 12, 17, 20}));
  EXPECT_EQ(parse_token_grid("100,2,50,50", 197), (std::vector<int64_t>{2, 50, 100}));
  EXPECT_EQ(parse_token_grid("197", 197), (std::vector<int64_t>{197}));
}

TEST(TokenGrid, RefusesBadGridsWithAReason) {
  EXPECT_THAT(grid_error("1:197"), HasSubstr("outside 2..197"));
  EXPECT_THAT(grid_error("2:198"), HasSubstr("outside 2..197"));
  EXPECT_THAT(grid_error("2,50,300"), HasSubstr("300 is outside"));
  EXPECT_THAT(grid_error("50:2"), HasSubstr("FROM is above TO"));
  EXPECT_THAT(grid_error("2:197:0"), HasSubstr("step"));
  EXPECT_THAT(grid_error("2:197:-3"), HasSubstr("step"));
  EXPECT_THAT(grid_error("2:1:9:7"), HasSubstr("FROM:TO[:STEP]"));
  EXPECT_THAT(grid_error("a:b"), HasSubstr("not an integer"));
  EXPECT_THAT(grid_error(""), HasSubstr("not an integer"));
  EXPECT_THAT(grid_error("2,,3"), HasSubstr("not an integer"));
  EXPECT_THAT(grid_error("-5"), HasSubstr("outside"));
}

TEST(BatchList, ParsesAndRefuses) {
  EXPECT_EQ(parse_batch_list("4,1,4"), (std::vector<int64_t>{1, 4}));
  EXPECT_THROW(parse_batch_list("0"), InputError);
  EXPECT_THROW(parse_batch_list("1,x"), InputError);
  EXPECT_THROW(parse_batch_list(""), InputError);
}

TEST(ShuffledPoints, VisitsEveryPairOnceInASeededOrder) {
  const std::vector<int64_t> batches = {1, 4};
  const std::vector<int64_t> tokens = parse_token_grid("2:197", 197);
  const auto points = shuffled_points(batches, tokens, 7);
  ASSERT_EQ(points.size(), 2u * 196u);
  std::set<std::pair<int64_t, int64_t>> seen;
  for (const auto& p : points) seen.insert({p.batch, p.tokens});
  EXPECT_EQ(seen.size(), points.size());
  // Repeatable for a seed, different across seeds, and not sorted.
  const auto again = shuffled_points(batches, tokens, 7);
  const auto other = shuffled_points(batches, tokens, 8);
  auto as_pairs = [](const std::vector<ProfilePoint>& ps) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& p : ps) out.push_back({p.batch, p.tokens});
    return out;
  };
  EXPECT_EQ(as_pairs(points), as_pairs(again));
  EXPECT_NE(as_pairs(points), as_pairs(other));
  EXPECT_FALSE(std::is_sorted(points.begin(), points.end(),
                              [](const auto& a, const auto& b) { return a.tokens < b.tokens; }));
}

TEST(ShuffledPoints, MethodPointsCoverEveryBatchAndMethodOnTheFullInput) {
  const std::vector<int64_t> batches = {1, 4};
  const auto points = shuffled_method_points(batches, 3, 197, 7);
  ASSERT_EQ(points.size(), 6u);
  std::set<std::pair<int64_t, int>> seen;
  for (const auto& p : points) {
    EXPECT_EQ(p.tokens, 197);
    seen.insert({p.batch, p.method});
  }
  EXPECT_EQ(seen,
            (std::set<std::pair<int64_t, int>>{{1, 0}, {1, 1}, {1, 2}, {4, 0}, {4, 1}, {4, 2}}));
  const auto again = shuffled_method_points(batches, 3, 197, 7);
  EXPECT_TRUE(std::equal(points.begin(), points.end(), again.begin(), [](auto& a, auto& b) {
    return a.batch == b.batch && a.method == b.method;
  }));
}

TEST(StoppingRule, StopsAtThePrecisionOrAtTheCap) {
  const StoppingRule rule{0.01, 10, duration<double>(5.0)};
  std::vector<double> tight(9, 10.0);
  EXPECT_EQ(should_stop(tight, duration<double>(0.1), rule), StopReason::kContinue);
  tight.push_back(10.0);  // the tenth sample: identical values, zero width
  EXPECT_EQ(should_stop(tight, duration<double>(0.1), rule), StopReason::kPrecisionReached);

  std::vector<double> noisy;
  for (int i = 0; i < 40; ++i) noisy.push_back(i % 2 == 0 ? 8.0 : 12.0);
  EXPECT_EQ(should_stop(noisy, duration<double>(1.0), rule), StopReason::kContinue);
  EXPECT_EQ(should_stop(noisy, duration<double>(5.0), rule), StopReason::kTimeCap);
  // A looser precision accepts the noisy point: the median's interval is
  // [8, 12] around 10 when half the samples sit on each side.
  EXPECT_EQ(should_stop(noisy, duration<double>(1.0), StoppingRule{0.25, 10, duration<double>(5)}),
            StopReason::kPrecisionReached);
}

TEST(StoppingRule, FixedTimeRunsToTheCapThenSaysWhetherThePrecisionWasReached) {
  const StoppingRule fixed{0.01, 10, duration<double>(2.0), true};
  const std::vector<double> tight(50, 10.0);
  EXPECT_EQ(should_stop(tight, duration<double>(1.9), fixed), StopReason::kContinue);
  EXPECT_EQ(should_stop(tight, duration<double>(2.0), fixed), StopReason::kPrecisionReached);
  std::vector<double> noisy;
  for (int i = 0; i < 40; ++i) noisy.push_back(i % 2 == 0 ? 8.0 : 12.0);
  EXPECT_EQ(should_stop(noisy, duration<double>(2.0), fixed), StopReason::kTimeCap);
}

}  // namespace
}  // namespace tailsweep
