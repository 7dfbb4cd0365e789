#include "agent/device/gpu_sim.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/model/token_schedule.h"
#include "common/util/errors.h"

namespace tailsweep::sim {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

constexpr double kBytesPerFloat = 4.0;

GpuSpec make(std::string name, std::string display, std::string arch, int sms, double mhz,
             double gb_per_s, double launch_us, std::string source) {
  GpuSpec spec;
  spec.name = std::move(name);
  spec.display_name = std::move(display);
  spec.architecture = std::move(arch);
  spec.sm_count = sms;
  spec.fp32_lanes_per_sm = 128;  // Maxwell, Pascal (GP10B) and Ampere (GA10B) SMs alike
  spec.clock_mhz = mhz;
  spec.memory_gb_per_s = gb_per_s;
  spec.launch_overhead_us = launch_us;
  spec.source = std::move(source);
  return spec;
}

}  // namespace

const std::vector<GpuSpec>& simulated_gpus() {
  // Launch overheads: per kernel including PyTorch's eager dispatch on the
  // board's CPU (slower A57 cores on Nano and TX2 than the A78AE on Orin).
  static const std::vector<GpuSpec> gpus = {
      make("jetson-nano", "Jetson Nano (simulated)", "Maxwell GM20B", 1, 921.6, 25.6, 40.0,
           "NVIDIA Jetson Nano module data sheet: 128-core Maxwell GPU, 921 MHz, "
           "4 GB 64-bit LPDDR4 25.6 GB/s"),
      make("jetson-tx2", "Jetson TX2 (simulated)", "Pascal GP10B", 2, 1300.0, 59.7, 30.0,
           "NVIDIA Jetson TX2 module data sheet: 256-core Pascal GPU (2 SMs), 1.3 GHz (MAXN), "
           "8 GB 128-bit LPDDR4 59.7 GB/s"),
      make("jetson-orin-nano", "Jetson Orin Nano 8GB (simulated)", "Ampere GA10B", 8, 625.0, 68.0,
           20.0,
           "NVIDIA Jetson Orin Nano 8GB data sheet (JetPack 5/6.0, 15 W): 1024-core Ampere GPU "
           "(8 SMs), 625 MHz, 128-bit LPDDR5 68 GB/s"),
      make("jetson-agx-orin", "Jetson AGX Orin 64GB (simulated)", "Ampere GA10B", 16, 1300.0, 204.8,
           15.0,
           "NVIDIA Jetson AGX Orin Series Technical Brief: 2048-core Ampere GPU (16 SMs), "
           "1.3 GHz, 256-bit LPDDR5 204.8 GB/s"),
  };
  return gpus;
}

std::vector<std::string> simulated_gpu_names() {
  std::vector<std::string> names;
  for (const auto& gpu : simulated_gpus()) names.push_back(gpu.name);
  return names;
}

const GpuSpec& find_simulated_gpu(std::string_view name) {
  for (const auto& gpu : simulated_gpus()) {
    if (gpu.name == name) return gpu;
  }
  throw InputError(fmt::format("unknown simulated device 'sim:{}' (known: sim:{})", name,
                               fmt::join(simulated_gpu_names(), ", sim:")));
}

KernelCost gemm_cost(const GpuSpec& gpu, std::string name, int64_t m, int64_t n, int64_t k,
                     int64_t batch_count, double weight_bytes) {
  KernelCost cost;
  cost.name = std::move(name);
  cost.tiles = batch_count * ceil_div(m, gpu.tile_m) * ceil_div(n, gpu.tile_n);
  cost.waves = ceil_div(cost.tiles, static_cast<int64_t>(gpu.sm_count) * gpu.blocks_per_sm);
  // A wave occupies every SM with blocks_per_sm full tiles, whether or not
  // the last rows or columns of a tile are real: that is the tail effect.
  const double wave_flops = static_cast<double>(gpu.blocks_per_sm) *
                            static_cast<double>(gpu.tile_m * gpu.tile_n * k) * 2.0;
  cost.compute_us = static_cast<double>(cost.waves) * wave_flops /
                    (gpu.sm_flops_per_s() * gpu.gemm_efficiency) * 1e6;
  const double bytes =
      static_cast<double>(batch_count) *
      (static_cast<double>(m * k + m * n) * kBytesPerFloat + static_cast<double>(k * n) * weight_bytes);
  cost.memory_us = bytes / (gpu.memory_gb_per_s * 1e9) * 1e6;
  cost.total_us = std::max(cost.compute_us, cost.memory_us) + gpu.launch_overhead_us;
  return cost;
}

