#include "agent/engine/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "agent/engine/hybrid_pruning.h"
#include "agent/engine/vit_weights.h"

namespace tailsweep::agent {

namespace {

double query_scale(int64_t dim, int64_t num_heads) {
  return 1.0 / std::sqrt(static_cast<double>(dim / num_heads));
}

}  // namespace

AttentionWeights prepare_attention_lookup(const ClusteredMatrix& qkv, const at::Tensor& qkv_bias,
                                          const ClusteredMatrix& proj,
                                          const at::Tensor& proj_bias, int64_t num_heads) {
  const int64_t dim = proj.indices.size(0);
  const double scale = query_scale(dim, num_heads);
  at::Tensor out_scale = at::ones({3 * dim}, at::kFloat);
  out_scale.narrow(0, 0, dim).fill_(scale);
  at::Tensor scaled_bias = qkv_bias.clone();
  scaled_bias.narrow(0, 0, dim).mul_(scale);
  return {PackedLinear::from_codebook(qkv.indices, qkv.codebook, scaled_bias, out_scale),
          PackedLinear::from_codebook(proj.indices, proj.codebook, proj_bias), num_heads};
}

AttentionWeights prepare_attention(const at::Tensor& qkv_weight, const at::Tensor& qkv_bias,
                                   const at::Tensor& proj_weight, const at::Tensor& proj_bias,
                                   int64_t num_heads) {
  const int64_t dim = proj_weight.size(0);
  const double scale = query_scale(dim, num_heads);
  at::Tensor scaled_weight = qkv_weight.clone();
  at::Tensor scaled_bias = qkv_bias.clone();
  scaled_weight.narrow(0, 0, dim).mul_(scale);
  scaled_bias.narrow(0, 0, dim).mul_(scale);
  return {PackedLinear(scaled_weight, scaled_bias), PackedLinear(proj_weight, proj_bias),
          num_heads};
}

namespace {

// Splits every (image, head) into row chunks so the task count divides
// evenly over the threads: 3 heads on 2 threads become 6 half-heads.
int64_t row_chunks_per_head(int64_t batch_heads, int64_t tokens) {
  const int64_t threads = at::get_num_threads();
  const int64_t chunks = threads / std::gcd(batch_heads, threads);
  return std::clamp<int64_t>(chunks, 1, std::max<int64_t>(1, tokens / 8));
}

// The CPU path. Each task owns some query rows of one (image, head): logits,
// softmax and probs @ v for those rows stay in cache, the GEMMs run
// single-threaded inside the parallel region (no fork/join per small GEMM),
// and the result lands directly in its column slice of the (B, N, C)
// context, so no transpose copy is needed before the output projection.
// With HDP, a pruned head's task only writes zeros (its work is skipped),
// and a kept head's logits take the approximation and the block mask.
void attend_in_row_tasks(const at::Tensor& query, const at::Tensor& keys, const at::Tensor& values,
                         const at::Tensor& logit_bias, const HdpDecision* hdp, at::Tensor& probs,
                         at::Tensor& context) {
  const int64_t batch = query.size(0);
  const int64_t heads = query.size(1);
  const int64_t tokens = query.size(2);
  const int64_t head_dim = query.size(3);
  const at::Tensor bias_rows =
      logit_bias.defined() ? logit_bias.expand({batch, 1, 1, tokens}).select(2, 0).select(1, 0)
                           : at::Tensor();  // (B, N)
  const int64_t chunks = row_chunks_per_head(batch * heads, tokens);
  const int64_t rows_per_chunk = (tokens + chunks - 1) / chunks;
  at::parallel_for(0, batch * heads * chunks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t image = task / (heads * chunks);
      const int64_t head = (task / chunks) % heads;
      const int64_t first_row = (task % chunks) * rows_per_chunk;
      const int64_t rows = std::min(rows_per_chunk, tokens - first_row);
      if (rows <= 0) continue;
      at::Tensor block_probs = probs[image][head].narrow(0, first_row, rows);
      at::Tensor out_rows =
          context[image].narrow(0, first_row, rows).narrow(1, head * head_dim, head_dim);
      if (hdp != nullptr && hdp->head_kept[static_cast<std::size_t>(image * heads + head)] == 0) {
        block_probs.zero_();
        out_rows.zero_();
        continue;
      }
      if (hdp != nullptr && hdp->approx_logits.defined()) {
        block_probs.copy_(hdp->approx_logits[image][head].narrow(0, first_row, rows));
      } else {
        at::mm_out(block_probs, query[image][head].narrow(0, first_row, rows),
                   keys[image][head].t());
      }
      if (hdp != nullptr && hdp->entry_pruned.defined()) {
        block_probs.masked_fill_(hdp->entry_pruned[image][head].narrow(0, first_row, rows),
                                 -std::numeric_limits<float>::infinity());
      }
      if (bias_rows.defined()) block_probs.add_(bias_rows[image]);
      at::_softmax_out(block_probs, block_probs, -1, false);
      at::mm_out(out_rows, block_probs, values[image][head]);
    }
  });
}

