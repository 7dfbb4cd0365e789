#pragma once
// A deliberately plain timm ViT forward pass, written line for line from
// timm's vision_transformer.py (scale applied to the logits, q/k/v from
// unbind, no folding, no in-place tricks) so the engine is checked against
// something that shares none of its shortcuts.
#include <cmath>

#include <ATen/ATen.h>

#include "agent/engine/vit_weights.h"
#include "common/model/model_config.h"

namespace tailsweep::agent::testing {

inline at::Tensor reference_vit_forward(const VitConfig& config, const VitWeights& w,
                                        const at::Tensor& images) {
  const int64_t batch = images.size(0);
  const int64_t dim = config.embed_dim;
  const int64_t heads = config.num_heads;
  const double scale = std::pow(static_cast<double>(dim / heads), -0.5);
  at::Tensor x =
      at::conv2d(images, w.patch_weight, w.patch_bias, {config.patch_size, config.patch_size});
  x = x.flatten(2).transpose(1, 2);
  x = at::cat({w.cls_token.expand({batch, -1, -1}), x}, 1) + w.pos_embed;
  for (const auto& b : w.blocks) {
    const int64_t n = x.size(1);
    at::Tensor h = at::layer_norm(x, {dim}, b.norm1_weight, b.norm1_bias, 1e-6);
    const at::Tensor qkv = at::linear(h, b.qkv_weight, b.qkv_bias)
                               .reshape({batch, n, 3, heads, dim / heads})
                               .permute({2, 0, 3, 1, 4});
    const auto parts = qkv.unbind(0);
    at::Tensor attn = at::matmul(parts[0], parts[1].transpose(-2, -1)) * scale;
    attn = attn.softmax(-1);
    h = at::matmul(attn, parts[2]).transpose(1, 2).reshape({batch, n, dim});
    x = x + at::linear(h, b.proj_weight, b.proj_bias);
    h = at::layer_norm(x, {dim}, b.norm2_weight, b.norm2_bias, 1e-6);
    h = at::linear(at::gelu(at::linear(h, b.fc1_weight, b.fc1_bias)), b.fc2_weight, b.fc2_bias);
    x = x + h;
  }
  x = at::layer_norm(x, {dim}, w.norm_weight, w.norm_bias, 1e-6);
  return at::linear(x.select(1, 0), w.head_weight, w.head_bias);
}

}  // namespace tailsweep::agent::testing
