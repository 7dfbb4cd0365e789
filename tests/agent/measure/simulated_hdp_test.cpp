// A simulated device's HDP input (the shares an evaluation measured) and the
// counts its model reports, in the engine's terms.
#include "agent/measure/simulated_hdp.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using ::testing::HasSubstr;

TEST(SimulatedHdp, EachHdpMethodTakesItsMeasuredSharesAndOthersNone) {
  const VitConfig config = parse_model_spec("fmnist-vit");  // 6 blocks
  const std::vector<MethodSpec> methods = {parse_method_spec("none"),
                                           parse_method_spec("hdp:heads=0.1"),
                                           parse_method_spec("pomt:58+hdp:blocks=0.5")};
  // Matched by canonical text: "hdp:heads=0.1" is hdp:heads=0.1,blocks=1,...
  const std::vector<protocol::HdpMeasuredShares> shares = {
      {"pomt:58+hdp:blocks=0.5", std::vector<double>(6, 0), std::vector<double>(6, 0.5), 3},
      {"hdp:heads=0.1,blocks=1,approx=0,frac=8", std::vector<double>(6, 0.25),
       std::vector<double>(6, 0), 2}};
  const auto inputs = simulated_hdp_inputs(methods, shares, config);
  ASSERT_EQ(inputs.size(), 3u);
  EXPECT_FALSE(inputs[0]);
  ASSERT_TRUE(inputs[1]);
  EXPECT_DOUBLE_EQ((*inputs[1])[5].heads_pruned, 0.25);
  ASSERT_TRUE(inputs[2]);
  EXPECT_DOUBLE_EQ((*inputs[2])[0].blocks_pruned, 0.5);
  try {
    simulated_hdp_inputs(methods, {shares[0]}, config);
    ADD_FAILURE() << "modelled HDP without its shares";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("hdp:heads=0.1,blocks=1,approx=0,frac=8: a simulated GPU"));
  }
}

// With POMT at layer 3, blocks 4 and 5 see 139 tokens: 70 x 70 blocks a head.
TEST(SimulatedHdp, CountsFollowTheSharesAndTheTokensEachBlockSees) {
  const VitConfig config = parse_model_spec("fmnist-vit");
  const MethodSpec method = parse_method_spec("pomt:58+hdp:heads=0.1,blocks=0.5,approx=1");
  const std::vector<sim::HdpBlockShares> shares(6, sim::HdpBlockShares{0.25, 0.5});
  const std::vector<HdpCounts> counts = simulated_hdp_counts(method, config, 2, shares);
  ASSERT_EQ(counts.size(), 6u);
  const int64_t d = config.head_dim();
  EXPECT_EQ(counts[0].heads, 2 * 4);
  EXPECT_EQ(counts[0].heads_pruned, 2);
  EXPECT_EQ(counts[0].blocks, 6 * 99 * 99);
  EXPECT_EQ(counts[0].macs, 2 * 8 * 197 * 197 * d);
  EXPECT_EQ(counts[5].blocks, 6 * 70 * 70);
  EXPECT_EQ(counts[5].macs, 2 * 8 * 139 * 139 * d);
  // What is left: 6 kept heads, half their entries.
  EXPECT_EQ(counts[5].macs - counts[5].macs_skipped, 2 * (6 * 139 * 139 / 2) * d);
  EXPECT_EQ(counts[5].frac_macs_dropped, (6 * 139 * 139 / 2) * d);
}

}  // namespace
}  // namespace tailsweep::agent
