#include "agent/engine/attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

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
void attend_in_row_tasks(const at::Tensor& query, const at::Tensor& keys, const at::Tensor& values,
                         const at::Tensor& logit_bias, at::Tensor& probs, at::Tensor& context) {
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
      at::mm_out(block_probs, query[image][head].narrow(0, first_row, rows), keys[image][head].t());
      if (bias_rows.defined()) block_probs.add_(bias_rows[image]);
      at::_softmax_out(block_probs, block_probs, -1, false);
      at::Tensor out_rows =
          context[image].narrow(0, first_row, rows).narrow(1, head * head_dim, head_dim);
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

}  // namespace

AttentionResult multi_head_attention(const at::Tensor& x, const AttentionWeights& weights,
                                     const at::Tensor& logit_bias, at::Tensor* residual,
                                     AttentionKernel kernel) {
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
  if (kernel == AttentionKernel::kRowTasks) {
    attend_in_row_tasks(query, keys, values, logit_bias, probs, context);
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