// The GPU path: one batched GEMM for all logits, one softmax, one batched
// GEMM for probs @ v, then the heads back side by side. Per-(image, head)
// GEMMs would be thousands of tiny kernel launches.
void attend_batched(const at::Tensor& query, const at::Tensor& keys, const at::Tensor& values,
                    const at::Tensor& logit_bias, at::Tensor& probs, at::Tensor& context) {
  at::matmul_out(probs, query, keys.transpose(-2, -1));
  if (logit_bias.defined()) probs.add_(logit_bias);
  at::_softmax_out(probs, probs, -1, false);
  // (B, H, N, d) -> (B, N, H, d), which is the (B, N, C) context's layout.
  const at::Tensor per_head = at::matmul(probs, values).transpose(1, 2);
  context.view(per_head.sizes()).copy_(per_head);
}

// The batched path under HDP: the kept (image, head) pairs gathered into one
// batch, so pruned heads cost no GEMM or softmax on a GPU either; the rest
// of probs and context stays zero.
void attend_batched_hdp(const at::Tensor& query, const at::Tensor& keys, const at::Tensor& values,
                        const at::Tensor& logit_bias, const HdpDecision& hdp, at::Tensor& probs,
                        at::Tensor& context) {
  const int64_t batch = query.size(0), heads = query.size(1);
  const int64_t tokens = query.size(2), head_dim = query.size(3);
  std::vector<int64_t> kept;
  for (std::size_t i = 0; i < hdp.head_kept.size(); ++i) {
    if (hdp.head_kept[i] != 0) kept.push_back(static_cast<int64_t>(i));
  }
  probs.zero_();
  context.zero_();
  if (kept.empty()) return;
  const at::Tensor index = at::tensor(kept, at::kLong).to(query.device());
  const auto pick = [&](const at::Tensor& t) {
    return t.reshape({batch * heads, t.size(2), t.size(3)}).index_select(0, index);
  };
  at::Tensor logits = hdp.approx_logits.defined()
                          ? pick(hdp.approx_logits)
                          : at::bmm(pick(query), pick(keys).transpose(-2, -1));
  if (hdp.entry_pruned.defined()) {
    logits.masked_fill_(pick(hdp.entry_pruned), -std::numeric_limits<float>::infinity());
  }
  if (logit_bias.defined()) logits.add_(pick(logit_bias.expand({batch, heads, tokens, tokens})));
  at::_softmax_out(logits, logits, -1, false);
  probs.view({batch * heads, tokens, tokens}).index_copy_(0, index, logits);
  const at::Tensor kept_context = at::bmm(logits, pick(values));  // (K, N, d)
  at::Tensor per_head = at::zeros({batch * heads, tokens, head_dim}, query.options());
  per_head.index_copy_(0, index, kept_context);
  // (B, H, N, d) -> (B, N, H, d), the (B, N, C) context's layout.
  context.view({batch, tokens, heads, head_dim})
      .copy_(per_head.view({batch, heads, tokens, head_dim}).transpose(1, 2));
}

}  // namespace

AttentionResult multi_head_attention(const at::Tensor& x, const AttentionWeights& weights,
                                     const at::Tensor& logit_bias, at::Tensor* residual,
                                     AttentionKernel kernel, const HdpSpec* hdp,
                                     HdpCounts* hdp_counts) {
  const int64_t batch = x.size(0);
  const int64_t tokens = x.size(1);
  const int64_t dim = x.size(2);
  const int64_t heads = weights.num_heads;
  const int64_t head_dim = dim / heads;

  // (B, N, 3C) -> (3, B, H, N, d) as views; q, k, v are strided, not copied.
  const at::Tensor qkv =
      weights.qkv.forward(x).view({batch, tokens, 3, heads, head_dim}).permute({2, 0, 3, 1, 4});
  const at::Tensor query = qkv.select(0, 0);
  const at::Tensor keys = qkv.select(0, 1);
  const at::Tensor values = qkv.select(0, 2);

  at::Tensor probs = at::empty({batch, heads, tokens, tokens}, x.options());
  at::Tensor context = at::empty({batch, tokens, dim}, x.options());
  if (kernel == AttentionKernel::kAuto) {
    kernel = x.is_cpu() ? AttentionKernel::kRowTasks : AttentionKernel::kBatched;
  }
  std::optional<HdpDecision> decision;
  if (hdp != nullptr) {
    decision = decide_hybrid_pruning(query, keys, query_scale(dim, heads), *hdp,
                                     kernel == AttentionKernel::kRowTasks);
    if (hdp_counts != nullptr) *hdp_counts += decision->counts;
  }
  if (kernel == AttentionKernel::kRowTasks) {
    attend_in_row_tasks(query, keys, values, logit_bias, decision ? &*decision : nullptr, probs,
                        context);
  } else if (decision) {
    attend_batched_hdp(query, keys, values, logit_bias, *decision, probs, context);
  } else {
    attend_batched(query, keys, values, logit_bias, probs, context);
  }
  if (residual != nullptr) {
    weights.proj.accumulate_into(*residual, context);
    return {*residual, std::move(probs), keys, values};
  }
  return {weights.proj.forward(context), std::move(probs), keys, values};
}

}  // namespace tailsweep::agent
