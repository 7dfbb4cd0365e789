// The simulated GPUs' kernels for design-space encoders: which kernels each
// operation runs, projections only where the width changes, the FFT's cost
// worked by hand, and the same GEMM model as the ViT's.
#include "agent/device/gpu_sim_encoder.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::sim {
namespace {

using design::Architecture;
using design::EncoderLayer;
using design::Operation;

Architecture every_operation() {
  Architecture architecture;
  architecture.sequence_length = 128;
  architecture.layers = {EncoderLayer{256, 4, Operation::sa_sdp, {1024}},
                         EncoderLayer{512, 8, Operation::sa_wma, {512, 2048}},
                         EncoderLayer{512, 8, Operation::l_dft, {1024}},
                         EncoderLayer{256, 4, Operation::l_dct, {512, 512, 512}}};
  return architecture;
}

std::size_t count(const std::vector<KernelCost>& kernels, const std::string& name) {
  return static_cast<std::size_t>(std::count_if(
      kernels.begin(), kernels.end(), [&](const KernelCost& k) { return k.name == name; }));
}

TEST(GpuSimEncoder, EachOperationRunsItsOwnKernels) {
  const GpuSpec& gpu = find_simulated_gpu("jetson-orin-nano");
  const auto kernels = encoder_forward_kernels(gpu, every_operation(), 2);
  EXPECT_EQ(count(kernels, "projection"), 2u);  // 256 -> 512 and 512 -> 256
  EXPECT_EQ(count(kernels, "qkv"), 2u);         // the two attention layers
  EXPECT_EQ(count(kernels, "q@W"), 1u);         // sa_wma only
  EXPECT_EQ(count(kernels, "fft_hidden"), 1u);  // l_dft
  EXPECT_EQ(count(kernels, "dct_tokens"), 1u);  // l_dct
  EXPECT_EQ(count(kernels, "ffn"), 1u + 2u + 1u + 3u);
  EXPECT_EQ(count(kernels, "ffn_out"), 4u);
  EXPECT_EQ(count(kernels, "token_embed"), 1u);
  double us = 0;
  for (const KernelCost& kernel : kernels) us += kernel.total_us;
  EXPECT_DOUBLE_EQ(encoder_forward_ms(gpu, every_operation(), 2), us / 1000);
}

TEST(GpuSimEncoder, GemmsAreCostedAsTheVitsAre) {
  const GpuSpec& gpu = find_simulated_gpu("jetson-nano");
  Architecture one;
  one.sequence_length = 128;
  one.layers = {EncoderLayer{256, 4, Operation::sa_sdp, {1024}}};
  const auto kernels = encoder_forward_kernels(gpu, one, 3);
  const auto ffn = std::find_if(kernels.begin(), kernels.end(),
                                [](const KernelCost& k) { return k.name == "ffn"; });
  ASSERT_NE(ffn, kernels.end());
  EXPECT_DOUBLE_EQ(ffn->total_us, gemm_cost(gpu, "ffn", 3 * 128, 1024, 256).total_us);
}

// 1,000 transforms of 128 points on the Jetson Nano (1 SM, 128 lanes at
// 921.6 MHz, 25.6 GB/s): 5 * 128,000 * 7 = 4.48 MFLOP at a quarter of
// 235.9 GFLOP/s is 75.95 us; 2 * 128,000 * 8 bytes is 80.0 us at 25.6
// GB/s: memory-bound, plus the launch.
TEST(GpuSimEncoder, AnFftIsTheSlowerOfItsArithmeticAndItsBytes) {
  const GpuSpec& gpu = find_simulated_gpu("jetson-nano");
  ASSERT_EQ(gpu.sm_count, 1);
  ASSERT_DOUBLE_EQ(gpu.clock_mhz, 921.6);
  ASSERT_DOUBLE_EQ(gpu.memory_gb_per_s, 25.6);
  const KernelCost cost = fft_cost(gpu, "fft", 128, 1000);
  EXPECT_NEAR(cost.compute_us, 4.48e6 / (2 * 128 * 921.6e6 * 0.25) * 1e6, 1e-9);
  EXPECT_NEAR(cost.compute_us, 75.95, 0.01);
  EXPECT_NEAR(cost.memory_us, 80.0, 1e-9);
  EXPECT_DOUBLE_EQ(cost.total_us, cost.memory_us + gpu.launch_overhead_us);
}

TEST(GpuSimEncoder, MoreLayersCostMoreAndAnInvalidArchitectureIsRefused) {
  const GpuSpec& gpu = find_simulated_gpu("jetson-agx-orin");
  Architecture architecture = every_operation();
  const double four = encoder_forward_ms(gpu, architecture, 1);
  architecture.layers.push_back(architecture.layers.back());
  EXPECT_GT(encoder_forward_ms(gpu, architecture, 1), four);
  architecture.layers.back().heads = 3;
  EXPECT_THROW(encoder_forward_ms(gpu, architecture, 1), InputError);
}

}  // namespace
}  // namespace tailsweep::sim
