#include "agent/engine/token_reduction.h"

#include <limits>

#include <ATen/ATen.h>

namespace tailsweep::agent {
namespace {

using at::indexing::None;
using at::indexing::Slice;

// Rows of x (B, N, C) picked by index (B, K): gather along the token axis.
at::Tensor gather_tokens(const at::Tensor& x, const at::Tensor& index) {
  return x.gather(1, index.unsqueeze(-1).expand({index.size(0), index.size(1), x.size(2)}));
}

at::Tensor descending_order(const at::Tensor& scores) {
  return std::get<1>(scores.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true));
}

}  // namespace

at::Tensor random_keep(const at::Tensor& x, int64_t keep_tokens, at::Generator& generator) {
  const int64_t batch = x.size(0);
  const int64_t patches = x.size(1) - 1;
  TORCH_CHECK(keep_tokens >= 2 && keep_tokens <= patches + 1, "random_keep: keep_tokens ",
              keep_tokens, " outside 2..", patches + 1);
  if (keep_tokens == patches + 1) return x;
  // A uniformly random subset per image: the first k of a random permutation,
  // put back in token order so the result reads like the input.
  const at::Tensor noise = at::rand({batch, patches}, generator);
  at::Tensor chosen =
      std::get<1>(noise.sort(/*stable=*/true, 1, false)).narrow(1, 0, keep_tokens - 1);
  // Drawn on the CPU whatever the device, so a seed picks the same tokens
  // on every device; a GPU receives only the indices.
  chosen = (std::get<0>(chosen.sort(1)) + 1).to(x.device());
  return at::cat({x.narrow(1, 0, 1), gather_tokens(x, chosen)}, 1);
}

at::Tensor topk_scores(const at::Tensor& probs) {
  return probs.select(2, 0).narrow(2, 1, probs.size(3) - 1).mean(1);
}

at::Tensor topk_prune(const at::Tensor& x, const at::Tensor& probs, int64_t r) {
  const int64_t tokens = x.size(1);
  const int64_t kept = tokens - r - 1;
  if (r <= 0 || kept <= 1) return x;
  const at::Tensor order = descending_order(topk_scores(probs)).narrow(1, 0, kept) + 1;
  return at::cat({x.narrow(1, 0, 1), gather_tokens(x, order)}, 1);
}

at::Tensor pomt_scores(const at::Tensor& probs, const at::Tensor& values) {
  const int64_t tokens = probs.size(2);
  const at::Tensor patch_attn =
      probs.index({Slice(), Slice(), Slice(1, None), Slice(1, None)});  // (B,H,N-1,N-1)
  at::Tensor received = patch_attn.amax(1).sum(1);                      // (B, N-1)
  received = received / received.max();
  const at::Tensor magnitude = values.amax(1).sum(-1);  // (B, N), CLS included
  const at::Tensor value_score = magnitude.softmax(1).narrow(1, 1, tokens - 1);
  return received + value_score;
}

at::Tensor pomt_prune(const at::Tensor& x, const at::Tensor& scores, int64_t r) {
  const int64_t tokens = x.size(1);
  const int64_t kept = tokens - r - 2;
  if (r <= 0 || kept <= 1) return x;
  const at::Tensor order = descending_order(scores) + 1;
  const at::Tensor fused = gather_tokens(x, order.narrow(1, kept, r + 1)).mean(1, true);
  return at::cat({x.narrow(1, 0, 1), gather_tokens(x, order.narrow(1, 0, kept)), fused}, 1);
}

TomeState tome_merge(const at::Tensor& x, const at::Tensor& size, const at::Tensor& keys_mean,
                     int64_t r) {
  const int64_t tokens = x.size(1);
  r = std::min(r, (tokens - 1) / 2);
  if (r <= 0) return {x, size};

  const at::Tensor metric = keys_mean / keys_mean.norm(2, -1, true);
  const at::Tensor metric_a = metric.index({Slice(), Slice(None, None, 2)});
  const at::Tensor metric_b = metric.index({Slice(), Slice(1, None, 2)});
  at::Tensor similarity = at::matmul(metric_a, metric_b.transpose(-1, -2));  // (B, Ta, Tb)
  similarity.select(1, 0).fill_(-std::numeric_limits<float>::infinity());    // CLS never merges

  const auto [best, partner] = similarity.max(-1);  // (B, Ta)
  const at::Tensor edge_order = descending_order(best);
  const at::Tensor unmerged = std::get<0>(edge_order.narrow(1, r, edge_order.size(1) - r).sort(1));
  const at::Tensor merged_src = edge_order.narrow(1, 0, r);
  const at::Tensor merged_dst = partner.gather(1, merged_src);

  // Merge sums of x*size and of size, then divide: a size-weighted average.
  auto merge_sum = [&](const at::Tensor& values) {
    const at::Tensor side_a = values.index({Slice(), Slice(None, None, 2)});
    const at::Tensor side_b = values.index({Slice(), Slice(1, None, 2)});
    const at::Tensor kept_a = gather_tokens(side_a, unmerged);
    const at::Tensor moved = gather_tokens(side_a, merged_src);
    const at::Tensor dst_index =
        merged_dst.unsqueeze(-1).expand({values.size(0), r, values.size(2)});
    const at::Tensor merged_b = side_b.scatter_add(1, dst_index, moved);
    return at::cat({kept_a, merged_b}, 1);
  };
  at::Tensor weighted = merge_sum(x * size);
  at::Tensor new_size = merge_sum(size);
  return {weighted / new_size, new_size};
}

}  // namespace tailsweep::agent
