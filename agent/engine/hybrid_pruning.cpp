#include "agent/engine/hybrid_pruning.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

namespace tailsweep::agent {

FixedPointParts split_fixed_point(const at::Tensor& x, int64_t frac_bits) {
  // Powers of two: the scaling is exact, only the rounding changes x.
  const double scale = std::ldexp(1.0, static_cast<int>(frac_bits));
  const at::Tensor rounded = at::round(x * scale) / scale;
  at::Tensor integer = at::trunc(rounded);
  return {integer, rounded - integer};
}

namespace {

int64_t block_count_of(int64_t tokens) { return (tokens + tokens % 2) / 2; }

int64_t blocks_kept_per_row(double block_keep, int64_t block_count) {
  return std::clamp<int64_t>(
      static_cast<int64_t>(std::ceil(block_keep * static_cast<double>(block_count))), 1,
      block_count);
}

// Each block-row keeps its `keep` highest-scoring 2x2 blocks, scored by the
// absolute sum of the integer product over the block (an odd N pads the last
// block-row and block-column with zeros). s_int: (..., N, N); returns the
// entries in pruned blocks, the same shape.
at::Tensor pruned_entries(const at::Tensor& s_int, int64_t keep) {
  const int64_t tokens = s_int.size(-1);
  const int64_t pad = tokens % 2;
  const int64_t blocks = block_count_of(tokens);
  std::vector<int64_t> shape(s_int.sizes().begin(), s_int.sizes().end() - 2);
  std::vector<int64_t> split_shape = shape;
  split_shape.insert(split_shape.end(), {blocks, 2, blocks, 2});
  const int64_t rank = static_cast<int64_t>(split_shape.size());
  const at::Tensor scores = at::constant_pad_nd(s_int, {0, pad, 0, pad})
                                .view(split_shape)
                                .sum({rank - 3, rank - 1})
                                .abs();  // (..., Nb, Nb)
  // A stable sort: among equal scores the leftmost blocks are kept, as in
  // prune_blocks_of_head.
  const at::Tensor top =
      std::get<1>(scores.sort(/*stable=*/true, -1, /*descending=*/true)).narrow(-1, 0, keep);
  const at::Tensor pruned_blocks =
      at::ones_like(scores, scores.options().dtype(at::kBool)).scatter_(-1, top, false);
  return pruned_blocks.repeat_interleave(2, -2)
      .repeat_interleave(2, -1)
      .narrow(-2, 0, tokens)
      .narrow(-1, 0, tokens);
}

// pruned_entries for one head's contiguous (N, N) integer product, in plain
// loops: the CPU task path would otherwise spend more on a dozen small
// tensor ops per head than on the attention it prunes. Returns the sum of
// |S_int| (the head's importance) too.
double prune_blocks_of_head(const float* s_int, int64_t tokens, int64_t keep, bool* pruned) {
  const int64_t blocks = block_count_of(tokens);
  std::vector<float> pair_sums(static_cast<std::size_t>(2 * blocks), 0.0f);  // per column
  // Per block: its score's bits inverted (|sum| >= 0, so the bits order as
  // the floats do), then its index: ascending keys are descending scores,
  // equal scores leftmost first, in one integer comparison.
  std::vector<uint64_t> keys(static_cast<std::size_t>(blocks));
  double importance = 0;
  for (int64_t block_row = 0; block_row < blocks; ++block_row) {
    const int64_t row = 2 * block_row;
    const int64_t rows = std::min<int64_t>(2, tokens - row);
    // The block-row's column sums (and its share of the importance), in
    // loops the compiler vectorises; the padded column stays 0.
    float row_importance = 0;
    for (int64_t c = 0; c < tokens; ++c) {
      const float top = s_int[row * tokens + c];
      const float bottom = rows == 2 ? s_int[(row + 1) * tokens + c] : 0.0f;
      pair_sums[static_cast<std::size_t>(c)] = top + bottom;
      row_importance += std::fabs(top) + std::fabs(bottom);
    }
    importance += row_importance;
    for (int64_t b = 0; b < blocks; ++b) {
      const float score = std::fabs(pair_sums[static_cast<std::size_t>(2 * b)] +
                                    pair_sums[static_cast<std::size_t>(2 * b + 1)]);
      keys[static_cast<std::size_t>(b)] =
          (static_cast<uint64_t>(~std::bit_cast<uint32_t>(score)) << 32) | static_cast<uint64_t>(b);
    }
    // The `keep` best: the same set as a stable descending sort, in linear time.
    std::nth_element(keys.begin(), keys.begin() + (keep - 1), keys.end());
    for (int64_t r = row; r < row + rows; ++r) std::fill_n(pruned + r * tokens, tokens, true);
    for (int64_t k = 0; k < keep; ++k) {
      const int64_t column =
          2 * static_cast<int64_t>(keys[static_cast<std::size_t>(k)] & 0xffffffffu);
      const int64_t columns = std::min<int64_t>(2, tokens - column);
      for (int64_t r = row; r < row + rows; ++r) {
        std::fill_n(pruned + r * tokens + column, columns, false);
      }
    }
  }
  return importance;
}

// The sum of |S_int| over one head's contiguous (N, N) product.
double importance_of_head(const float* s_int, int64_t tokens) {
  double importance = 0;
  for (int64_t row = 0; row < tokens; ++row) {
    float row_importance = 0;
    for (int64_t c = 0; c < tokens; ++c) row_importance += std::fabs(s_int[row * tokens + c]);
    importance += row_importance;
  }
  return importance;
}

// S_int + Q_int K_frac^T + Q_frac K_int^T, scaled: all but the frac x frac term.
at::Tensor approximate_logits(const at::Tensor& s_int, const FixedPointParts& q,
                              const FixedPointParts& k, double query_scale) {
  return (s_int + at::matmul(q.integer, k.fraction.transpose(-2, -1)) +
          at::matmul(q.fraction, k.integer.transpose(-2, -1)))
      .mul_(query_scale);
}

// The counts of a decision, from what it kept.
void count(HdpDecision& decision, const HdpSpec& spec, int64_t batch, int64_t heads, int64_t tokens,
           int64_t head_dim, int64_t keep_per_row) {
  HdpCounts& counts = decision.counts;
  const int64_t entries = tokens * tokens;
  const int64_t blocks = block_count_of(tokens);
  int64_t kept_heads = 0;
  for (const uint8_t kept : decision.head_kept) kept_heads += kept;
  counts.heads = batch * heads;
  counts.heads_pruned = counts.heads - kept_heads;
  counts.blocks = kept_heads * blocks * blocks;
  counts.blocks_pruned = spec.block_keep < 1.0 ? kept_heads * blocks * (blocks - keep_per_row) : 0;
  counts.macs = 2 * batch * heads * entries * head_dim;
  counts.int_macs = batch * heads * entries * head_dim;
  int64_t computed = kept_heads * entries;  // logits of kept heads, in kept blocks
  if (decision.entry_pruned.defined()) {
    const at::Tensor kept = at::tensor(decision.head_kept, at::kLong).view({batch, heads});
    computed -= (decision.entry_pruned.sum({2, 3}).cpu() * kept).sum().item<int64_t>();
  }
  counts.macs_skipped = counts.macs - 2 * computed * head_dim;
  counts.frac_macs_dropped = spec.approximate ? computed * head_dim : 0;
}

// Heads whose importance is below the threshold's share of the strongest
// head's in the same layer and image are pruned.
std::vector<uint8_t> kept_heads(const std::vector<double>& importance, int64_t heads,
                                double threshold) {
  std::vector<uint8_t> kept(importance.size(), 1);
  for (std::size_t image = 0; image * heads < importance.size(); ++image) {
    const auto first = importance.begin() + static_cast<std::ptrdiff_t>(image * heads);
    const double strongest = *std::max_element(first, first + heads);
    for (int64_t h = 0; h < heads; ++h) {
      kept[image * heads + h] = first[h] >= strongest * threshold ? 1 : 0;
    }
  }
  return kept;
}

}  // namespace

HdpDecision decide_hybrid_pruning(const at::Tensor& query, const at::Tensor& keys,
                                  double query_scale, const HdpSpec& spec, bool per_head_tasks) {
  const int64_t batch = query.size(0), heads = query.size(1);
  const int64_t tokens = query.size(2), head_dim = query.size(3);
  const int64_t keep_per_row = blocks_kept_per_row(spec.block_keep, block_count_of(tokens));
  const bool prune_blocks = spec.block_keep < 1.0;
  HdpDecision decision;
  std::vector<double> importance(static_cast<std::size_t>(batch * heads));
  if (per_head_tasks) {
    // One task per (image, head): its integer product, importance, blocks,
    // and (kept heads only, after the decision) its approximate logits.
    // Small integers: the products are exact in float for any ViT's head size.
    at::Tensor s_int = at::empty({batch, heads, tokens, tokens}, query.options());
    if (prune_blocks) {
      decision.entry_pruned = at::empty(s_int.sizes(), s_int.options().dtype(at::kBool));
    }
    // The fractions are needed again only by the approximation.
    std::vector<FixedPointParts> q_parts(spec.approximate ? importance.size() : 0);
    std::vector<FixedPointParts> k_parts(q_parts.size());
    at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t image = task / heads, head = task % heads;
        FixedPointParts q = split_fixed_point(query[image][head] / query_scale, spec.frac_bits);
        FixedPointParts k = split_fixed_point(keys[image][head], spec.frac_bits);
        at::Tensor product = s_int[image][head];  // contiguous
        at::mm_out(product, q.integer, k.integer.t());
        const float* values = product.data_ptr<float>();
        double& head_importance = importance[static_cast<std::size_t>(task)];
        if (prune_blocks) {
          head_importance = prune_blocks_of_head(
              values, tokens, keep_per_row, decision.entry_pruned[image][head].data_ptr<bool>());
        } else {
          head_importance = importance_of_head(values, tokens);
        }
        if (spec.approximate) {
          q_parts[static_cast<std::size_t>(task)] = std::move(q);
          k_parts[static_cast<std::size_t>(task)] = std::move(k);
        }
      }
    });
    decision.head_kept = kept_heads(importance, heads, spec.head_threshold);
    if (spec.approximate) {
      decision.approx_logits = at::empty_like(s_int);
      at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
        for (int64_t task = begin; task < end; ++task) {
          if (decision.head_kept[static_cast<std::size_t>(task)] == 0) continue;
          const int64_t image = task / heads, head = task % heads;
          decision.approx_logits[image][head].copy_(
              approximate_logits(s_int[image][head], q_parts[static_cast<std::size_t>(task)],
                                 k_parts[static_cast<std::size_t>(task)], query_scale));
        }
      });
    }
  } else {
    const FixedPointParts q = split_fixed_point(query / query_scale, spec.frac_bits);
    const FixedPointParts k = split_fixed_point(keys, spec.frac_bits);
    const at::Tensor s_int = at::matmul(q.integer, k.integer.transpose(-2, -1));
    const at::Tensor per_head =
        s_int.abs().sum({2, 3}).to(at::kDouble).cpu().contiguous();  // (B, H)
    importance.assign(per_head.data_ptr<double>(), per_head.data_ptr<double>() + batch * heads);
    decision.head_kept = kept_heads(importance, heads, spec.head_threshold);
    if (prune_blocks) decision.entry_pruned = pruned_entries(s_int, keep_per_row);
    if (spec.approximate) decision.approx_logits = approximate_logits(s_int, q, k, query_scale);
  }
  count(decision, spec, batch, heads, tokens, head_dim, keep_per_row);
  return decision;
}

}  // namespace tailsweep::agent
