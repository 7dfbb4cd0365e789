// run_profiling on a simulated device, where the numbers are the GPU
// model's: what the document says of points cut short.
#include "agent/measure/profiling.h"

#include <map>
#include <string>
#include <utility>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

// In rounds the cap ends a point only after its minimum of rounds, so even
// a cap that one slice exceeds leaves every point with an interval (a stall
// of the machine must not leave a point with a median from the stall and no
// interval, as a 1.5 s cap once did in the main job).
TEST(Profiling, InRoundsEvenATinyCapLeavesEveryPointItsMinimumOfRounds) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";  // about 19 ms a pass: one slice is past a 1 ms cap
  request.batches = {1};
  request.tokens = {2, 197};
  request.time_cap_s = 0.001;
  request.precision = 0.0001;  // out of reach: the cap ends it
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  ASSERT_EQ(document["points"].size(), 2u);
  for (const nlohmann::json& point : document["points"]) {
    // Six rounds, or seven when the point came before its reference in the
    // sixth (a paired point counts the rounds it shares with its reference).
    const int rounds = point["rounds"].get<int>();
    EXPECT_GE(rounds, 6) << point.dump();
    EXPECT_LE(rounds, 7);
    EXPECT_GE(point["samples"].get<int>(), 3 * rounds);  // slices of at least 3 samples
    EXPECT_EQ(point["reached_precision"], false);
    EXPECT_TRUE(point["median_ci95_low_ms"].is_number());
    EXPECT_GT(point["median_ms"].get<double>(), 0);
  }
}

// A point stopped by the cap after one sample has no interval: its bounds
// are null, never 0 (a zero-width "interval" at 0 ms once reached step
// detection).
TEST(Profiling, InBlocksAPointCutAfterOneSampleHasNullBoundsToo) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";
  request.batches = {1};
  request.tokens = {2, 197};
  request.protocol = "blocks";
  request.time_cap_s = 0.001;
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  ASSERT_EQ(document["points"].size(), 2u);
  EXPECT_TRUE(document["rounds"].is_null());
  for (const nlohmann::json& point : document["points"]) {
    EXPECT_EQ(point["samples"], 1);
    EXPECT_TRUE(point["median_ci95_low_ms"].is_null());
    EXPECT_TRUE(point["ratio"].is_null());
  }
}

// The document of a rounds run on a simulated device: the sentinel is the
// batch's all-token point, measured in every round; every other point
// carries its ratio to it; each raw sample its round.
TEST(Profiling, ARoundsDocumentPairsEachPointWithItsBatchsReference) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-orin-nano";
  request.batches = {1, 4};
  request.tokens = {50, 100, 197};
  request.precision = 0.02;
  request.warmup_s = 0;
  const nlohmann::json document = run_profiling(request);
  EXPECT_EQ(document["schema_version"], protocol::kResultSchemaVersion);
  // What the agent wrote, the coordinator reads strictly and writes back the same.
  EXPECT_EQ(protocol::to_json(protocol::parse_profile_body(document)), document);
  const nlohmann::json& rounds = document["rounds"];
  ASSERT_TRUE(rounds.is_object());
  EXPECT_EQ(rounds["sentinel"], (nlohmann::json{{"batch", 4}, {"tokens", 197}}));
  EXPECT_EQ(rounds["rounds"].size(), rounds["count"].get<std::size_t>());
  EXPECT_GE(rounds["count"].get<int>(), 6);
  for (const nlohmann::json& round : rounds["rounds"]) {
    EXPECT_TRUE(round["sentinel_median_ms"].is_number()) << round.dump();
  }
  ASSERT_EQ(document["points"].size(), 6u);
  for (const nlohmann::json& point : document["points"]) {
    EXPECT_EQ(point["raw_round"].size(), point["raw_ms"].size());
    if (point["tokens"] == 197) {
      EXPECT_TRUE(point["ratio"].is_null());
      // A reference comes while its batch has points left; the sentinel in every round.
      if (point["batch"] == 4) {
        EXPECT_EQ(point["rounds"], rounds["count"]);
      } else {
        EXPECT_LE(point["rounds"].get<int>(), rounds["count"].get<int>());
      }
      continue;
    }
    const nlohmann::json& ratio = point["ratio"];
    ASSERT_TRUE(ratio.is_object()) << point.dump();
    EXPECT_EQ(ratio["to"], (nlohmann::json{{"batch", point["batch"]}, {"tokens", 197}}));
    EXPECT_LT(ratio["median"].get<double>(), 1.0);  // fewer tokens, less time
    EXPECT_LE(ratio["ci95_low"].get<double>(), ratio["median"].get<double>());
    EXPECT_EQ(point["precision_of"], "ratio");
    EXPECT_EQ(point["reached_precision"], true);
  }
}

