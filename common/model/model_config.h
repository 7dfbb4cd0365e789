#pragma once
// Vision-transformer architectures, as data. Lives in common/ because the
// coordinator needs token counts and depths to plan sweeps without LibTorch.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailsweep {

// The largest architecture validate() accepts (see there for why).
inline constexpr double kMaxEmbedDim = 8192;
inline constexpr double kMaxDepth = 256;
inline constexpr double kMaxHeads = 256;
inline constexpr double kMaxChannels = 16;
inline constexpr double kMaxClasses = 100'000;
inline constexpr double kMaxImageSize = 4096;
inline constexpr double kMaxTokens = 4097;  // 64 x 64 patches and CLS
inline constexpr double kMaxParameters = 2e9;

struct VitConfig {
  std::string name;
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t in_channels = 3;
  int64_t embed_dim = 192;
  int64_t depth = 12;
  int64_t num_heads = 3;
  double mlp_ratio = 4.0;
  int64_t num_classes = 1000;

  int64_t patches_per_side() const { return image_size / patch_size; }
  int64_t patch_tokens() const { return patches_per_side() * patches_per_side(); }
  // Tokens entering the first block: the patches plus CLS (197 for DeiT at 224).
  int64_t total_tokens() const { return patch_tokens() + 1; }
  int64_t head_dim() const { return embed_dim / num_heads; }
  int64_t mlp_hidden_dim() const;
  // Multiply-accumulates x 2 of one forward pass at a given token count per
  // block, counting the GEMMs and the two attention matmuls (what dominates).
  double forward_flops(int64_t batch, const std::vector<int64_t>& tokens_per_block) const;

  // timm's parameter count: embeddings, blocks (with biases and norms), head.
  double parameter_count() const;

  // Throws InputError naming the first inconsistent field, or the first
  // size over the limits above.
  void validate() const;
};

// deit-tiny, deit-small, deit-base, vit-large: patch 16, 224x224, CLS token,
// 1000 classes, as timm's *_patch16_224 models.
std::vector<std::string> named_model_names();

// The --model help text every command shows.
inline constexpr const char* kModelSpecHelp =
    "deit-tiny | deit-small | deit-base | vit-large | fmnist-vit | "
    "custom:dim=..,depth=..,heads=..,mlp=..,"
    "patch=..,image=..,channels=..,classes=..";

// Accepts a named model or "custom:dim=64,depth=6,heads=4,mlp=4,patch=16,
// image=224,channels=3,classes=10" (any subset of keys; the rest default to
// deit-tiny's). Throws InputError listing the known names on failure.
VitConfig parse_model_spec(std::string_view spec);

}  // namespace tailsweep
