#include "agent/engine/token_reduction.h"

#include <cmath>
#include <set>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

namespace tailsweep::agent {
namespace {

// Token i of x is the row [i, 10 i, 100 i, ...] so identities can be read
// back from values; CLS (row 0) is made unmistakable.
at::Tensor numbered_tokens(int64_t batch, int64_t tokens, int64_t dim) {
  at::Tensor x = at::arange(tokens, at::kFloat).view({1, tokens, 1}) *
                 at::pow(10.0, at::arange(dim, at::kFloat)).view({1, 1, dim});
  x = x.repeat({batch, 1, 1}).contiguous();
  x.select(1, 0).fill_(-7.0);
  return x;
}

at::Tensor random_probs(int64_t batch, int64_t heads, int64_t tokens, uint64_t seed) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({batch, heads, tokens, tokens}, generator).softmax(-1);
}

TEST(TopK, KeepsClsAndTheRTokensWithMostClsAttention) {
  const int64_t tokens = 12;
  const at::Tensor x = numbered_tokens(2, tokens, 3);
  const at::Tensor probs = random_probs(2, 3, tokens, 1);
  const at::Tensor out = topk_prune(x, probs, 4);
  ASSERT_EQ(out.size(1), tokens - 4);
  const at::Tensor scores = topk_scores(probs);  // (B, N-1)
  for (int64_t b = 0; b < 2; ++b) {
    EXPECT_TRUE(at::equal(out[b][0], x[b][0]));  // CLS first, untouched
    // Expected: patch tokens sorted by descending CLS attention, the top 7.
    const at::Tensor order = std::get<1>(scores[b].sort(true, 0, true)) + 1;
    for (int64_t k = 0; k < tokens - 5; ++k) {
      const int64_t token = order[k].item<int64_t>();
      EXPECT_EQ(out[b][k + 1][0].item<float>(), static_cast<float>(token)) << "b" << b << " k" << k;
    }
  }
}

TEST(TopK, ScoreIsClsAttentionAveragedOverHeads) {
  at::Tensor probs = at::zeros({1, 2, 3, 3});
  probs[0][0][0] = at::tensor({0.2f, 0.5f, 0.3f});
  probs[0][1][0] = at::tensor({0.4f, 0.1f, 0.5f});
  const at::Tensor scores = topk_scores(probs);
  EXPECT_FLOAT_EQ(scores[0][0].item<float>(), 0.3f);
  EXPECT_FLOAT_EQ(scores[0][1].item<float>(), 0.4f);
}

// Worked by hand: see the comments for each number.
TEST(Pomt, ScoreMatchesAHandComputedCase) {
  at::Tensor probs = at::empty({1, 2, 3, 3});
  probs[0][0] = at::tensor({0.5f, 0.25f, 0.25f, 0.2f, 0.5f, 0.3f, 0.1f, 0.6f, 0.3f}).view({3, 3});
  probs[0][1] = at::tensor({0.4f, 0.4f, 0.2f, 0.3f, 0.3f, 0.4f, 0.2f, 0.2f, 0.6f}).view({3, 3});
  at::Tensor values = at::empty({1, 2, 3, 2});
  values[0][0] = at::tensor({1.f, 2.f, 0.f, 1.f, 3.f, -1.f}).view({3, 2});
  values[0][1] = at::tensor({0.f, 0.f, 2.f, 2.f, 1.f, 1.f}).view({3, 2});
  // Patch block, max over heads: [[.5,.4],[.6,.6]]; column sums [1.1, 1.0];
  // divided by the max: [1, 1/1.1].
  // Values: max over heads [[1,2],[2,2],[3,1]], summed [3,4,4], softmax over
  // all three tokens, CLS dropped: e^4 / (e^3 + 2 e^4) for both patches.
  const double value_score = std::exp(4.0) / (std::exp(3.0) + 2 * std::exp(4.0));
  const at::Tensor scores = pomt_scores(probs, values);
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_NEAR(scores[0][0].item<double>(), 1.0 + value_score, 1e-6);
  EXPECT_NEAR(scores[0][1].item<double>(), 1.0 / 1.1 + value_score, 1e-6);
}

TEST(Pomt, FusedTokenIsTheMeanOfTheRPlusOneLowestScoringTokens) {
  const int64_t tokens = 10;
  const int64_t r = 3;
  const at::Tensor x = at::randn({2, tokens, 4});
  // Scores chosen so the order is known: token j+1 scores perm[j].
  const at::Tensor scores = at::tensor({5.f, 1.f, 9.f, 3.f, 7.f, 2.f, 8.f, 0.f, 6.f, 4.f, 3.f, 2.f,
                                        1.f, 0.f, 9.f, 8.f, 7.f, 6.f})
                                .view({2, tokens - 1});
  const at::Tensor out = pomt_prune(x, scores, r);
  ASSERT_EQ(out.size(1), tokens - r);
  // Image 0: scores 5,1,9,3,7,2,8,0,6 for tokens 1..9, so the descending
  // order is tokens 3,7,5,9,1 | 4,6,2,8: keep N-R-2 = 5, fuse R+1 = 4.
  const std::vector<int64_t> kept0 = {3, 7, 5, 9, 1};
  EXPECT_TRUE(at::equal(out[0][0], x[0][0]));
  for (std::size_t k = 0; k < kept0.size(); ++k) {
    EXPECT_TRUE(at::equal(out[0][static_cast<int64_t>(k) + 1], x[0][kept0[k]])) << k;
  }
  EXPECT_TRUE(at::allclose(out[0][tokens - r - 1], (x[0][4] + x[0][6] + x[0][2] + x[0][8]) / 4));
  // Image 1: scores 4,3,2,1,0,9,8,7,6: order 6,7,8,9,1 | 2,3,4,5.
  EXPECT_TRUE(at::equal(out[1][1], x[1][6]));
  EXPECT_TRUE(at::equal(out[1][5], x[1][1]));
  EXPECT_TRUE(at::allclose(out[1][tokens - r - 1], (x[1][2] + x[1][3] + x[1][4] + x[1][5]) / 4));
}

TEST(Pomt, DoesNothingWhenTooFewTokensWouldRemain) {
  const at::Tensor x = at::randn({1, 6, 4});
  const at::Tensor scores = at::randn({1, 5});
  EXPECT_TRUE(at::equal(pomt_prune(x, scores, 0), x));
  EXPECT_TRUE(at::equal(pomt_prune(x, scores, 3), x));  // 6-3-2 = 1 patch token kept
  EXPECT_EQ(pomt_prune(x, scores, 2).size(1), 4);
}

// Keys (already the mean over heads) for five tokens; a = {0, 2, 4} and
// b = {1, 3}. Cosine similarities: a2.b3 = 1, a4.b1 = 0.8, a2.b1 = 0,
// a4.b3 = 0.6; CLS (a0) is excluded.
at::Tensor hand_keys() {
  return at::tensor({3.f, 4.f,     // CLS, parallel to b1 but protected
                     2.f, 0.f,     // b1
                     0.f, 5.f,     // a2
                     0.f, 1.f,     // b3
                     0.8f, 0.6f})  // a4
      .view({1, 5, 2});
}

TEST(Tome, MergesTheMostSimilarPairFirst) {
  const at::Tensor x = numbered_tokens(1, 5, 2);
  const at::Tensor size = at::ones({1, 5, 1});
  const TomeState merged = tome_merge(x, size, hand_keys(), 1);
  // a2 merges into b3; the output is [unmerged a in order (CLS, a4), b1, b3].
  ASSERT_EQ(merged.x.size(1), 4);
  EXPECT_TRUE(at::equal(merged.x[0][0], x[0][0]));
  EXPECT_TRUE(at::equal(merged.x[0][1], x[0][4]));
  EXPECT_TRUE(at::equal(merged.x[0][2], x[0][1]));
  EXPECT_TRUE(at::allclose(merged.x[0][3], (x[0][2] + x[0][3]) / 2));
  EXPECT_TRUE(at::equal(merged.size.flatten(), at::tensor({1.f, 1.f, 1.f, 2.f})));
}

TEST(Tome, AveragesWeightedBySizeAndClampsToHalf) {
  const at::Tensor x = numbered_tokens(1, 5, 2);
  const at::Tensor size = at::tensor({1.f, 2.f, 3.f, 1.f, 4.f}).view({1, 5, 1});
  // r = 5 is clamped to (5-1)/2 = 2: a2 -> b3 and a4 -> b1.
  const TomeState merged = tome_merge(x, size, hand_keys(), 5);
  ASSERT_EQ(merged.x.size(1), 3);
  EXPECT_TRUE(at::equal(merged.x[0][0], x[0][0]));
  EXPECT_TRUE(at::allclose(merged.x[0][1], (x[0][1] * 2 + x[0][4] * 4) / 6));
  EXPECT_TRUE(at::allclose(merged.x[0][2], (x[0][3] * 1 + x[0][2] * 3) / 4));
  EXPECT_TRUE(at::equal(merged.size.flatten(), at::tensor({1.f, 6.f, 4.f})));
}

TEST(Tome, NeverMergesClsAndConservesSize) {
  const at::Tensor x = at::randn({3, 41, 8});
  at::Tensor size = at::ones({3, 41, 1});
  at::Tensor tokens = x;
  for (int step = 0; step < 4; ++step) {
    const TomeState merged = tome_merge(tokens, size, at::randn({3, tokens.size(1), 6}), 7);
    EXPECT_TRUE(at::equal(merged.x.select(1, 0), x.select(1, 0)));
    EXPECT_TRUE(at::equal(merged.size.select(1, 0), at::ones({3, 1})));
    EXPECT_TRUE(at::allclose(merged.size.sum({1, 2}), at::full({3}, 41.0f)));
    tokens = merged.x;
    size = merged.size;
  }
  EXPECT_EQ(tokens.size(1), 41 - 4 * 7);
}

TEST(RandomKeep, KeepsClsAndDistinctPatchTokensInOrder) {
  const at::Tensor x = numbered_tokens(4, 30, 1);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor out = random_keep(x, 9, generator);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{4, 9, 1}));
  std::set<std::vector<float>> picks;
  for (int64_t b = 0; b < 4; ++b) {
    EXPECT_EQ(out[b][0][0].item<float>(), -7.0f);
    std::vector<float> ids;
    for (int64_t k = 1; k < 9; ++k) ids.push_back(out[b][k][0].item<float>());
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    EXPECT_EQ(std::set<float>(ids.begin(), ids.end()).size(), 8u);
    EXPECT_GE(ids.front(), 1.0f);
    EXPECT_LE(ids.back(), 29.0f);
    picks.insert(ids);
  }
  EXPECT_GT(picks.size(), 1u);  // each image draws its own subset
}

}  // namespace
}  // namespace tailsweep::agent
