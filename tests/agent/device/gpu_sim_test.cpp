#include "agent/device/gpu_sim.h"

#include <algorithm>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "analysis/statistics.h"
#include "common/util/errors.h"

namespace tailsweep::sim {
namespace {

using ::testing::HasSubstr;

TEST(GpuSim, KnowsTheJetsonsAndRefusesOthers) {
  EXPECT_EQ(simulated_gpu_names(),
            (std::vector<std::string>{"jetson-nano", "jetson-tx2", "jetson-orin-nano",
                                      "jetson-agx-orin"}));
  EXPECT_EQ(find_simulated_gpu("jetson-agx-orin").sm_count, 16);
  try {
    find_simulated_gpu("jetson-xavier");
    ADD_FAILURE() << "accepted an unknown device";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("sim:jetson-nano"));
  }
}

// Jetson Nano, qkv of deit-tiny at 197 tokens, worked by hand:
// tiles = ceil(197/128) * ceil(576/64) = 18 on 1 SM: 18 waves; a wave is
// 128*64*192*2 FLOP at 2*128*921.6 MHz * 0.6 = 22.22 us, so 400 us of
// compute; memory (197*192 + 192*576 + 197*576) * 4 B / 25.6 GB/s = 40.9 us.
TEST(GpuSim, GemmCostMatchesAHandComputedCase) {
  const GpuSpec& nano = find_simulated_gpu("jetson-nano");
  const KernelCost cost = gemm_cost(nano, "qkv", 197, 576, 192);
  EXPECT_EQ(cost.tiles, 18);
  EXPECT_EQ(cost.waves, 18);
  EXPECT_NEAR(cost.compute_us, 400.0, 1e-6);
  EXPECT_NEAR(cost.memory_us, 40.92, 0.01);
  EXPECT_NEAR(cost.total_us, 440.0, 1e-6);
  // Clustered weights on the lookup kernel: the 192 x 576 weights are read
  // as one byte each, (197*192 + 197*576) * 4 + 192*576 = 715,776 B: 27.96 us.
  // The arithmetic is the same, and it bounds this GEMM: the total is too.
  const KernelCost lookup = gemm_cost(nano, "qkv", 197, 576, 192, 1, 1.0);
  EXPECT_NEAR(lookup.memory_us, 27.96, 0.01);
  EXPECT_NEAR(lookup.compute_us, cost.compute_us, 1e-9);
  EXPECT_NEAR(lookup.total_us, 440.0, 1e-6);
  // On 16 SMs the same 18 tiles take 2 waves; 9 tiles (<= 128 rows) take 1.
  const GpuSpec& agx = find_simulated_gpu("jetson-agx-orin");
  EXPECT_EQ(gemm_cost(agx, "qkv", 197, 576, 192).waves, 2);
  EXPECT_EQ(gemm_cost(agx, "qkv", 128, 576, 192).waves, 1);
}

// The model puts a step wherever a kernel needs another tile, and only
// there: for deit-tiny at batch 1 with 128x64 tiles, where n-1 crosses a
// multiple of 64 (attention: n x n tiles) or of 128 (every token GEMM).
TEST(GpuSim, StepsLandOnTileBoundariesAndNowhereElse) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  for (const auto& gpu : simulated_gpus()) {
    std::set<int64_t> steps;
    double biggest = 0;
    int64_t biggest_at = 0;
    for (int64_t n = 3; n <= 197; ++n) {
      const double before = vit_forward_ms(gpu, tiny, 1, n - 1);
      const double after = vit_forward_ms(gpu, tiny, 1, n);
      ASSERT_GE(after, before) << gpu.name << " n=" << n;  // more tokens never cost less
      const double rise = (after - before) / before;
      if (rise > 0.02) steps.insert(n);
      if (rise > biggest) biggest = rise, biggest_at = n;
      if ((n - 1) % 64 != 0) {
        EXPECT_LT(rise, 0.02) << gpu.name << " rises inside a step at n=" << n;
      }
    }
    EXPECT_EQ(biggest_at, 129) << gpu.name;
    EXPECT_TRUE(steps.contains(129)) << gpu.name;
    for (const int64_t n : steps) EXPECT_EQ((n - 1) % 64, 0) << gpu.name << " n=" << n;
  }
}

TEST(GpuSim, BigGpusAreFasterAndBatchesCostMore) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  const double nano = vit_forward_ms(find_simulated_gpu("jetson-nano"), tiny, 1, 197);
  const double orin = vit_forward_ms(find_simulated_gpu("jetson-agx-orin"), tiny, 1, 197);
  EXPECT_GT(nano, 5 * orin);
  EXPECT_GT(vit_forward_ms(find_simulated_gpu("jetson-nano"), tiny, 4, 197), 3 * nano);
  EXPECT_LT(vit_block_ms(find_simulated_gpu("jetson-nano"), tiny, 1, 197), nano / 10);
}

