#include "analysis/matched_latency.h"

#include <limits>

#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::schedule {
namespace {

TEST(MatchedLatency, CandidatesStopWhereEveryBlockCouldStillRemoveR) {
  // deit-tiny: 197 tokens, 12 blocks: (197 - 3) / 12 = 16.
  const auto topk = matching_candidates("topk", parse_model_spec("deit-tiny"));
  ASSERT_EQ(topk.size(), 16u);
  EXPECT_EQ(topk.front(), "topk:1");
  EXPECT_EQ(topk.back(), "topk:16");
  // fmnist-vit: 197 tokens, 6 blocks: 32.
  EXPECT_EQ(matching_candidates("tome", parse_model_spec("fmnist-vit")).back(), "tome:32");
  EXPECT_THROW(matching_candidates("pomt", parse_model_spec("deit-tiny")), InputError);
}

TEST(MatchedLatency, PicksTheClosestAndSaysWhetherItIsWithinTolerance) {
  const std::vector<MethodLatency> tome = {
      {"tome:4", 30.0}, {"tome:8", 26.0}, {"tome:12", 21.0}, {"tome:16", 18.0}};
  // Target 22: |26-22| = 4, |21-22| = 1, |18-22| = 4 -> tome:12, 1/22 = 4.5% faster.
  const MatchedBaseline matched = match_latency(22.0, tome, 0.05);
  EXPECT_EQ(matched.method, "tome:12");
  EXPECT_DOUBLE_EQ(matched.latency_ms, 21.0);
  EXPECT_NEAR(matched.relative_gap, -1.0 / 22.0, 1e-12);
  EXPECT_TRUE(matched.within_tolerance);
  EXPECT_EQ(matched.candidates, 4u);
  // Target 10: nothing gets there; the closest (tome:16) is 80% slower, and says so.
  const MatchedBaseline unreachable = match_latency(10.0, tome, 0.05);
  EXPECT_EQ(unreachable.method, "tome:16");
  EXPECT_NEAR(unreachable.relative_gap, 0.8, 1e-12);
  EXPECT_FALSE(unreachable.within_tolerance);
}

TEST(MatchedLatency, TiesGoToTheLighterReductionListedFirst) {
  const std::vector<MethodLatency> topk = {{"topk:2", 24.0}, {"topk:3", 20.0}};
  EXPECT_EQ(match_latency(22.0, topk, 0.05).method, "topk:2");
}

TEST(MatchedLatency, RefusesWhatCannotBeMatched) {
  const std::vector<MethodLatency> none;
  const std::vector<MethodLatency> one = {{"topk:1", 10.0}};
  const std::vector<MethodLatency> broken = {{"topk:1", std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_THROW(match_latency(10.0, none, 0.05), InputError);
  EXPECT_THROW(match_latency(0.0, one, 0.05), InputError);
  EXPECT_THROW(match_latency(10.0, one, 0.0), InputError);
  EXPECT_THROW(match_latency(10.0, broken, 0.05), InputError);
}

}  // namespace
}  // namespace tailsweep::schedule
