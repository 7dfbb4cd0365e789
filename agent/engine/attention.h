#pragma once
// The one attention implementation that the baseline and every
// token-reduction method run on: explicit softmax(q k^T * d^-0.5 + bias) v.
// (The POMT reference compares PyTorch's fused SDPA baseline against explicit
// softmax for the pruned models; here the comparison is like for like.)
#include <cstdint>

#include <ATen/core/Tensor.h>

#include "agent/engine/packed_linear.h"
#include "common/model/hdp_counts.h"
#include "common/model/method_spec.h"

namespace tailsweep::agent {

// qkv weights with the query rows already multiplied by d^-0.5, so the
// scale costs nothing at run time. For d = 64 (every DeiT) the scale is a
// power of two and the result is bit-identical to scaling the logits.
struct AttentionWeights {
  PackedLinear qkv;   // (3C, C), query rows scaled
  PackedLinear proj;  // (C, C)
  int64_t num_heads = 1;
};

AttentionWeights prepare_attention(const at::Tensor& qkv_weight, const at::Tensor& qkv_bias,
                                   const at::Tensor& proj_weight, const at::Tensor& proj_bias,
                                   int64_t num_heads);

struct ClusteredMatrix;  // vit_weights.h
// The same on the lookup kernel, for clustered qkv and proj matrices: one
// codebook serves q, k and v, so the query rows' scale multiplies their sums
// (PackedLinear's out_scale) instead of their weights.
AttentionWeights prepare_attention_lookup(const ClusteredMatrix& qkv, const at::Tensor& qkv_bias,
                                          const ClusteredMatrix& proj,
                                          const at::Tensor& proj_bias, int64_t num_heads);

struct AttentionResult {
  at::Tensor output;  // (B, N, C), after the output projection (+ residual)
  at::Tensor probs;   // (B, H, N, N), softmaxed
  at::Tensor keys;    // (B, H, N, d)
  at::Tensor values;  // (B, H, N, d)
};

// How the core softmax(q k^T + bias) v runs; both compute the same thing.
// kAuto: row tasks on the CPU, batched anywhere else.
enum class AttentionKernel { kAuto, kRowTasks, kBatched };

// x is the normalised input (B, N, C). logit_bias, when defined, is added to
// the logits before the softmax and must broadcast to (B, H, N, N); ToMe's
// proportional attention passes log(size) as (B, 1, 1, N). When residual is
// given (contiguous, (B, N, C)), the projection is accumulated into it in
// place (one GEMM with beta = 1, no temporary) and output is that tensor.
// With hdp, Hybrid Dynamic Pruning (hybrid_pruning.h) prunes heads and
// blocks and approximates the logits; what it did is added to hdp_counts.
AttentionResult multi_head_attention(const at::Tensor& x, const AttentionWeights& weights,
                                     const at::Tensor& logit_bias = {},
                                     at::Tensor* residual = nullptr,
                                     AttentionKernel kernel = AttentionKernel::kAuto,
                                     const HdpSpec* hdp = nullptr, HdpCounts* hdp_counts = nullptr);

}  // namespace tailsweep::agent
