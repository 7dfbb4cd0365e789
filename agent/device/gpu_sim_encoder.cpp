#include "agent/device/gpu_sim_encoder.h"

#include <cmath>

namespace tailsweep::sim {
namespace {

constexpr double kBytesPerFloat = 4.0;
constexpr double kBytesPerComplex = 8.0;

// Token mixing of one layer on x (rows = batch * n, hidden h).
void append_mixer(const GpuSpec& gpu, const design::EncoderLayer& layer, int64_t batch, int64_t n,
                  std::vector<KernelCost>& kernels) {
  const int64_t h = layer.hidden;
  const int64_t rows = batch * n;
  const double activation = static_cast<double>(rows * h) * kBytesPerFloat;
  switch (layer.operation) {
    case design::Operation::sa_sdp:
    case design::Operation::sa_wma: {
      const int64_t heads = batch * layer.heads;
      const int64_t d = h / layer.heads;
      const double scores = static_cast<double>(heads * n * n) * kBytesPerFloat;
      kernels.push_back(gemm_cost(gpu, "qkv", rows, 3 * h, h));
      if (layer.operation == design::Operation::sa_wma) {
        kernels.push_back(gemm_cost(gpu, "q@W", n, d, d, heads));
      }
      kernels.push_back(gemm_cost(gpu, "q@k^T", n, n, d, heads));
      kernels.push_back(memory_cost(gpu, "softmax", 2 * scores));
      kernels.push_back(gemm_cost(gpu, "attn@v", n, d, n, heads));
      kernels.push_back(gemm_cost(gpu, "out", rows, h, h));
      return;
    }
    case design::Operation::l_dft:
      // A real-to-complex FFT over hidden, a complex one over tokens, the real part.
      kernels.push_back(fft_cost(gpu, "fft_hidden", h, rows));
      kernels.push_back(fft_cost(gpu, "fft_tokens", n, batch * h));
      kernels.push_back(memory_cost(gpu, "real", activation * 3));
      return;
    case design::Operation::l_dct:
      // Per axis: the Makhoul reordering, one FFT, the twiddle to the DCT's real values.
      for (const auto& [name, length, transforms] :
           {std::tuple{"dct_hidden", h, rows}, std::tuple{"dct_tokens", n, batch * h}}) {
        kernels.push_back(memory_cost(gpu, std::string(name) + "_reorder", 2 * activation));
        kernels.push_back(fft_cost(gpu, name, length, transforms));
        kernels.push_back(memory_cost(gpu, std::string(name) + "_twiddle", activation * 3));
      }
      return;
  }
}

}  // namespace

KernelCost fft_cost(const GpuSpec& gpu, std::string name, int64_t length, int64_t transforms) {
  KernelCost cost;
  cost.name = std::move(name);
  const double points = static_cast<double>(length * transforms);
  const double flops = 5.0 * points * std::log2(static_cast<double>(std::max<int64_t>(length, 2)));
  cost.compute_us = flops / (gpu.sm_flops_per_s() * gpu.sm_count * kFftEfficiency) * 1e6;
  cost.memory_us = 2.0 * points * kBytesPerComplex / (gpu.memory_gb_per_s * 1e9) * 1e6;
  cost.total_us = std::max(cost.compute_us, cost.memory_us) + gpu.launch_overhead_us;
  return cost;
}

std::vector<KernelCost> encoder_forward_kernels(const GpuSpec& gpu,
                                                const design::Architecture& architecture,
                                                int64_t batch) {
  architecture.validate();
  std::vector<KernelCost> kernels;
  const int64_t n = architecture.sequence_length;
  const int64_t rows = batch * n;
  const int64_t h0 = architecture.layers.front().hidden;
  const double first_activation = static_cast<double>(rows * h0) * kBytesPerFloat;
  if (architecture.input == design::InputKind::tokens) {
    // Gather the rows of the table, add the positions, LayerNorm.
    kernels.push_back(memory_cost(gpu, "token_embed", 2 * first_activation));
    kernels.push_back(memory_cost(gpu, "pos_embed", 3 * first_activation));
    kernels.push_back(memory_cost(gpu, "embed_norm", 2 * first_activation));
  } else {
    const int64_t patch_k =
        architecture.in_channels * architecture.patch_size * architecture.patch_size;
    kernels.push_back(gemm_cost(gpu, "patch_embed", batch * (n - 1), h0, patch_k));
    kernels.push_back(memory_cost(gpu, "cls+pos_embed", 3 * first_activation));
  }
  int64_t width = h0;
  for (const design::EncoderLayer& layer : architecture.layers) {
    const int64_t h = layer.hidden;
    const double activation = static_cast<double>(rows * h) * kBytesPerFloat;
    if (h != width) kernels.push_back(gemm_cost(gpu, "projection", rows, h, width));
    width = h;
    append_mixer(gpu, layer, batch, n, kernels);
    kernels.push_back(memory_cost(gpu, "residual1+norm1", 5 * activation));
    int64_t in = h;
    for (const int64_t out : layer.feed_forward) {
      kernels.push_back(gemm_cost(gpu, "ffn", rows, out, in));
      kernels.push_back(
          memory_cost(gpu, "gelu", 2 * static_cast<double>(rows * out) * kBytesPerFloat));
      in = out;
    }
    kernels.push_back(gemm_cost(gpu, "ffn_out", rows, h, in));
    kernels.push_back(memory_cost(gpu, "residual2+norm2", 5 * activation));
  }
  return kernels;
}

double encoder_forward_ms(const GpuSpec& gpu, const design::Architecture& architecture,
                          int64_t batch) {
  double us = 0;
  for (const KernelCost& kernel : encoder_forward_kernels(gpu, architecture, batch)) {
    us += kernel.total_us;
  }
  return us / 1000.0;
}

}  // namespace tailsweep::sim