KernelCost memory_cost(const GpuSpec& gpu, std::string name, double bytes) {
  KernelCost cost;
  cost.name = std::move(name);
  cost.memory_us = bytes / (gpu.memory_gb_per_s * 1e9) * 1e6;
  cost.total_us = cost.memory_us + gpu.launch_overhead_us;
  return cost;
}

namespace {

// The kernels a reduction adds in a block where it removes tokens (an
// assumption of this model, in docs/simulated-devices.md): scoring, a sort,
// and a gather (Top-K, POMT) or ToMe's similarity GEMM between its two
// halves, a sort and a scatter-add of the merged tokens.
void append_reduction(const GpuSpec& gpu, const VitConfig& config, int64_t batch,
                      int64_t tokens_before, int64_t tokens_after, MethodKind reduction,
                      std::vector<KernelCost>& kernels) {
  const int64_t c = config.embed_dim;
  const double token_bytes = static_cast<double>(batch * c) * kBytesPerFloat;
  const double score_bytes = static_cast<double>(batch * tokens_before) * kBytesPerFloat;
  if (reduction == MethodKind::kTome) {
    const int64_t half = (tokens_before + 1) / 2;
    kernels.push_back(
        memory_cost(gpu, "tome_keys_mean", 2 * static_cast<double>(tokens_before) * token_bytes));
    kernels.push_back(gemm_cost(gpu, "tome_similarity", half, tokens_before - half, c, batch));
    kernels.push_back(memory_cost(gpu, "tome_match",
                                  static_cast<double>(half * (tokens_before - half)) *
                                      static_cast<double>(batch) * kBytesPerFloat));
    kernels.push_back(memory_cost(gpu, "tome_sort", 4 * score_bytes));
    kernels.push_back(memory_cost(gpu, "tome_merge",
                                  static_cast<double>(tokens_before + tokens_after) * token_bytes));
    return;
  }
  // Top-K's score is the CLS row of the attention already computed (h x n per
  // image); POMT's reads every row (a max over heads, summed over queries) and v.
  const double heads = static_cast<double>(config.num_heads);
  const double score_inputs = reduction == MethodKind::kPomt
                                  ? heads * static_cast<double>(tokens_before) * score_bytes +
                                        static_cast<double>(tokens_before) * token_bytes
                                  : heads * score_bytes;
  kernels.push_back(memory_cost(gpu, "token_scores", score_inputs));
  kernels.push_back(memory_cost(gpu, "token_sort", 4 * score_bytes));
  kernels.push_back(memory_cost(gpu, "token_gather",
                                static_cast<double>(tokens_before + tokens_after) * token_bytes));
}

// HDP's attention in one block (an assumption of this model, in
// docs/hdp.md): the integer-part Q.K^T that decides runs on every head,
// with a pass over its scores to rank heads and 2x2 blocks; the kept heads'
// Q, K and V are gathered, and their Q.K^T, softmax and P.V run only on the
// kept blocks' share of the columns, as hardware that skips pruned blocks
// (HDP's co-processor) would. A GPU's dense kernels would not skip them:
// the blocks' share is the optimistic part of this model. The approximation
// (frac x frac dropped) saves a partial product that a float kernel does
// not have, so it changes nothing here.
void append_hdp_attention(const GpuSpec& gpu, int64_t heads, int64_t tokens, int64_t d,
                          const HdpBlockShares& hdp, std::vector<KernelCost>& kernels) {
  const double all_scores = static_cast<double>(heads * tokens * tokens) * kBytesPerFloat;
  kernels.push_back(gemm_cost(gpu, "hdp_int_q@k^T", tokens, tokens, d, heads));
  kernels.push_back(memory_cost(gpu, "hdp_rank_heads_blocks", 2 * all_scores));
  const auto kept_heads =
      static_cast<int64_t>(std::llround(static_cast<double>(heads) * (1 - hdp.heads_pruned)));
  if (kept_heads == 0) return;
  const auto kept_columns = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(static_cast<double>(tokens) * (1 - hdp.blocks_pruned))));
  kernels.push_back(
      memory_cost(gpu, "hdp_gather_heads",
                  2 * 3 * static_cast<double>(kept_heads * tokens * d) * kBytesPerFloat));
  kernels.push_back(gemm_cost(gpu, "q@k^T", tokens, kept_columns, d, kept_heads));
  kernels.push_back(
      memory_cost(gpu, "softmax",
                  2 * static_cast<double>(kept_heads * tokens * kept_columns) * kBytesPerFloat));
  kernels.push_back(gemm_cost(gpu, "attn@v", tokens, d, kept_columns, kept_heads));
}

