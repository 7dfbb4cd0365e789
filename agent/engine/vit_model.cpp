#include "agent/engine/vit_model.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agent/engine/token_reduction.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

constexpr double kLayerNormEps = 1e-6;  // timm's ViT

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, kLayerNormEps);
}

// Per-image sum of ToMe sizes, min and max over the batch.
std::pair<double, double> size_sum_range(const at::Tensor& size) {
  const at::Tensor sums = size.sum({1, 2});
  return {sums.min().item<double>(), sums.max().item<double>()};
}

}  // namespace

VitModel::VitModel(VitConfig config, const VitWeights& host_weights, at::Device device,
                   WeightKernel weight_kernel)
    : config_(std::move(config)), device_(device) {
  config_.validate();
  if (static_cast<int64_t>(host_weights.blocks.size()) != config_.depth) {
    throw InputError(fmt::format("model {}: weights have {} blocks, config has {}", config_.name,
                                 host_weights.blocks.size(), config_.depth));
  }
  VitWeights weights = host_weights;  // handles: copies no data on the CPU
  for_each_parameter(config_, weights,
                     [&](const std::string&, const std::vector<int64_t>&, at::Tensor& tensor) {
                       tensor = tensor.to(device_);
                       weight_bytes_ += tensor.numel() * static_cast<int64_t>(sizeof(float));
                     });
  cls_token_ = weights.cls_token;
  pos_embed_ = weights.pos_embed;
  patch_weight_ = weights.patch_weight.contiguous();
  patch_bias_ = weights.patch_bias;
  if (weight_kernel == WeightKernel::kLookup && !device_.is_cpu()) {
    throw InputError("the lookup kernel for clustered weights runs on the CPU only");
  }
  for (std::size_t i = 0; i < weights.blocks.size(); ++i) {
    const BlockWeights& block = weights.blocks[i];
    if (weight_kernel == WeightKernel::kDense) {
      blocks_.push_back(Block{block.norm1_weight, block.norm1_bias, block.norm2_weight,
                              block.norm2_bias,
                              prepare_attention(block.qkv_weight, block.qkv_bias,
                                                block.proj_weight, block.proj_bias,
                                                config_.num_heads),
                              PackedLinear(block.fc1_weight, block.fc1_bias),
                              PackedLinear(block.fc2_weight, block.fc2_bias)});
      continue;
    }
    const auto clustered = [&](const char* layer) -> const ClusteredMatrix& {
      const std::string name = fmt::format("blocks.{}.{}.weight", i, layer);
      const auto found = weights.clustered.find(name);
      if (found == weights.clustered.end()) {
        throw InputError(fmt::format("the lookup kernel needs clustered weights, and '{}' is "
                                     "dense (make them with tailsweep-agent cluster)",
                                     name));
      }
      return found->second;
    };
    // These four are read as indices and codebook, not as the decoded matrix.
    for (const char* layer : {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"}) {
      const ClusteredMatrix& matrix = clustered(layer);
      weight_bytes_ += matrix.indices.numel() * matrix.indices.element_size() +
                       matrix.codebook.numel() * matrix.codebook.element_size() -
                       matrix.indices.numel() * static_cast<int64_t>(sizeof(float));
    }
    blocks_.push_back(Block{block.norm1_weight, block.norm1_bias, block.norm2_weight,
                            block.norm2_bias,
                            prepare_attention_lookup(clustered("attn.qkv"), block.qkv_bias,
                                                     clustered("attn.proj"), block.proj_bias,
                                                     config_.num_heads),
                            PackedLinear::from_codebook(clustered("mlp.fc1").indices,
                                                        clustered("mlp.fc1").codebook,
                                                        block.fc1_bias),
                            PackedLinear::from_codebook(clustered("mlp.fc2").indices,
                                                        clustered("mlp.fc2").codebook,
                                                        block.fc2_bias)});
  }
  norm_weight_ = weights.norm_weight;
  norm_bias_ = weights.norm_bias;
  head_weight_ = weights.head_weight.contiguous();
  head_bias_ = weights.head_bias;
}

void VitModel::check_input(const at::Tensor& images) const {
  const std::vector<int64_t> expected = {config_.in_channels, config_.image_size,
                                         config_.image_size};
  const auto sizes = images.sizes();
  if (images.dim() != 4 || images.size(0) < 1 ||
      std::vector<int64_t>(sizes.begin() + 1, sizes.end()) != expected) {
    throw InputError(fmt::format("input has shape [{}]; model {} needs [B, {}] with B >= 1",
                                 fmt::join(sizes, ", "), config_.name, fmt::join(expected, ", ")));
  }
  if (images.scalar_type() != at::kFloat) {
    throw InputError("input must be float32");
  }
  if (images.device() != device_) {
    throw InputError(
        fmt::format("input is on {} but the model is on {}", images.device().str(), device_.str()));
  }
}

at::Tensor VitModel::embed(const at::Tensor& images) const {
  const int64_t batch = images.size(0);
  // (B, C, h, w) -> (B, h*w, C): row-major patches, as timm flattens them.
  const at::Tensor patches =
      at::conv2d(images, patch_weight_, patch_bias_, {config_.patch_size, config_.patch_size})
          .flatten(2)
          .transpose(1, 2);
  at::Tensor x = at::cat({cls_token_.expand({batch, 1, config_.embed_dim}), patches}, 1);
  x.add_(pos_embed_);
  return x;
}

AttentionResult VitModel::attention_half(const Block& block, at::Tensor& x,
                                         const at::Tensor& logit_bias, const HdpSpec* hdp,
                                         HdpCounts* hdp_counts) {
  return multi_head_attention(layer_norm(x, block.norm1_weight, block.norm1_bias), block.attention,
                              logit_bias, &x, AttentionKernel::kAuto, hdp, hdp_counts);
}

void VitModel::mlp_half(const Block& block, at::Tensor& x) {
  // exact (erf) GELU, as timm, fused into fc1; fc2 accumulates into x.
  const at::Tensor hidden =
      block.fc1.forward_gelu(layer_norm(x, block.norm2_weight, block.norm2_bias));
  block.fc2.accumulate_into(x, hidden);
}

at::Tensor VitModel::forward_block(int64_t index, const at::Tensor& x) const {
  if (index < 0 || index >= config_.depth) {
    throw InputError(fmt::format("block {} is outside 0..{}", index, config_.depth - 1));
  }
  if (x.dim() != 3 || x.size(2) != config_.embed_dim || x.size(1) < 1) {
    throw InputError(fmt::format("block input has shape [{}]; needs [B, N, {}]",
                                 fmt::join(x.sizes(), ", "), config_.embed_dim));
  }
  if (x.device() != device_) {
    throw InputError(fmt::format("block input is on {} but the model is on {}", x.device().str(),
                                 device_.str()));
  }
  c10::InferenceMode inference_guard;
  const Block& block = blocks_[static_cast<std::size_t>(index)];
  at::Tensor y = x.to(at::kFloat).clone(at::MemoryFormat::Contiguous);
  attention_half(block, y, at::Tensor());
  mlp_half(block, y);
  return y;
}

at::Tensor VitModel::forward(const at::Tensor& images, const MethodSpec& method,
                             const ForwardOptions& options, ForwardTrace* trace) const {
  check_input(images);
  validate_for_model(method, config_);
  c10::InferenceMode inference_guard;

  at::Tensor x = embed(images.contiguous());
  if (method.kind == MethodKind::kRandom) {
    at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
    x = random_keep(x, method.keep_tokens, generator);
  }
  if (trace != nullptr) {
    *trace = ForwardTrace{};
    trace->tokens_in = x.size(1);
  }

  const std::vector<int64_t> tome_r = tome_requested_r(method, config_.depth);
  at::Tensor tome_size;  // (B, N, 1); defined once ToMe has merged anything
  for (int64_t index = 0; index < config_.depth; ++index) {
    const Block& block = blocks_[static_cast<std::size_t>(index)];
    if (trace != nullptr) trace->tokens_into_block.push_back(x.size(1));

    // Proportional attention: log(size) added to the logits of each key.
    // Skipped while every size is 1, where it would add zeros.
    const at::Tensor logit_bias =
        tome_size.defined() ? tome_size.log().squeeze(-1).unsqueeze(1).unsqueeze(1) : at::Tensor();
    // x is always a tensor this pass made (embedding, reduction or cat), so
    // the residuals may be accumulated into it in place.
    HdpCounts hdp_counts;
    const AttentionResult attention =
        attention_half(block, x, logit_bias, method.hdp ? &*method.hdp : nullptr, &hdp_counts);
    if (trace != nullptr && method.hdp) trace->hdp_per_block.push_back(hdp_counts);

    switch (method.kind) {
      case MethodKind::kTopK:
        x = topk_prune(x, attention.probs, method.r);
        break;
      case MethodKind::kPomt:
        if (index == method.layer && method.r > 0) {
          x = pomt_prune(x, pomt_scores(attention.probs, attention.values), method.r);
        }
        break;
      case MethodKind::kTome: {
        const int64_t r = tome_r[static_cast<std::size_t>(index)];
        if (r > 0) {
          if (!tome_size.defined()) tome_size = at::ones({x.size(0), x.size(1), 1}, x.options());
          TomeState merged = tome_merge(x, tome_size, attention.keys.mean(1), r);
          x = std::move(merged.x);
          tome_size = std::move(merged.size);
        }
        break;
      }
      case MethodKind::kNone:
      case MethodKind::kRandom:
        break;
    }

    mlp_half(block, x);

    if (trace != nullptr) {
      trace->tokens_after_block.push_back(x.size(1));
      const auto [low, high] = tome_size.defined()
                                   ? size_sum_range(tome_size)
                                   : std::pair<double, double>(static_cast<double>(x.size(1)),
                                                               static_cast<double>(x.size(1)));
      trace->tome_size_sum_min.push_back(low);
      trace->tome_size_sum_max.push_back(high);
    }
  }
  const at::Tensor cls = layer_norm(x, norm_weight_, norm_bias_).select(1, 0);
  return at::linear(cls, head_weight_, head_bias_);
}

}  // namespace tailsweep::agent