// Paired clustering on a simulated device: every method on every weight
// variant, the clustered ones labelled with their K, each ratio taken to
// the dense "none" of its batch; the lookup kernel's variants read 1-byte
// weights in the GPU model, the dense reference 4.
TEST(Profiling, PairedClustersTimeEveryMethodOnEveryVariantAgainstTheDenseNone) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";
  request.batches = {1, 2};
  request.methods = {"none", "topk:8"};
  request.paired_clusters = {16, 64};
  request.run.weight_kernel = WeightKernel::kLookup;
  request.warmup_s = 0;
  request.time_cap_s = 0.5;
  const nlohmann::json document = run_profiling(request);
  EXPECT_EQ(protocol::to_json(protocol::parse_latency_body(document)), document);
  EXPECT_EQ(document["paired_clusters"], (nlohmann::json{16, 64}));
  const nlohmann::json& variants = document["variants"];
  ASSERT_EQ(variants.size(), 3u);
  EXPECT_TRUE(variants[0]["clusters"].is_null());
  EXPECT_EQ(variants[0]["weight_kernel"], "dense");
  EXPECT_EQ(variants[2]["clusters"], 64);
  EXPECT_EQ(variants[2]["weight_kernel"], "lookup");
  EXPECT_TRUE(variants[2]["weight_bytes_per_forward"].is_null());  // no model is built
  EXPECT_EQ(document["rounds"]["sentinel"], (nlohmann::json{{"batch", 2}, {"method", "none"}}));
  ASSERT_EQ(document["points"].size(), 12u);  // 2 batches x 2 methods x 3 variants
  std::map<std::pair<std::string, int64_t>, int> seen;
  for (const nlohmann::json& point : document["points"]) {
    const int64_t k = point.value("clusters", int64_t{0});
    ++seen[{point["method"].get<std::string>(), k}];
    if (point["method"] == "none" && k == 0) {
      EXPECT_TRUE(point["ratio"].is_null());
      continue;
    }
    ASSERT_TRUE(point["ratio"].is_object()) << point.dump();
    EXPECT_EQ(point["ratio"]["to"],
              (nlohmann::json{{"batch", point["batch"]}, {"method", "none"}}));
  }
  EXPECT_EQ(seen.size(), 6u);
  for (const auto& [configuration, count] : seen) EXPECT_EQ(count, 2) << configuration.first;
}

// On the CPU engine the clustered models are built from the weights as
// loaded: each variant reports its codebooks' hash and the weight bytes a
// forward pass reads (a uint8 index a weight on the lookup kernel).
TEST(Profiling, PairedClustersOnTheEngineReportEachVariantsWeightBytes) {
  ProfileRequest request;
  request.run.model = "fmnist-vit";
  request.run.threads = 1;
  request.batches = {1};
  request.methods = {"none"};
  request.paired_clusters = {64};
  request.run.weight_kernel = WeightKernel::kLookup;
  request.warmup_s = 0;
  request.time_cap_s = 0.05;
  request.slice_s = 0.002;
  request.power_period_ms = 0;
  const nlohmann::json document = run_profiling(request);
  const nlohmann::json& variants = document["variants"];
  ASSERT_EQ(variants.size(), 2u);
  const double dense = variants[0]["weight_bytes_per_forward"].get<double>();
  const double clustered = variants[1]["weight_bytes_per_forward"].get<double>();
  EXPECT_TRUE(variants[0]["clustered_weights_sha256"].is_null());
  EXPECT_EQ(variants[1]["clustered_weights_sha256"].get<std::string>().size(), 64u);
  EXPECT_GT(dense / clustered, 3.0);  // the blocks' matrices dominate fmnist-vit
  EXPECT_LT(dense / clustered, 4.0);  // the rest stays float32
  ASSERT_EQ(document["points"].size(), 2u);
  EXPECT_EQ(document["points"][1]["clusters"], 64);
  EXPECT_TRUE(document["points"][1]["ratio"].is_object());
}