// Attention (and its residual) on the tokens entering the block; the MLP on
// the tokens the block's reduction leaves (docs/engine.md: every reduction
// sits between the two).
void append_block(const GpuSpec& gpu, const VitConfig& config, int64_t batch,
                  int64_t attention_tokens, int64_t mlp_tokens, MethodKind reduction,
                  bool proportional_attention, double weight_bytes, const HdpBlockShares* hdp,
                  std::vector<KernelCost>& kernels) {
  const int64_t c = config.embed_dim;
  const int64_t hidden = config.mlp_hidden_dim();
  const int64_t heads = batch * config.num_heads;
  const int64_t d = config.head_dim();
  const int64_t tokens = attention_tokens;
  const int64_t rows = batch * tokens;
  const double activation = static_cast<double>(rows * c) * kBytesPerFloat;
  const double scores = static_cast<double>(heads * tokens * tokens) * kBytesPerFloat;
  kernels.push_back(memory_cost(gpu, "norm1", 2 * activation));
  kernels.push_back(gemm_cost(gpu, "qkv", rows, 3 * c, c, 1, weight_bytes));
  if (hdp) {
    append_hdp_attention(gpu, heads, tokens, d, *hdp, kernels);
  } else {
    kernels.push_back(gemm_cost(gpu, "q@k^T", tokens, tokens, d, heads));
    // ToMe's proportional attention adds log(size) to every logit once tokens have merged.
    if (proportional_attention) kernels.push_back(memory_cost(gpu, "log_size_bias", 2 * scores));
    kernels.push_back(memory_cost(gpu, "softmax", 2 * scores));
    kernels.push_back(gemm_cost(gpu, "attn@v", tokens, d, tokens, heads));
  }
  kernels.push_back(gemm_cost(gpu, "proj", rows, c, c, 1, weight_bytes));
  kernels.push_back(memory_cost(gpu, "residual1", 3 * activation));
  if (mlp_tokens != attention_tokens)
    append_reduction(gpu, config, batch, tokens, mlp_tokens, reduction, kernels);
  const int64_t mlp_rows = batch * mlp_tokens;
  const double mlp_activation = static_cast<double>(mlp_rows * c) * kBytesPerFloat;
  kernels.push_back(memory_cost(gpu, "norm2", 2 * mlp_activation));
  kernels.push_back(gemm_cost(gpu, "fc1", mlp_rows, hidden, c, 1, weight_bytes));
  kernels.push_back(memory_cost(gpu, "gelu", 2 * mlp_activation * config.mlp_ratio));
  kernels.push_back(gemm_cost(gpu, "fc2", mlp_rows, c, hidden, 1, weight_bytes));
  kernels.push_back(memory_cost(gpu, "residual2", 3 * mlp_activation));
}

