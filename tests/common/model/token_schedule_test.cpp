#include "common/model/token_schedule.h"

#include <gtest/gtest.h>

namespace tailsweep {
namespace {

TokenSchedule schedule_for(const char* method, const char* model = "deit-tiny") {
  return token_schedule(parse_method_spec(method), parse_model_spec(model));
}

TEST(TokenSchedule, BaselineKeepsEveryToken) {
  const TokenSchedule schedule = schedule_for("none");
  EXPECT_EQ(schedule.tokens_in, 197);
  EXPECT_EQ(schedule.tokens_after_block, std::vector<int64_t>(12, 197));
}

TEST(TokenSchedule, RandomKeepsNFromTheStart) {
  const TokenSchedule schedule = schedule_for("random:50");
  EXPECT_EQ(schedule.tokens_in, 50);
  EXPECT_EQ(schedule.tokens_into_block, std::vector<int64_t>(12, 50));
}

TEST(TokenSchedule, TopKDropsREveryBlockUntilTooFewRemain) {
  EXPECT_EQ(schedule_for("topk:10").tokens_after_block,
            (std::vector<int64_t>{187, 177, 167, 157, 147, 137, 127, 117, 107, 97, 87, 77}));
  // 197 -> 102 -> 7; then 7-95-1 < 2 patch tokens would remain: no more.
  EXPECT_EQ(schedule_for("topk:95").tokens_after_block[0], 102);
  EXPECT_EQ(schedule_for("topk:95").tokens_after_block[1], 7);
  EXPECT_EQ(schedule_for("topk:95").tokens_after_block[2], 7);
  EXPECT_EQ(schedule_for("topk:196").tokens_after_block[0], 197);
}

TEST(TokenSchedule, PomtPrunesOnceInItsBlock) {
  const TokenSchedule schedule = schedule_for("pomt:58");
  EXPECT_EQ(schedule.tokens_after_block[2], 197);
  EXPECT_EQ(schedule.tokens_after_block[3], 139);
  EXPECT_EQ(schedule.tokens_after_block[11], 139);
  EXPECT_EQ(schedule_for("pomt:58@0").tokens_after_block[0], 139);
  // N-R-2 <= 1: nothing happens (keeping 1 patch + fused is not pruning).
  EXPECT_EQ(schedule_for("pomt:194").tokens_after_block[3], 197);
  EXPECT_EQ(schedule_for("pomt:193").tokens_after_block[3], 4);
}

TEST(TokenSchedule, TomeClampsToHalfWithClsProtected) {
  EXPECT_EQ(schedule_for("tome:16").tokens_after_block[0], 181);
  // 11 blocks of 16 leave 21 tokens; the last block may merge only (21-1)/2.
  EXPECT_EQ(schedule_for("tome:16").tokens_after_block[10], 197 - 11 * 16);
  EXPECT_EQ(schedule_for("tome:16").tokens_after_block[11], 11);
  // tome:100: 197 -> 197-98=99 -> 99-49=50 -> 50-24=26 -> 26-12=14 ...
  const TokenSchedule clamped = schedule_for("tome:100");
  EXPECT_EQ(clamped.tokens_after_block[0], 99);
  EXPECT_EQ(clamped.tokens_after_block[1], 50);
  EXPECT_EQ(clamped.tokens_after_block[2], 26);
  EXPECT_EQ(clamped.tokens_after_block[3], 14);
  EXPECT_EQ(clamped.tokens_after_block[11], 2);
  const TokenSchedule decreasing = schedule_for("tome:16,-1");
  EXPECT_EQ(decreasing.tokens_after_block[0], 197 - 32);
  EXPECT_EQ(decreasing.tokens_after_block[1], 197 - 32 - 29);
}

// Attention work is n^2 per block: POMT at layer 3 of deit-tiny's 12 keeps
// the first 4 blocks whole and the other 8 at 139 tokens; HDP's part is the
// engine's to count, so an HDP spec alone leaves all of it.
TEST(TokenSchedule, AttentionWorkShareIsTheSumOfSquaredTokenCounts) {
  const VitConfig config = parse_model_spec("deit-tiny");
  EXPECT_DOUBLE_EQ(attention_work_share(parse_method_spec("none"), config), 1.0);
  EXPECT_DOUBLE_EQ(attention_work_share(parse_method_spec("hdp:heads=0.1"), config), 1.0);
  const double pomt = (4.0 * 197 * 197 + 8.0 * 139 * 139) / (12.0 * 197 * 197);
  EXPECT_DOUBLE_EQ(attention_work_share(parse_method_spec("pomt:58"), config), pomt);
  EXPECT_DOUBLE_EQ(attention_work_share(parse_method_spec("pomt:58+hdp:blocks=0.5"), config), pomt);
  EXPECT_LT(attention_work_share(parse_method_spec("tome:16"), config), pomt);
}

}  // namespace
}  // namespace tailsweep
