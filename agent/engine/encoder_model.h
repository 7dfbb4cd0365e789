#pragma once
// A heterogeneous encoder of EdgeTran's design space (common/design/
// architecture.h, docs/design_space.md) in LibTorch, with seeded random
// weights: what the agent times for a design-space sweep. BERT's layout:
// embeddings and a LayerNorm, then per layer a projection where the width
// changes, the token mixer, add and LayerNorm, the feed-forward stack (GELU
// between its Linear layers), add and LayerNorm.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "common/design/architecture.h"

namespace tailsweep::agent {

class EncoderModel {
 public:
  // Random weights from `seed` (normal, sd 0.02; LayerNorms at 1 and 0),
  // built on `device`. Throws InputError for an invalid architecture.
  EncoderModel(design::Architecture architecture, uint64_t seed, at::Device device = at::kCPU);

  const design::Architecture& architecture() const { return architecture_; }
  // Elements of every weight tensor: equals architecture().parameter_count().
  int64_t parameter_count() const;

  // A fixed input of this batch size from `seed`, on the model's device:
  // token ids (int64, B x n) or images (float, B x C x H x W).
  at::Tensor example_input(int64_t batch, uint64_t seed) const;

  // Returns the last layer's tokens (B, n, hidden). Throws InputError on an
  // input of the wrong type or shape.
  at::Tensor forward(const at::Tensor& input) const;

 private:
  struct Linear {
    at::Tensor weight;  // (out, in)
    at::Tensor bias;    // (out)
  };
  struct Layer {
    design::EncoderLayer shape;
    Linear projection;  // undefined where the width does not change
    Linear qkv;         // attention operations only: (3h, h)
    Linear out;         // attention operations only: (h, h)
    at::Tensor wma;     // sa_wma only: (heads, d, d)
    at::Tensor norm1_weight, norm1_bias, norm2_weight, norm2_bias;
    std::vector<Linear> feed_forward;  // widths..., then back to hidden
  };

  at::Tensor embed(const at::Tensor& input) const;
  at::Tensor mix(const Layer& layer, const at::Tensor& x) const;

  design::Architecture architecture_;
  at::Device device_;
  at::Tensor token_embedding_;                      // tokens: (vocabulary, h0); patches: undefined
  Linear patch_embedding_;                          // patches: (h0, C P P)
  at::Tensor cls_;                                  // patches: (1, 1, h0)
  at::Tensor positions_;                            // (1, n, h0)
  at::Tensor embed_norm_weight_, embed_norm_bias_;  // tokens only
  std::vector<Layer> layers_;
};

// The token mixers, on x (B, n, h).
// sa_sdp (wma undefined) or sa_wma (wma: heads x d x d, applied to each
// head's queries): softmax(Q [W] K^T / sqrt(d)) V, then the output Linear.
at::Tensor attention_mix(const at::Tensor& x, const at::Tensor& qkv_weight,
                         const at::Tensor& qkv_bias, const at::Tensor& out_weight,
                         const at::Tensor& out_bias, int64_t heads, const at::Tensor& wma);
// l_dft: the real part of the 2-D DFT over tokens and hidden (FNet).
at::Tensor fourier_mix(const at::Tensor& x);
// l_dct: the DCT-II over the hidden axis, then over the tokens.
at::Tensor cosine_mix(const at::Tensor& x);
// The DCT-II along one dimension, y_k = sum_n x_n cos(pi k (2n + 1) / 2N),
// by one FFT of the even-then-reversed-odd reordering (Makhoul 1980).
at::Tensor dct_ii(const at::Tensor& x, int64_t dim);

}  // namespace tailsweep::agent
