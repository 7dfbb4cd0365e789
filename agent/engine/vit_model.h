#pragma once
// A timm ViT/DeiT forward pass with token reduction chosen per call.
#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/engine/attention.h"
#include "agent/engine/hybrid_pruning.h"
#include "agent/engine/model_run.h"
#include "agent/engine/vit_weights.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

struct ForwardOptions {
  uint64_t seed = 0;  // for random:N
};

// What actually happened in one forward pass, for tests and for reports.
struct ForwardTrace {
  int64_t tokens_in = 0;
  std::vector<int64_t> tokens_into_block;
  std::vector<int64_t> tokens_after_block;
  // ToMe: per block, the smallest and largest (over the batch) sum of token
  // sizes after the block; both equal the original token count when merging
  // conserves mass.
  std::vector<double> tome_size_sum_min;
  std::vector<double> tome_size_sum_max;
  // Hybrid Dynamic Pruning, per block (empty without hdp in the method).
  std::vector<HdpCounts> hdp_per_block;
};

class VitModel {
 public:
  // The weights are copied to `device` (the CPU, or a CUDA GPU); inputs
  // must be on it too. With WeightKernel::kLookup, the blocks' Linear layers
  // read the clustered weights' indices and codebooks (CPU only); the patch
  // embedding and the head stay dense. InputError when the weights hold no
  // clustered matrix for a block's layer.
  VitModel(VitConfig config, const VitWeights& weights, at::Device device = at::kCPU,
           WeightKernel weight_kernel = WeightKernel::kDense);

  const VitConfig& config() const { return config_; }
  at::Device device() const { return device_; }
  // Bytes of weights one forward pass reads, each tensor once: float32
  // tensors at 4 bytes an element; on the lookup kernel the blocks'
  // matrices as their uint8 indices plus their codebooks.
  int64_t weight_bytes() const { return weight_bytes_; }

  // images: float (B, channels, image, image). Returns logits (B, classes).
  // Throws InputError on a wrong input shape or a method the model cannot run.
  at::Tensor forward(const at::Tensor& images, const MethodSpec& method,
                     const ForwardOptions& options = {}, ForwardTrace* trace = nullptr) const;

  // Patch embedding + CLS + position embedding: (B, N, C).
  at::Tensor embed(const at::Tensor& images) const;

  // One transformer block, without token reduction, on tokens x (B, N, C);
  // x is not modified (the block works on a copy). For `profile --mode block`.
  at::Tensor forward_block(int64_t index, const at::Tensor& x) const;

 private:
  struct Block {
    at::Tensor norm1_weight, norm1_bias, norm2_weight, norm2_bias;
    AttentionWeights attention;
    PackedLinear fc1, fc2;
  };

  void check_input(const at::Tensor& images) const;
  // The halves of a block around the reduction step; x is updated in place.
  static AttentionResult attention_half(const Block& block, at::Tensor& x,
                                        const at::Tensor& logit_bias, const HdpSpec* hdp = nullptr,
                                        HdpCounts* hdp_counts = nullptr);
  static void mlp_half(const Block& block, at::Tensor& x);

  VitConfig config_;
  at::Device device_;
  at::Tensor cls_token_, pos_embed_, patch_weight_, patch_bias_;
  std::vector<Block> blocks_;
  at::Tensor norm_weight_, norm_bias_, head_weight_, head_bias_;
  int64_t weight_bytes_ = 0;
};

}  // namespace tailsweep::agent
