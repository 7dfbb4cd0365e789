// Hybrid Dynamic Pruning on hand-worked cases: the fixed-point split, a head
// below the threshold skipped, each block-row keeping exactly its share, the
// approximation equal to the exact product without fractional bits, and no
// pruning giving the baseline's logits bit for bit.
#include "agent/engine/hybrid_pruning.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "agent/engine/attention.h"
#include "agent/engine/vit_model.h"
#include "common/model/method_spec.h"

namespace tailsweep::agent {
namespace {

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

HdpSpec hdp(double heads, double blocks, bool approximate, int64_t frac_bits) {
  return HdpSpec{heads, blocks, approximate, frac_bits};
}

TEST(HybridPruning, FixedPointSplitsIntoIntegerAndFractionBySignAndMagnitude) {
  const at::Tensor x = at::tensor({1.75f, -1.25f, 0.3f, -0.1f, -0.8f});
  const FixedPointParts parts = split_fixed_point(x, 2);  // quarters
  // -0.1 rounds to (-)0: equal to 0 either way.
  EXPECT_TRUE(at::equal(parts.integer, at::tensor({1.0f, -1.0f, 0.0f, 0.0f, 0.0f})));
  EXPECT_TRUE(at::equal(parts.fraction, at::tensor({0.75f, -0.25f, 0.25f, 0.0f, -0.75f})));
}

// Head 0 has large queries and keys, head 1 values below 1 whose integer
// parts are 0 or -1: its importance is far below half of head 0's.
TEST(HybridPruning, AHeadBelowTheThresholdIsPrunedAndItsWorkCounted) {
  const int64_t tokens = 6, head_dim = 4;
  at::Tensor query = at::empty({1, 2, tokens, head_dim});
  at::Tensor keys = at::empty({1, 2, tokens, head_dim});
  query[0][0].copy_(at::randn({tokens, head_dim}, seeded(1)).mul_(8));
  keys[0][0].copy_(at::randn({tokens, head_dim}, seeded(2)).mul_(8));
  query[0][1].fill_(0.25);
  keys[0][1].fill_(0.25);
  const double scale = 0.5;  // d^-0.5 for d = 4, folded into the query
  query.mul_(scale);
  for (const bool tasks : {true, false}) {
    const HdpDecision decision =
        decide_hybrid_pruning(query, keys, scale, hdp(0.5, 1, false, 8), tasks);
    EXPECT_EQ(decision.head_kept, (std::vector<uint8_t>{1, 0}));
    EXPECT_EQ(decision.counts.heads, 2);
    EXPECT_EQ(decision.counts.heads_pruned, 1);
    EXPECT_EQ(decision.counts.macs, 2 * 2 * tokens * tokens * head_dim);
    EXPECT_EQ(decision.counts.macs_skipped, 2 * tokens * tokens * head_dim);  // the pruned head's
    EXPECT_EQ(decision.counts.int_macs, 2 * tokens * tokens * head_dim);
    EXPECT_FALSE(decision.entry_pruned.defined());
    EXPECT_FALSE(decision.approx_logits.defined());
    // Threshold 0 keeps every head.
    EXPECT_EQ(decide_hybrid_pruning(query, keys, scale, hdp(0, 1, false, 8), tasks).head_kept,
              (std::vector<uint8_t>{1, 1}));
  }
}

// N = 7: four block columns (the last one a single real column); keeping
// half keeps exactly 2 blocks in every block-row of every head.
TEST(HybridPruning, EveryBlockRowKeepsExactlyItsShare) {
  const int64_t tokens = 7;
  const at::Tensor query = at::randn({2, 3, tokens, 8}, seeded(3)).mul_(4);
  const at::Tensor keys = at::randn({2, 3, tokens, 8}, seeded(4)).mul_(4);
  const HdpDecision decision =
      decide_hybrid_pruning(query, keys, 1.0, hdp(0, 0.5, false, 8), /*per_head_tasks=*/true);
  ASSERT_TRUE(decision.entry_pruned.defined());
  // Each block's top-left entry is a real entry: it says whether the block is kept.
  const at::Tensor mask = decision.entry_pruned.logical_not();
  const at::Tensor kept_blocks = mask.slice(2, 0, tokens, 2).slice(3, 0, tokens, 2);  // (2,3,4,4)
  EXPECT_TRUE(at::equal(kept_blocks.sum(-1), at::full({2, 3, 4}, 2, at::kLong)));
  // Entries in a block share its fate.
  EXPECT_TRUE(at::equal(mask.slice(2, 0, 6, 2), mask.slice(2, 1, 7, 2)));
  EXPECT_EQ(decision.counts.blocks, 6 * 16);
  EXPECT_EQ(decision.counts.blocks_pruned, 6 * 8);
  const int64_t kept_entries = mask.sum().item<int64_t>();
  EXPECT_EQ(decision.counts.macs_skipped, 2 * (2 * 3 * tokens * tokens - kept_entries) * 8);
  // The batched form decides the same.
  const HdpDecision batched =
      decide_hybrid_pruning(query, keys, 1.0, hdp(0, 0.5, false, 8), /*per_head_tasks=*/false);
  EXPECT_TRUE(at::equal(batched.entry_pruned, decision.entry_pruned));
}

// Without fractional bits every value is an integer, the frac x frac
// product is 0, and the approximation is the exact product of the rounded
// values; with them, it differs by exactly that product.
TEST(HybridPruning, TheApproximationIsExactWithoutFractionalBits) {
  const double scale = 0.125;
  const at::Tensor raw_query = at::randn({1, 2, 9, 64}, seeded(5)).mul_(3);
  const at::Tensor keys = at::randn({1, 2, 9, 64}, seeded(6)).mul_(3);
  const at::Tensor query = raw_query * scale;
  const HdpDecision whole = decide_hybrid_pruning(query, keys, scale, hdp(0, 1, true, 0), true);
  const at::Tensor exact =
      at::matmul(at::round(raw_query), at::round(keys).transpose(-2, -1)).mul_(scale);
  EXPECT_TRUE(at::equal(whole.approx_logits, exact));
  const HdpDecision fine = decide_hybrid_pruning(query, keys, scale, hdp(0, 1, true, 4), true);
  const FixedPointParts q = split_fixed_point(raw_query, 4);
  const FixedPointParts k = split_fixed_point(keys, 4);
  const at::Tensor full =
      at::matmul(q.integer + q.fraction, (k.integer + k.fraction).transpose(-2, -1));
  const at::Tensor dropped = at::matmul(q.fraction, k.fraction.transpose(-2, -1));
  EXPECT_TRUE(at::allclose(fine.approx_logits, (full - dropped) * scale, 1e-5, 1e-4));
  EXPECT_FALSE(at::allclose(fine.approx_logits, full * scale, 1e-5, 1e-4));
  EXPECT_EQ(fine.counts.frac_macs_dropped, 2 * 9 * 9 * 64);
}

// 56x56 images with patch 8: 50 tokens, four blocks of four heads.
constexpr const char* kSmallModel =
    "custom:dim=64,depth=4,heads=4,patch=8,image=56,channels=3,classes=10";

TEST(HybridPruning, NoPruningGivesTheBaselinesLogitsBitForBit) {
  const VitConfig config = parse_model_spec(kSmallModel);
  const VitModel model(config, random_weights(config, 7));
  const at::Tensor images = at::randn({3, 3, 56, 56}, seeded(11));
  const at::Tensor baseline = model.forward(images, parse_method_spec("none"));
  ForwardTrace trace;
  const at::Tensor off =
      model.forward(images, parse_method_spec("hdp:heads=0,blocks=1,approx=0"), {}, &trace);
  EXPECT_TRUE(at::equal(off, baseline));
  ASSERT_EQ(trace.hdp_per_block.size(), 4u);
  EXPECT_EQ(trace.hdp_per_block[0].heads, 3 * 4);
  EXPECT_EQ(trace.hdp_per_block[0].heads_pruned, 0);
  EXPECT_EQ(trace.hdp_per_block[0].macs_skipped, 0);
  // Composed with POMT: the same as POMT alone when HDP prunes nothing.
  EXPECT_TRUE(at::equal(model.forward(images, parse_method_spec("pomt:20+hdp:heads=0")),
                        model.forward(images, parse_method_spec("pomt:20"))));
  // Pruning changes the logits, and the trace says by how much work.
  const at::Tensor pruned = model.forward(
      images, parse_method_spec("hdp:heads=0.9,blocks=0.5,approx=1,frac=4"), {}, &trace);
  EXPECT_FALSE(at::allclose(pruned, baseline, 1e-4, 1e-4));
  int64_t skipped = 0;
  for (const HdpCounts& counts : trace.hdp_per_block) skipped += counts.macs_skipped;
  EXPECT_GT(skipped, 0);
}

// The GPU's batched path gathers the kept heads; on the CPU it must agree
// with the row tasks that skip them.
TEST(HybridPruning, TheBatchedKernelAgreesWithTheRowTasks) {
  at::Tensor qkv_weight = at::randn({3 * 96, 96}, seeded(8)).mul_(0.3);
  qkv_weight.narrow(0, 64, 32).mul_(0.05);  // head 2's queries: small, pruned
  const at::Tensor qkv_bias = at::randn({3 * 96}, seeded(9)).mul_(0.1);
  const at::Tensor proj_weight = at::randn({96, 96}, seeded(10)).mul_(0.1);
  const at::Tensor proj_bias = at::zeros({96});
  const AttentionWeights weights =
      prepare_attention(qkv_weight, qkv_bias, proj_weight, proj_bias, 3);
  const at::Tensor x = at::randn({2, 13, 96}, seeded(12));
  const HdpSpec spec = hdp(0.6, 0.5, true, 6);
  HdpCounts rows_counts, batched_counts;
  const AttentionResult rows = multi_head_attention(
      x, weights, {}, nullptr, AttentionKernel::kRowTasks, &spec, &rows_counts);
  const AttentionResult batched = multi_head_attention(
      x, weights, {}, nullptr, AttentionKernel::kBatched, &spec, &batched_counts);
  EXPECT_TRUE(at::allclose(rows.output, batched.output, 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(rows.probs, batched.probs, 1e-5, 1e-6));
  EXPECT_GT(rows_counts.heads_pruned, 0);
  EXPECT_LT(rows_counts.heads_pruned, rows_counts.heads);
  EXPECT_EQ(rows_counts.macs_skipped, batched_counts.macs_skipped);
  // A pruned head's attention is all zeros.
  EXPECT_EQ(rows.probs.sum({2, 3}).eq(0).sum().item<int64_t>(), rows_counts.heads_pruned);
}

}  // namespace
}  // namespace tailsweep::agent
