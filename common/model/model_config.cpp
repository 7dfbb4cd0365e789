#include "common/model/model_config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/util/errors.h"
#include "common/util/parse.h"

namespace tailsweep {
namespace {

VitConfig make_named(std::string name, int64_t dim, int64_t depth, int64_t heads) {
  VitConfig config;
  config.name = std::move(name);
  config.embed_dim = dim;
  config.depth = depth;
  config.num_heads = heads;
  return config;
}

// The project's own trained model (results/models/fmnist-vit.safetensors):
// 28x28 grey images in 2x2 patches give 196 patches plus CLS, the 197 tokens
// of DeiT at 224, so its latency curves and schedules are on DeiT's grid.
VitConfig fashion_mnist_vit() {
  VitConfig config = make_named("fmnist-vit", 64, 6, 4);
  config.image_size = 28;
  config.patch_size = 2;
  config.in_channels = 1;
  config.mlp_ratio = 2.0;
  config.num_classes = 10;
  return config;
}

const std::vector<VitConfig>& named_models() {
  static const std::vector<VitConfig> models = {
      make_named("deit-tiny", 192, 12, 3),
      make_named("deit-small", 384, 12, 6),
      make_named("deit-base", 768, 12, 12),
      make_named("vit-large", 1024, 24, 16),
      fashion_mnist_vit(),
  };
  return models;
}

int64_t parse_positive_int(std::string_view key, std::string_view text) {
  const auto value = parse_integer(text);
  if (!value || *value <= 0) {
    throw InputError(fmt::format("custom model: {}={} is not a positive integer", key, text));
  }
  return *value;
}

double parse_positive_double(std::string_view key, std::string_view text) {
  const auto value = parse_double(text);
  if (!value || !(*value > 0)) {
    throw InputError(fmt::format("custom model: {}={} is not a positive number", key, text));
  }
  return *value;
}

VitConfig parse_custom(std::string_view body) {
  VitConfig config = named_models().front();
  config.name = fmt::format("custom:{}", body);
  for (const std::string_view item : split(body, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw InputError(fmt::format("custom model: '{}' is not key=value", item));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    if (key == "dim")
      config.embed_dim = parse_positive_int(key, value);
    else if (key == "depth")
      config.depth = parse_positive_int(key, value);
    else if (key == "heads")
      config.num_heads = parse_positive_int(key, value);
    else if (key == "mlp")
      config.mlp_ratio = parse_positive_double(key, value);
    else if (key == "patch")
      config.patch_size = parse_positive_int(key, value);
    else if (key == "image")
      config.image_size = parse_positive_int(key, value);
    else if (key == "channels")
      config.in_channels = parse_positive_int(key, value);
    else if (key == "classes")
      config.num_classes = parse_positive_int(key, value);
    else {
      throw InputError(fmt::format(
          "custom model: unknown key '{}' (known: dim, depth, heads, mlp, patch, image, "
          "channels, classes)",
          key));
    }
  }
  return config;
}

}  // namespace

int64_t VitConfig::mlp_hidden_dim() const {
  // timm: int(dim * mlp_ratio)
  return static_cast<int64_t>(static_cast<double>(embed_dim) * mlp_ratio);
}

double VitConfig::forward_flops(int64_t batch, const std::vector<int64_t>& tokens_per_block) const {
  const double c = static_cast<double>(embed_dim);
  const double hidden = static_cast<double>(mlp_hidden_dim());
  const double patch_k = static_cast<double>(in_channels * patch_size * patch_size);
  double macs = static_cast<double>(patch_tokens()) * patch_k * c;
  for (const int64_t tokens : tokens_per_block) {
    const double n = static_cast<double>(tokens);
    macs += n * c * 3 * c;       // qkv
    macs += 2 * n * n * c;       // q k^T and attn v, all heads together
    macs += n * c * c;           // proj
    macs += 2 * n * c * hidden;  // fc1, fc2
  }
  macs += c * static_cast<double>(num_classes);
  return 2.0 * macs * static_cast<double>(batch);
}

void VitConfig::validate() const {
  auto fail = [&](const std::string& why) {
    throw InputError(fmt::format("model {}: {}", name, why));
  };
  if (image_size <= 0 || patch_size <= 0 || in_channels <= 0 || embed_dim <= 0 || depth <= 0 ||
      num_heads <= 0 || num_classes <= 0 || !(mlp_ratio > 0)) {
    fail("every size must be positive");
  }
  if (image_size % patch_size != 0) {
    fail(fmt::format("image size {} is not a multiple of patch size {}", image_size, patch_size));
  }
  if (embed_dim % num_heads != 0) {
    fail(fmt::format("dim {} is not divisible by heads {}", embed_dim, num_heads));
  }
  if (mlp_hidden_dim() <= 0) fail("mlp ratio gives an empty hidden layer");
  // Bounds that no vision transformer this harness measures comes near
  // (ViT-G/14: dim 1664, depth 48, 257 tokens), so a typo or a hostile spec
  // is refused here, in one line, instead of by an allocation deep inside
  // LibTorch on an agent.
  const auto at_most = [&](std::string_view what, double value, double limit) {
    if (value > limit)
      fail(fmt::format("{} {} is over this harness's limit of {}", what, value, limit));
  };
  at_most("dim", static_cast<double>(embed_dim), kMaxEmbedDim);
  at_most("depth", static_cast<double>(depth), kMaxDepth);
  at_most("heads", static_cast<double>(num_heads), kMaxHeads);
  at_most("channels", static_cast<double>(in_channels), kMaxChannels);
  at_most("classes", static_cast<double>(num_classes), kMaxClasses);
  at_most("image size", static_cast<double>(image_size), kMaxImageSize);
  at_most("the token count", static_cast<double>(total_tokens()), kMaxTokens);
  at_most("the MLP's hidden size", static_cast<double>(mlp_hidden_dim()), 8 * kMaxEmbedDim);
  at_most("the parameter count", parameter_count(), kMaxParameters);
}

double VitConfig::parameter_count() const {
  const double c = static_cast<double>(embed_dim);
  const double hidden = static_cast<double>(mlp_hidden_dim());
  const double patch_k = static_cast<double>(in_channels * patch_size * patch_size);
  const double embedding = patch_k * c + c + (static_cast<double>(total_tokens()) + 1) * c;
  const double block = 4 * c * c + 4 * c              // qkv and proj, with biases
                       + 2 * c * hidden + hidden + c  // fc1, fc2
                       + 4 * c;                       // two layer norms
  const double head =
      2 * c + c * static_cast<double>(num_classes) + static_cast<double>(num_classes);
  return embedding + static_cast<double>(depth) * block + head;
}

std::vector<std::string> named_model_names() {
  std::vector<std::string> names;
  for (const auto& model : named_models()) names.push_back(model.name);
  return names;
}

VitConfig parse_model_spec(std::string_view spec) {
  constexpr std::string_view kCustom = "custom:";
  if (spec.substr(0, kCustom.size()) == kCustom) {
    VitConfig config = parse_custom(spec.substr(kCustom.size()));
    config.validate();
    return config;
  }
  for (const auto& model : named_models()) {
    if (model.name == spec) return model;
  }
  // timm's names for the same architectures, as a user of timm writes them.
  static constexpr std::pair<std::string_view, std::string_view> kTimmNames[] = {
      {"deit_tiny_patch16_224", "deit-tiny"},
      {"deit_small_patch16_224", "deit-small"},
      {"deit_base_patch16_224", "deit-base"},
      {"vit_large_patch16_224", "vit-large"}};
  for (const auto& [timm, ours] : kTimmNames) {
    if (spec == timm) return parse_model_spec(ours);
  }
  throw InputError(fmt::format("unknown model '{}' (known: {}, or custom:dim=..,depth=..,...)",
                               spec, fmt::join(named_model_names(), ", ")));
}

}  // namespace tailsweep
