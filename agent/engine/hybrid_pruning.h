#pragma once
// Hybrid Dynamic Pruning of attention (Jaradat et al., arXiv 2407.12893;
// docs/hdp.md), reconstructed from its public description: per layer and
// image, Q and K in fixed point are split into integer and fractional parts;
// the cheap integer product decides which heads to prune (their work is then
// skipped) and which 2x2 blocks of each kept head's attention matrix to keep,
// the same share in every block-row; the approximation drops the frac x frac
// partial product of Q.K^T. Block pruning and the approximation are emulated
// exactly (masks, the dropped product) and counted.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "common/model/hdp_counts.h"
#include "common/model/method_spec.h"

namespace tailsweep::agent {

// x rounded to frac_bits fractional bits, split in sign and magnitude:
// integer = trunc(x), fraction = x - integer, |fraction| < 1 with x's sign.
// (A two's complement split, floor and a fraction in [0, 1), would give
// every small negative value an integer part of -1, and the integer product
// would rank heads by sign patterns rather than by large values.)
struct FixedPointParts {
  at::Tensor integer;
  at::Tensor fraction;
};
FixedPointParts split_fixed_point(const at::Tensor& x, int64_t frac_bits);

// One layer's decisions for attention with query (B, H, N, d), already
// multiplied by query_scale (the folded d^-0.5; HDP works on the unscaled
// Q, as the paper), and keys (B, H, N, d).
struct HdpDecision {
  std::vector<uint8_t> head_kept;  // B * H, image-major: 1 kept, 0 pruned
  at::Tensor entry_pruned;   // (B, H, N, N) bool, in pruned blocks; undefined: no block pruning
  at::Tensor approx_logits;  // (B, H, N, N) scaled logits of kept heads; undefined: exact
  HdpCounts counts;
};
// per_head_tasks: one CPU task per (image, head), as the row-task attention
// runs (small GEMMs in cache, the approximation only for kept heads);
// otherwise whole-batch tensor ops, as a GPU wants. Both decide the same.
HdpDecision decide_hybrid_pruning(const at::Tensor& query, const at::Tensor& keys,
                                  double query_scale, const HdpSpec& spec, bool per_head_tasks);

}  // namespace tailsweep::agent
