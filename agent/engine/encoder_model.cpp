#include "agent/engine/encoder_model.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using design::InputKind;
using design::Operation;

constexpr double kLayerNormEps = 1e-12;  // BERT's
constexpr double kWeightStd = 0.02;      // BERT's initializer range

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias) {
  return at::layer_norm(x, {x.size(-1)}, weight, bias, kLayerNormEps);
}

// Weights are drawn on the CPU from one generator, in a fixed order, then
// moved: the same seed gives the same model on every device.
class WeightSource {
 public:
  WeightSource(uint64_t seed, at::Device device)
      : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)), device_(device) {}
  at::Tensor normal(std::vector<int64_t> shape) {
    return at::normal(0.0, kWeightStd, shape, generator_).to(device_);
  }
  at::Tensor ones(int64_t size) { return at::ones({size}).to(device_); }
  at::Tensor zeros(int64_t size) { return at::zeros({size}).to(device_); }

 private:
  at::Generator generator_;
  at::Device device_;
};

}  // namespace

at::Tensor dct_ii(const at::Tensor& x, int64_t dim) {
  const int64_t n = x.size(dim);
  // v = x[0], x[2], ..., then the odd ones backwards; then
  // y_k = Re(exp(-i pi k / 2N) * FFT(v)_k).
  const at::Tensor v = at::cat({x.slice(dim, 0, n, 2), x.slice(dim, 1, n, 2).flip({dim})}, dim);
  const at::Tensor spectrum = at::fft_fft(v, c10::nullopt, dim);
  const at::Tensor k = at::arange(n, x.options().dtype(at::kDouble));
  const at::Tensor angle = (-M_PI / (2.0 * static_cast<double>(n))) * k;
  std::vector<int64_t> shape(static_cast<std::size_t>(x.dim()), 1);
  const int64_t axis = dim < 0 ? dim + x.dim() : dim;
  shape[static_cast<std::size_t>(axis)] = n;
  const at::Tensor twiddle =
      at::complex(at::cos(angle), at::sin(angle)).to(spectrum.scalar_type()).view(shape);
  return at::real(spectrum * twiddle).contiguous();
}

EncoderModel::EncoderModel(design::Architecture architecture, uint64_t seed, at::Device device)
    : architecture_(std::move(architecture)), device_(device) {
  architecture_.validate();
  const c10::InferenceMode inference;
  WeightSource source(seed, device_);
  const int64_t first = architecture_.layers.front().hidden;
  const int64_t n = architecture_.sequence_length;
  if (architecture_.input == InputKind::tokens) {
    token_embedding_ = source.normal({architecture_.vocabulary, first});
    embed_norm_weight_ = source.ones(first);
    embed_norm_bias_ = source.zeros(first);
  } else {
    const int64_t patch =
        architecture_.in_channels * architecture_.patch_size * architecture_.patch_size;
    patch_embedding_ = {source.normal({first, patch}), source.zeros(first)};
    cls_ = source.normal({1, 1, first});
  }
  positions_ = source.normal({1, n, first});
  int64_t previous = first;
  for (const design::EncoderLayer& shape : architecture_.layers) {
    Layer layer;
    layer.shape = shape;
    const int64_t h = shape.hidden;
    if (previous != h) layer.projection = {source.normal({h, previous}), source.zeros(h)};
    if (shape.operation == Operation::sa_sdp || shape.operation == Operation::sa_wma) {
      layer.qkv = {source.normal({3 * h, h}), source.zeros(3 * h)};
      layer.out = {source.normal({h, h}), source.zeros(h)};
    }
    if (shape.operation == Operation::sa_wma) {
      const int64_t d = h / shape.heads;
      layer.wma = source.normal({shape.heads, d, d});
    }
    layer.norm1_weight = source.ones(h);
    layer.norm1_bias = source.zeros(h);
    layer.norm2_weight = source.ones(h);
    layer.norm2_bias = source.zeros(h);
    int64_t in = h;
    for (const int64_t width : shape.feed_forward) {
      layer.feed_forward.push_back({source.normal({width, in}), source.zeros(width)});
      in = width;
    }
    layer.feed_forward.push_back({source.normal({h, in}), source.zeros(h)});
    layers_.push_back(std::move(layer));
    previous = h;
  }
}

int64_t EncoderModel::parameter_count() const {
  int64_t total = 0;
  const auto add = [&](const at::Tensor& tensor) {
    if (tensor.defined()) total += tensor.numel();
  };
  for (const at::Tensor& tensor : {token_embedding_, patch_embedding_.weight, patch_embedding_.bias,
                                   cls_, positions_, embed_norm_weight_, embed_norm_bias_}) {
    add(tensor);
  }
  for (const Layer& layer : layers_) {
    for (const at::Tensor& tensor :
         {layer.projection.weight, layer.projection.bias, layer.qkv.weight, layer.qkv.bias,
          layer.out.weight, layer.out.bias, layer.wma, layer.norm1_weight, layer.norm1_bias,
          layer.norm2_weight, layer.norm2_bias}) {
      add(tensor);
    }
    for (const Linear& linear : layer.feed_forward) {
      add(linear.weight);
      add(linear.bias);
    }
  }
  return total;
}

