#pragma once
// Simulated GPUs: latency of a ViT forward pass from a model of its kernels
// on a GPU described by public specs. On a GPU a kernel runs in waves of
// thread blocks; one block more than fits in a wave costs a whole extra
// wave (the tail effect), so latency is a staircase in the token count.
// This models exactly that, per kernel:
//   GEMM:  tiles = ceil(M / tile_m) * ceil(N / tile_n)
//          waves = ceil(tiles / (SMs * blocks_per_SM))
//          time  = max(waves * wave_time, bytes / bandwidth) + launch
//          wave_time = blocks_per_SM * tile_m * tile_n * K * 2 / (SM FLOP/s * efficiency)
//   memory-bound kernels (LayerNorm, softmax, GELU, residual): bytes / bandwidth + launch
// Everything simulated is labelled so; it gives latency only, never
// accuracy. Specs and their sources: docs/simulated-devices.md.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/method_spec.h"
#include "common/model/model_config.h"

namespace tailsweep::sim {

struct GpuSpec {
  std::string name;          // the NAME in --device sim:NAME
  std::string display_name;  // "Jetson Nano (simulated)"
  std::string architecture;
  int sm_count = 1;
  int fp32_lanes_per_sm = 128;
  double clock_mhz = 0;
  double memory_gb_per_s = 0;
  double launch_overhead_us = 0;  // per kernel, framework dispatch included
  int64_t tile_m = 128;           // output tile of one thread block
  int64_t tile_n = 64;
  int blocks_per_sm = 1;         // resident tiles per SM in one wave
  double gemm_efficiency = 0.6;  // fraction of peak FP32 a full tile reaches
  std::string source;            // where the numbers come from

  double sm_flops_per_s() const { return 2.0 * fp32_lanes_per_sm * clock_mhz * 1e6; }
};

const std::vector<GpuSpec>& simulated_gpus();
std::vector<std::string> simulated_gpu_names();
// Throws InputError listing the known names.
const GpuSpec& find_simulated_gpu(std::string_view name);

struct KernelCost {
  std::string name;
  int64_t tiles = 0;  // 0 for memory-bound kernels
  int64_t waves = 0;
  double compute_us = 0;
  double memory_us = 0;
  double total_us = 0;  // max(compute, memory) + launch
};

// GEMM (M x K) @ (K x N), repeated `batch_count` times (attention heads).
// weight_bytes: bytes read per element of the (K x N) operand (4 for
// float32; 1 for clustered weights read by a lookup kernel, whose codebook
// stays in cache); the arithmetic is modelled as the same.
KernelCost gemm_cost(const GpuSpec& gpu, std::string name, int64_t m, int64_t n, int64_t k,
                     int64_t batch_count = 1, double weight_bytes = 4.0);
KernelCost memory_cost(const GpuSpec& gpu, std::string name, double bytes);

// Every kernel of one forward pass where each block sees `tokens` tokens
// (random:tokens, POMT's curve protocol).
std::vector<KernelCost> vit_forward_kernels(const GpuSpec& gpu, const VitConfig& config,
                                            int64_t batch, int64_t tokens);
// Hybrid Dynamic Pruning in one block, as measured by an evaluation on a
// real device (docs/hdp.md): the share of (image, head) pairs pruned and of
// the kept heads' 2x2 attention blocks pruned.
struct HdpBlockShares {
  double heads_pruned = 0;
  double blocks_pruned = 0;
};

// ... under a token-reduction method: each block's attention on the tokens
// entering it, its MLP on those its reduction leaves (common/token_schedule.h),
// plus the kernels of the reduction itself. block_weight_bytes: bytes per
// weight of the blocks' qkv, proj, fc1 and fc2 (1 on the lookup kernel for
// clustered weights, docs/cluster.md). hdp: one entry per block for a
// method with HDP, whose attention then runs as append_hdp_attention says.
std::vector<KernelCost> vit_forward_kernels(const GpuSpec& gpu, const VitConfig& config,
                                            int64_t batch, const MethodSpec& method,
                                            double block_weight_bytes = 4.0,
                                            const std::vector<HdpBlockShares>* hdp = nullptr);
// Noise-free latency of that forward pass, in milliseconds.
double vit_forward_ms(const GpuSpec& gpu, const VitConfig& config, int64_t batch, int64_t tokens);
double vit_forward_ms(const GpuSpec& gpu, const VitConfig& config, int64_t batch,
                      const MethodSpec& method, double block_weight_bytes = 4.0,
                      const std::vector<HdpBlockShares>* hdp = nullptr);
// One transformer block (for --mode block).
double vit_block_ms(const GpuSpec& gpu, const VitConfig& config, int64_t batch, int64_t tokens);

// Draws noisy samples around the model: multiplicative lognormal noise from
// a seeded generator, so a simulated curve is repeatable. The default sigma
// (1.5%) is an assumption, not a measurement (docs/simulated-devices.md).
class SimulatedGpu {
 public:
  SimulatedGpu(GpuSpec spec, uint64_t seed, double noise_sigma = 0.015);
  const GpuSpec& spec() const { return spec_; }
  double sample_ms(double noise_free_ms);

 private:
  GpuSpec spec_;
  std::mt19937_64 rng_;
  std::lognormal_distribution<double> noise_;
};

}  // namespace tailsweep::sim