double total_ms(const std::vector<KernelCost>& kernels) {
  double us = 0;
  for (const auto& kernel : kernels) us += kernel.total_us;
  return us / 1000.0;
}

}  // namespace

std::vector<KernelCost> vit_forward_kernels(const GpuSpec& gpu, const VitConfig& config,
                                            int64_t batch, const MethodSpec& method,
                                            double block_weight_bytes,
                                            const std::vector<HdpBlockShares>* hdp) {
  const TokenSchedule schedule = token_schedule(method, config);
  if (hdp && hdp->size() != schedule.tokens_into_block.size()) {
    throw InputError(fmt::format("HDP shares for {} blocks; {} has {}", hdp->size(), config.name,
                                 schedule.tokens_into_block.size()));
  }
  std::vector<KernelCost> kernels;
  const int64_t patch_k = config.in_channels * config.patch_size * config.patch_size;
  kernels.push_back(
      gemm_cost(gpu, "patch_embed", batch * config.patch_tokens(), config.embed_dim, patch_k));
  kernels.push_back(
      memory_cost(gpu, "pos_embed+drop",
                  3.0 * static_cast<double>(batch * config.total_tokens() * config.embed_dim) *
                      kBytesPerFloat));
  bool merged = false;
  for (std::size_t block = 0; block < schedule.tokens_into_block.size(); ++block) {
    append_block(gpu, config, batch, schedule.tokens_into_block[block],
                 schedule.tokens_after_block[block], method.kind,
                 merged && method.kind == MethodKind::kTome, block_weight_bytes,
                 hdp ? &(*hdp)[block] : nullptr, kernels);
    merged = merged || schedule.tokens_after_block[block] != schedule.tokens_into_block[block];
  }
  const int64_t tokens_out =
      schedule.tokens_after_block.empty() ? schedule.tokens_in : schedule.tokens_after_block.back();
  kernels.push_back(memory_cost(
      gpu, "norm",
      2.0 * static_cast<double>(batch * tokens_out * config.embed_dim) * kBytesPerFloat));
  kernels.push_back(gemm_cost(gpu, "head", batch, config.num_classes, config.embed_dim));
  return kernels;
}

std::vector<KernelCost> vit_forward_kernels(const GpuSpec& gpu, const VitConfig& config,
                                            int64_t batch, int64_t tokens) {
  MethodSpec keep;
  keep.kind = MethodKind::kRandom;
  keep.keep_tokens = tokens;
  return vit_forward_kernels(gpu, config, batch, keep);
}

double vit_forward_ms(const GpuSpec& gpu, const VitConfig& config, int64_t batch, int64_t tokens) {
  return total_ms(vit_forward_kernels(gpu, config, batch, tokens));
}

double vit_forward_ms(const GpuSpec& gpu, const VitConfig& config, int64_t batch,
                      const MethodSpec& method, double block_weight_bytes,
                      const std::vector<HdpBlockShares>* hdp) {
  return total_ms(vit_forward_kernels(gpu, config, batch, method, block_weight_bytes, hdp));
}

double vit_block_ms(const GpuSpec& gpu, const VitConfig& config, int64_t batch, int64_t tokens) {
  std::vector<KernelCost> kernels;
  append_block(gpu, config, batch, tokens, tokens, MethodKind::kNone, false, kBytesPerFloat,
               nullptr, kernels);
  return total_ms(kernels);
}

SimulatedGpu::SimulatedGpu(GpuSpec spec, uint64_t seed, double noise_sigma)
    : spec_(std::move(spec)), rng_(seed), noise_(0.0, noise_sigma) {}

double SimulatedGpu::sample_ms(double noise_free_ms) { return noise_free_ms * noise_(rng_); }

}  // namespace tailsweep::sim