// Under a method, each block costs what its token counts say, plus the
// reduction's own kernels where it removes tokens.
TEST(GpuSim, MethodsCostTheirTokenScheduleAndTheirReduction) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  const GpuSpec& nano = find_simulated_gpu("jetson-nano");
  const double baseline = vit_forward_ms(nano, tiny, 1, parse_method_spec("none"));
  EXPECT_DOUBLE_EQ(baseline, vit_forward_ms(nano, tiny, 1, 197));
  // A reduction that removes nothing adds nothing.
  EXPECT_DOUBLE_EQ(vit_forward_ms(nano, tiny, 1, parse_method_spec("topk:0")), baseline);
  EXPECT_DOUBLE_EQ(vit_forward_ms(nano, tiny, 1, parse_method_spec("tome:0")), baseline);
  // POMT pruning 69 patch tokens in block 3 leaves 128 tokens in blocks 4..11:
  // between dropping them before block 0 and not at all, and under the cliff
  // at 129 it is cheaper than pruning 68.
  const double pomt69 = vit_forward_ms(nano, tiny, 1, parse_method_spec("pomt:69@3"));
  const double pomt68 = vit_forward_ms(nano, tiny, 1, parse_method_spec("pomt:68@3"));
  EXPECT_LT(vit_forward_ms(nano, tiny, 1, 128), pomt69);
  EXPECT_LT(pomt69, baseline);
  EXPECT_LT(pomt69, 0.9 * pomt68);
  // Heavier reduction is faster; ToMe's matching costs a GEMM per block.
  EXPECT_LT(vit_forward_ms(nano, tiny, 1, parse_method_spec("topk:12")),
            vit_forward_ms(nano, tiny, 1, parse_method_spec("topk:4")));
  const auto kernels = vit_forward_kernels(nano, tiny, 1, parse_method_spec("tome:8"));
  EXPECT_EQ(std::count_if(kernels.begin(), kernels.end(),
                          [](const KernelCost& k) { return k.name == "tome_similarity"; }),
            12);
  EXPECT_EQ(std::count_if(kernels.begin(), kernels.end(),
                          [](const KernelCost& k) { return k.name == "log_size_bias"; }),
            11);  // proportional attention once tokens have merged
}

// HDP's model: the deciding integer product runs on every head, so with
// nothing pruned it only adds work; pruned heads shrink the kept heads'
// kernels, and pruned blocks (the co-processor assumption) their columns.
TEST(GpuSim, HdpCostsItsDecisionAndSavesWhatItPrunes) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  const GpuSpec& nano = find_simulated_gpu("jetson-nano");
  const MethodSpec hdp = parse_method_spec("hdp:heads=0.1,blocks=0.5");
  const double baseline = vit_forward_ms(nano, tiny, 8, parse_method_spec("none"));
  const auto with = [&](double heads, double blocks) {
    const std::vector<HdpBlockShares> shares(12, HdpBlockShares{heads, blocks});
    return vit_forward_ms(nano, tiny, 8, hdp, 4.0, &shares);
  };
  EXPECT_GT(with(0, 0), baseline);
  EXPECT_LT(with(0.5, 0), with(0, 0));
  EXPECT_LT(with(0, 0.5), with(0, 0));
  EXPECT_LT(with(1, 0), with(0.5, 0));
  const std::vector<HdpBlockShares> all(12, HdpBlockShares{1, 0});
  const auto kernels = vit_forward_kernels(nano, tiny, 8, hdp, 4.0, &all);
  EXPECT_EQ(std::count_if(kernels.begin(), kernels.end(),
                          [](const KernelCost& k) { return k.name == "q@k^T"; }),
            0);  // every head pruned: no attention beyond the decision
  EXPECT_EQ(std::count_if(kernels.begin(), kernels.end(),
                          [](const KernelCost& k) { return k.name == "hdp_int_q@k^T"; }),
            12);
  const std::vector<HdpBlockShares> short_list(11);
  EXPECT_THROW(vit_forward_ms(nano, tiny, 8, hdp, 4.0, &short_list), InputError);
}

TEST(GpuSim, NoisySamplesAreSeededAndCentredOnTheModel) {
  SimulatedGpu a(find_simulated_gpu("jetson-tx2"), 42);
  SimulatedGpu b(find_simulated_gpu("jetson-tx2"), 42);
  std::vector<double> samples;
  for (int i = 0; i < 2000; ++i) {
    const double x = a.sample_ms(10.0);
    EXPECT_EQ(x, b.sample_ms(10.0));
    samples.push_back(x);
  }
  const stats::Summary s = stats::summarize(samples);
  EXPECT_NEAR(s.median, 10.0, 0.05);
  EXPECT_GT(s.iqr, 0.05);  // there is noise
  EXPECT_LT(s.iqr, 0.5);
}

}  // namespace
}  // namespace tailsweep::sim