// A method with Hybrid Dynamic Pruning: its points say what it pruned (one
// untimed pass); a simulated device refuses it, as it never sees the data
// that decides.
// On the engine, HDP's counts are measured; a simulated device models HDP
// only from the shares a real device's evaluation measured, and says so.
TEST(Profiling, AnHdpPointSaysWhatItPrunedAndASimulatedDeviceModelsMeasuredShares) {
  ProfileRequest request;
  request.run.model = "fmnist-vit";
  request.run.threads = 1;
  request.batches = {2};
  request.methods = {"none", "hdp:blocks=0.5"};
  request.warmup_s = 0;
  request.time_cap_s = 0.05;
  request.slice_s = 0.002;
  request.power_period_ms = 0;
  const nlohmann::json document = run_profiling(request);
  ASSERT_EQ(document["points"].size(), 2u);
  EXPECT_FALSE(document["points"][0].contains("hdp"));
  const nlohmann::json& hdp = document["points"][1]["hdp"];
  EXPECT_EQ(document["points"][1]["method"], "hdp:heads=0,blocks=0.5,approx=0,frac=8");
  EXPECT_EQ(hdp["heads"], 2 * 4 * 6);  // images x heads x blocks of fmnist-vit
  // 197 tokens: 99 x 99 blocks a head, each block-row keeping ceil(49.5) = 50.
  EXPECT_EQ(hdp["blocks_pruned"], 2 * 4 * 6 * 99 * 49);
  EXPECT_EQ(hdp["per_block"].size(), 6u);
  request.device = "sim:jetson-nano";
  const auto refused = [&](const std::string& expected) {
    try {
      run_profiling(request);
      ADD_FAILURE() << "timed: " << expected;
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  refused("a simulated GPU models HDP from the shares an evaluation on a real device measured");
  protocol::HdpMeasuredShares shares;
  shares.method = "hdp:blocks=0.5";
  shares.heads_pruned = std::vector<double>(6, 0.25);
  shares.blocks_pruned = std::vector<double>(5, 0.5);
  request.hdp_shares = {shares};
  refused("HDP shares for 5 blocks; fmnist-vit has 6");
  request.hdp_shares[0].blocks_pruned.push_back(0.5);
  request.hdp_shares[0].source_job_id = 7;
  const nlohmann::json simulated = run_profiling(request);
  const nlohmann::json& modelled = simulated["points"][1]["hdp"];
  EXPECT_EQ(modelled["heads"], 2 * 4 * 6);
  EXPECT_EQ(modelled["heads_pruned"], 2 * 6);  // a quarter of each block's 8 (image, head) pairs
  EXPECT_DOUBLE_EQ(modelled["blocks_pruned_share"].get<double>(), 0.5);
  EXPECT_EQ(simulated["hdp_shares"][0]["source_job_id"], 7);
  EXPECT_TRUE(simulated["device"]["simulated"].get<bool>());
  // A real device measures what HDP prunes: shares are not its input.
  request.device = "cpu";
  refused("HDP shares are a simulated device's input");
}

TEST(Profiling, PairedClustersAreRefusedWithoutMethodsOrWithClustersAtLoad) {
  ProfileRequest request;
  request.run.model = "deit-tiny";
  request.device = "sim:jetson-nano";
  request.tokens = {2, 197};
  request.paired_clusters = {64};
  EXPECT_THROW(run_profiling(request), InputError);
  request.tokens.clear();
  request.methods = {"none"};
  request.run.clusters = 16;
  EXPECT_THROW(run_profiling(request), InputError);
  request.run.clusters = 0;
  request.paired_clusters = {64, 64};
  EXPECT_THROW(run_profiling(request), InputError);
  request.paired_clusters = {257};
  EXPECT_THROW(run_profiling(request), InputError);
}

}  // namespace
}  // namespace tailsweep::agent