at::Tensor EncoderModel::example_input(int64_t batch, uint64_t seed) const {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  if (architecture_.input == InputKind::tokens) {
    return at::randint(architecture_.vocabulary, {batch, architecture_.sequence_length}, generator,
                       at::TensorOptions().dtype(at::kLong))
        .to(device_);
  }
  return at::normal(
             0.0, 1.0,
             {batch, architecture_.in_channels, architecture_.image_size, architecture_.image_size},
             generator)
      .to(device_);
}

at::Tensor EncoderModel::embed(const at::Tensor& input) const {
  const int64_t n = architecture_.sequence_length;
  if (architecture_.input == InputKind::tokens) {
    if (input.scalar_type() != at::kLong || input.dim() != 2 || input.size(1) != n) {
      throw InputError(fmt::format("an encoder on tokens takes int64 ids (batch, {}), not {} {}", n,
                                   c10::toString(input.scalar_type()),
                                   fmt::join(input.sizes(), "x")));
    }
    const at::Tensor x = at::embedding(token_embedding_, input) + positions_;
    return layer_norm(x, embed_norm_weight_, embed_norm_bias_);
  }
  const int64_t p = architecture_.patch_size;
  const int64_t side = architecture_.image_size;
  if (!input.is_floating_point() || input.dim() != 4 ||
      input.size(1) != architecture_.in_channels || input.size(2) != side ||
      input.size(3) != side) {
    throw InputError(fmt::format("an encoder on patches takes float images (batch, {}, {}, {})",
                                 architecture_.in_channels, side, side));
  }
  const int64_t batch = input.size(0);
  // (B, C, H, W) -> (B, patches, C P P), row by row as a strided convolution reads them.
  const at::Tensor patches = input.unfold(2, p, p)
                                 .unfold(3, p, p)
                                 .permute({0, 2, 3, 1, 4, 5})
                                 .reshape({batch, (side / p) * (side / p), -1});
  const at::Tensor x = at::linear(patches, patch_embedding_.weight, patch_embedding_.bias);
  return at::cat({cls_.expand({batch, 1, x.size(2)}), x}, 1) + positions_;
}

at::Tensor attention_mix(const at::Tensor& x, const at::Tensor& qkv_weight,
                         const at::Tensor& qkv_bias, const at::Tensor& out_weight,
                         const at::Tensor& out_bias, int64_t heads, const at::Tensor& wma) {
  const int64_t batch = x.size(0);
  const int64_t n = x.size(1);
  const int64_t h = x.size(2);
  const int64_t d = h / heads;
  const at::Tensor qkv = at::linear(x, qkv_weight, qkv_bias)
                             .view({batch, n, 3, heads, d})
                             .permute({2, 0, 3, 1, 4});  // (3, B, heads, n, d)
  at::Tensor q = qkv[0];
  if (wma.defined()) q = at::matmul(q, wma);  // Q W, each head its own d x d
  const at::Tensor scores =
      at::matmul(q, qkv[1].transpose(-2, -1)) / std::sqrt(static_cast<double>(d));
  const at::Tensor mixed =
      at::matmul(at::softmax(scores, -1), qkv[2]).transpose(1, 2).reshape({batch, n, h});
  return at::linear(mixed, out_weight, out_bias);
}

at::Tensor fourier_mix(const at::Tensor& x) {
  return at::real(at::fft_fft2(x, c10::nullopt, {-2, -1})).contiguous();
}

at::Tensor cosine_mix(const at::Tensor& x) { return dct_ii(dct_ii(x, -1), -2); }

at::Tensor EncoderModel::mix(const Layer& layer, const at::Tensor& x) const {
  switch (layer.shape.operation) {
    case Operation::l_dft:
      return fourier_mix(x);
    case Operation::l_dct:
      return cosine_mix(x);
    case Operation::sa_sdp:
    case Operation::sa_wma:
      break;
  }
  return attention_mix(x, layer.qkv.weight, layer.qkv.bias, layer.out.weight, layer.out.bias,
                       layer.shape.heads, layer.wma);
}

at::Tensor EncoderModel::forward(const at::Tensor& input) const {
  const c10::InferenceMode inference;
  at::Tensor x = embed(input.device() == device_ ? input : input.to(device_));
  for (const Layer& layer : layers_) {
    if (layer.projection.weight.defined()) {
      x = at::linear(x, layer.projection.weight, layer.projection.bias);
    }
    x = layer_norm(x + mix(layer, x), layer.norm1_weight, layer.norm1_bias);
    at::Tensor y = x;
    for (std::size_t i = 0; i < layer.feed_forward.size(); ++i) {
      y = at::linear(y, layer.feed_forward[i].weight, layer.feed_forward[i].bias);
      if (i + 1 < layer.feed_forward.size()) y = at::gelu(y);
    }
    x = layer_norm(x + y, layer.norm2_weight, layer.norm2_bias);
  }
  return x;
}

}  // namespace tailsweep::agent
