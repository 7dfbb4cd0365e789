#pragma once
// The parameters of a timm ViT/DeiT, with timm's state-dict names, so that
// timm's model.safetensors for deit_{tiny,small,base}_patch16_224 load as is.
// Agent-internal header (ATen types); nothing outside agent/ includes it.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "agent/data/safetensors.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

struct BlockWeights {
  at::Tensor norm1_weight, norm1_bias;
  at::Tensor qkv_weight, qkv_bias;    // (3C, C), (3C): q, k, v stacked, heads split after
  at::Tensor proj_weight, proj_bias;  // (C, C), (C)
  at::Tensor norm2_weight, norm2_bias;
  at::Tensor fc1_weight, fc1_bias;  // (hidden, C), (hidden)
  at::Tensor fc2_weight, fc2_bias;  // (C, hidden), (C)
};

// A matrix as a clustered file stores it: uint8 indices of the matrix's
// shape and a float codebook (agent/data/clustered_weights.h).
struct ClusteredMatrix {
  at::Tensor indices;   // uint8, the matrix's shape
  at::Tensor codebook;  // float, (k)
};

struct VitWeights {
  at::Tensor cls_token;     // (1, 1, C)
  at::Tensor pos_embed;     // (1, patches + 1, C)
  at::Tensor patch_weight;  // (C, channels, patch, patch)
  at::Tensor patch_bias;    // (C)
  std::vector<BlockWeights> blocks;
  at::Tensor norm_weight, norm_bias;
  at::Tensor head_weight, head_bias;  // (classes, C), (classes)
  // From a clustered file: each clustered tensor's indices and codebook, by
  // its timm name, beside its decoded values above. Empty for dense weights.
  std::map<std::string, ClusteredMatrix> clustered;
};

// The one table of names and shapes. `visit(name, shape, tensor_ref)` is
// called for every parameter in timm's order; Weights may be const or not.
template <typename Weights, typename Visit>
void for_each_parameter(const VitConfig& config, Weights& weights, Visit&& visit) {
  const int64_t c = config.embed_dim;
  const int64_t hidden = config.mlp_hidden_dim();
  visit("cls_token", std::vector<int64_t>{1, 1, c}, weights.cls_token);
  visit("pos_embed", std::vector<int64_t>{1, config.total_tokens(), c}, weights.pos_embed);
  visit("patch_embed.proj.weight",
        std::vector<int64_t>{c, config.in_channels, config.patch_size, config.patch_size},
        weights.patch_weight);
  visit("patch_embed.proj.bias", std::vector<int64_t>{c}, weights.patch_bias);
  for (std::size_t i = 0; i < weights.blocks.size(); ++i) {
    auto& block = weights.blocks[i];
    const std::string prefix = "blocks." + std::to_string(i) + ".";
    visit(prefix + "norm1.weight", std::vector<int64_t>{c}, block.norm1_weight);
    visit(prefix + "norm1.bias", std::vector<int64_t>{c}, block.norm1_bias);
    visit(prefix + "attn.qkv.weight", std::vector<int64_t>{3 * c, c}, block.qkv_weight);
    visit(prefix + "attn.qkv.bias", std::vector<int64_t>{3 * c}, block.qkv_bias);
    visit(prefix + "attn.proj.weight", std::vector<int64_t>{c, c}, block.proj_weight);
    visit(prefix + "attn.proj.bias", std::vector<int64_t>{c}, block.proj_bias);
    visit(prefix + "norm2.weight", std::vector<int64_t>{c}, block.norm2_weight);
    visit(prefix + "norm2.bias", std::vector<int64_t>{c}, block.norm2_bias);
    visit(prefix + "mlp.fc1.weight", std::vector<int64_t>{hidden, c}, block.fc1_weight);
    visit(prefix + "mlp.fc1.bias", std::vector<int64_t>{hidden}, block.fc1_bias);
    visit(prefix + "mlp.fc2.weight", std::vector<int64_t>{c, hidden}, block.fc2_weight);
    visit(prefix + "mlp.fc2.bias", std::vector<int64_t>{c}, block.fc2_bias);
  }
  visit("norm.weight", std::vector<int64_t>{c}, weights.norm_weight);
  visit("norm.bias", std::vector<int64_t>{c}, weights.norm_bias);
  visit("head.weight", std::vector<int64_t>{config.num_classes, c}, weights.head_weight);
  visit("head.bias", std::vector<int64_t>{config.num_classes}, weights.head_bias);
}

// Random weights from a seed, timm-like scales (normal std 0.02 for matrices
// and embeddings). Biases and LayerNorm affine terms are small random values,
// not zeros/ones, so that tests notice a bias or affine term that is dropped.
VitWeights random_weights(const VitConfig& config, uint64_t seed);

// Strict: every expected tensor present with its exact shape, nothing else.
// F32, F16, BF16 and F64 are converted to float32. A clustered file
// (agent/data/clustered_weights.h) is decoded first. Errors are InputError
// naming the file and the tensor.
VitWeights load_weights(const VitConfig& config, const std::filesystem::path& path);
// load_weights' checks on a file already read; origin names it in errors.
VitWeights weights_from_file(const VitConfig& config, const safetensors::File& stored,
                             const std::string& origin);
// load_weights(path) or, when path is empty, random_weights(seed).
VitWeights load_or_random_weights(const VitConfig& config, const std::string& path, uint64_t seed);

// The weights of one run: load_or_random_weights and, with clusters >= 2,
// those weights clustered to that many shared values per matrix at load,
// exactly as `tailsweep-agent cluster --clusters K` writes them (linear
// initialisation), then decoded with their indices and codebooks kept.
// clustered_sha256 is clustering::tensors_sha256 of that clustered file
// (empty without clustering), so runs on different machines can show they
// used the same codebooks, and that they match a file from `cluster`. InputError for clusters outside 0 or 2..256, or
// clusters with weights that are already clustered.
struct RunWeights {
  VitWeights weights;
  std::string clustered_sha256;
  std::size_t dense_tensor_bytes = 0;      // with clustering: the tensors' bytes before
  std::size_t clustered_tensor_bytes = 0;  // and after (indices, codebooks, tensors kept)
};
RunWeights run_weights(const VitConfig& config, const std::string& path, uint64_t seed,
                       int64_t clusters);
// The clustering step of run_weights on weights already loaded: `dense`
// clustered to `clusters` (2..256) shared values per matrix; source names
// them in errors. A paired latency job clusters one load to several K.
RunWeights cluster_at_load(const VitConfig& config, const VitWeights& dense,
                           const std::string& source, int64_t clusters);
// The weights as a float32 safetensors file in timm's names (what
// save_weights writes).
safetensors::File weights_file(const VitConfig& config, const VitWeights& weights);
void save_weights(const VitConfig& config, const VitWeights& weights,
                  const std::filesystem::path& path);

}  // namespace tailsweep::agent
