#include "agent/attention.h"

#include <ATen/ATen.h>

#include <cmath>

namespace tailsweep::agent {

AttentionWeights prepare_attention(const at::Tensor& qkv_weight, const at::Tensor& qkv_bias,
                                   const at::Tensor& proj_weight, const at::Tensor& proj_bias,
                                   int64_t num_heads) {
  const int64_t dim = proj_weight.size(0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(dim / num_heads));
  AttentionWeights prepared;
  prepared.qkv_weight = qkv_weight.clone();
  prepared.qkv_bias = qkv_bias.clone();
  prepared.qkv_weight.narrow(0, 0, dim).mul_(scale);
  prepared.qkv_bias.narrow(0, 0, dim).mul_(scale);
  prepared.proj_weight = proj_weight.contiguous();
  prepared.proj_bias = proj_bias.contiguous();
  prepared.num_heads = num_heads;
  return prepared;
}

AttentionResult multi_head_attention(const at::Tensor& x, const AttentionWeights& weights,
                                     const at::Tensor& logit_bias) {
  const int64_t batch = x.size(0);
  const int64_t tokens = x.size(1);
  const int64_t dim = x.size(2);
  const int64_t heads = weights.num_heads;
  const int64_t head_dim = dim / heads;

  // (B, N, 3C) -> (3, B, H, N, d) as views; q, k, v are strided, not copied.
  const at::Tensor qkv = at::linear(x, weights.qkv_weight, weights.qkv_bias)
                             .view({batch, tokens, 3, heads, head_dim})
                             .permute({2, 0, 3, 1, 4});
  const at::Tensor query = qkv.select(0, 0);
  const at::Tensor keys = qkv.select(0, 1);
  const at::Tensor values = qkv.select(0, 2);

  at::Tensor logits = at::matmul(query, keys.transpose(-2, -1));  // (B, H, N, N)
  if (logit_bias.defined()) logits.add_(logit_bias);
  at::Tensor probs = logits.softmax(-1);

  const at::Tensor context =
      at::matmul(probs, values).transpose(1, 2).reshape({batch, tokens, dim});
  return {at::linear(context, weights.proj_weight, weights.proj_bias), std::move(probs), keys,
          values};
}

}  // namespace tailsweep::agent
