#include "agent/engine/attention.h"

#include <cmath>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace tailsweep::agent {
namespace {

struct RawAttention {
  at::Tensor qkv_weight, qkv_bias, proj_weight, proj_bias;
};

RawAttention random_attention(int64_t dim) {
  return {at::randn({3 * dim, dim}) * 0.2, at::randn({3 * dim}) * 0.1, at::randn({dim, dim}) * 0.2,
          at::randn({dim}) * 0.1};
}

// timm's Attention.forward with an optional additive bias, written plainly.
at::Tensor plain_attention(const at::Tensor& x, const RawAttention& w, int64_t heads,
                           const at::Tensor& bias) {
  const int64_t b = x.size(0), n = x.size(1), c = x.size(2);
  const auto qkv = at::linear(x, w.qkv_weight, w.qkv_bias)
                       .reshape({b, n, 3, heads, c / heads})
                       .permute({2, 0, 3, 1, 4})
                       .unbind(0);
  at::Tensor logits =
      at::matmul(qkv[0], qkv[1].transpose(-2, -1)) * std::pow(static_cast<double>(c / heads), -0.5);
  if (bias.defined()) logits = logits + bias;
  const at::Tensor out = at::matmul(logits.softmax(-1), qkv[2]).transpose(1, 2).reshape({b, n, c});
  return at::linear(out, w.proj_weight, w.proj_bias);
}

TEST(Attention, MatchesTimmsAttention) {
  const RawAttention raw = random_attention(128);
  const AttentionWeights prepared =
      prepare_attention(raw.qkv_weight, raw.qkv_bias, raw.proj_weight, raw.proj_bias, 2);
  const at::Tensor x = at::randn({2, 17, 128});
  const AttentionResult result = multi_head_attention(x, prepared);
  const at::Tensor expected = plain_attention(x, raw, 2, {});
  // d = 64: the folded scale 1/8 is exact, so only summation order differs:
  // agreement to float rounding, relative to the output's magnitude (a few
  // 1e-6 of it after two GEMMs of 128 terms; 1e-6 failed about 1 run in 100).
  const double scale = expected.abs().max().item<double>();
  EXPECT_TRUE(at::allclose(result.output, expected, 1e-5, 1e-5 * scale))
      << (result.output - expected).abs().max().item<float>() << " of "
      << expected.abs().max().item<float>();
  EXPECT_EQ(result.probs.sizes(), (std::vector<int64_t>{2, 2, 17, 17}));
  EXPECT_TRUE(at::allclose(result.probs.sum(-1), at::ones({2, 2, 17})));
  EXPECT_EQ(result.keys.sizes(), (std::vector<int64_t>{2, 2, 17, 64}));
  // Keys and values are the unscaled projections.
  const at::Tensor kv = at::linear(x, raw.qkv_weight, raw.qkv_bias).view({2, 17, 3, 2, 64});
  // Sums of 128 float products by two GEMM kernels: 1e-6 absolute was
  // exceeded now and then near zero, so allow float rounding at this size.
  EXPECT_TRUE(at::allclose(result.keys, kv.select(2, 1).transpose(1, 2), 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(result.values, kv.select(2, 2).transpose(1, 2), 1e-5, 1e-5));
}

TEST(Attention, AddsTheLogitBiasBeforeTheSoftmax) {
  const RawAttention raw = random_attention(48);
  const AttentionWeights prepared =
      prepare_attention(raw.qkv_weight, raw.qkv_bias, raw.proj_weight, raw.proj_bias, 3);
  const at::Tensor x = at::randn({2, 9, 48});
  const at::Tensor log_size = at::rand({2, 1, 1, 9}).add(1).log();
  const AttentionResult result = multi_head_attention(x, prepared, log_size);
  EXPECT_TRUE(at::allclose(result.output, plain_attention(x, raw, 3, log_size), 1e-4, 1e-5));
  EXPECT_FALSE(at::allclose(result.output, plain_attention(x, raw, 3, {}), 1e-4, 1e-5));
}

TEST(Attention, TheBatchedKernelComputesWhatTheRowTasksDo) {
  // The GPU runs the batched kernel; here both run on the CPU, with and
  // without ToMe's bias. d = 64, so the folded scale is exact and only the
  // order of summation differs: agreement to float rounding of the output.
  const RawAttention raw = random_attention(192);
  const AttentionWeights prepared =
      prepare_attention(raw.qkv_weight, raw.qkv_bias, raw.proj_weight, raw.proj_bias, 3);
  const at::Tensor x = at::randn({3, 21, 192});
  for (const at::Tensor& bias : {at::Tensor(), at::rand({3, 1, 1, 21}).add(1).log()}) {
    const AttentionResult rows =
        multi_head_attention(x, prepared, bias, nullptr, AttentionKernel::kRowTasks);
    const AttentionResult batched =
        multi_head_attention(x, prepared, bias, nullptr, AttentionKernel::kBatched);
    const at::Tensor expected = plain_attention(x, raw, 3, bias);
    const double scale = expected.abs().max().item<double>();
    EXPECT_TRUE(at::allclose(batched.output, rows.output, 1e-5, 1e-5 * scale))
        << (batched.output - rows.output).abs().max().item<float>() << " of " << scale;
    EXPECT_TRUE(at::allclose(batched.probs, rows.probs, 1e-5, 1e-6));
    EXPECT_TRUE(at::allclose(batched.output, expected, 1e-5, 1e-5 * scale))
        << (batched.output - expected).abs().max().item<float>() << " of " << scale;
  }
  // The residual form accumulates into x in place on both.
  at::Tensor residual_rows = x.clone();
  at::Tensor residual_batched = x.clone();
  multi_head_attention(x, prepared, {}, &residual_rows, AttentionKernel::kRowTasks);
  multi_head_attention(x, prepared, {}, &residual_batched, AttentionKernel::kBatched);
  EXPECT_TRUE(at::allclose(residual_batched, residual_rows, 1e-5, 1e-4));
  EXPECT_FALSE(at::allclose(residual_batched, x, 1e-3, 1e-3));
}

}  // namespace
}  // namespace tailsweep::agent
