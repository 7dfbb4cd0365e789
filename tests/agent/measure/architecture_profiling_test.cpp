// run_architecture_profiling: one design-space architecture timed per batch,
// on a simulated device (the kernel model's numbers) and on this machine's
// CPU (the engine), each document read back by the coordinator's reader.
#include "agent/measure/architecture_profiling.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/design/architecture.h"
#include "common/util/errors.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

using design::Architecture;
using design::EncoderLayer;
using design::Operation;

Architecture small_architecture() {
  Architecture architecture;
  architecture.sequence_length = 16;
  architecture.vocabulary = 100;
  architecture.layers = {EncoderLayer{32, 4, Operation::sa_sdp, {64}},
                         EncoderLayer{48, 4, Operation::l_dct, {32, 96}}};
  return architecture;
}

ProfileRequest quick_request(std::string device) {
  ProfileRequest request;
  request.device = std::move(device);
  request.batches = {1, 4};
  request.precision = 0.05;
  request.warmup_s = 0;
  request.time_cap_s = 0.5;
  return request;
}

TEST(ArchitectureProfiling, ASimulatedDeviceTimesEachBatchOnTheFullSequence) {
  const Architecture architecture = small_architecture();
  const nlohmann::json document =
      run_architecture_profiling(quick_request("sim:jetson-nano"), architecture);
  const protocol::ArchitectureDocument read = protocol::parse_architecture_body(document);
  EXPECT_EQ(read.architecture, architecture);
  EXPECT_EQ(read.architecture_id, design::architecture_id(architecture));
  EXPECT_EQ(read.parameters, architecture.parameter_count());
  ASSERT_EQ(read.points.size(), 2u);
  EXPECT_EQ(read.points[0].batch, 1);
  EXPECT_EQ(read.points[1].batch, 4);
  for (const protocol::ProfilePoint& point : read.points) {
    EXPECT_EQ(point.tokens, 16);
    EXPECT_GT(point.median_ms, 0);
    EXPECT_FALSE(point.ratio.has_value());  // nothing to pair: each stops on its own CI
    EXPECT_FALSE(point.power.has_value());
  }
  // Four times the rows cost more, if not four times as much (launches are fixed).
  EXPECT_GT(read.points[1].median_ms, read.points[0].median_ms);
  EXPECT_FALSE(read.power.available);
  EXPECT_NE(read.power.unavailable_reason->find("simulated"), std::string::npos);
  EXPECT_EQ(document["device"]["simulated"], true);
  ASSERT_TRUE(read.measurement.rounds.has_value());
  EXPECT_EQ(read.measurement.rounds->sentinel_batch, 4);
}

TEST(ArchitectureProfiling, TheEngineTimesItOnThisMachinesCpu) {
  const Architecture architecture = small_architecture();
  ProfileRequest request = quick_request("cpu");
  request.run.threads = 1;
  const protocol::ArchitectureDocument read =
      protocol::parse_architecture_body(run_architecture_profiling(request, architecture));
  ASSERT_EQ(read.points.size(), 2u);
  for (const protocol::ProfilePoint& point : read.points) {
    EXPECT_GT(point.median_ms, 0);
    EXPECT_GE(point.rounds.value_or(0), 6);
    EXPECT_EQ(point.raw_ms.size(), point.raw_round.size());
  }
  // Power: a sensor's readings or the reason there are none, never silence.
  EXPECT_TRUE(read.power.available || read.power.unavailable_reason.has_value());
  EXPECT_EQ(read.provenance.device_simulated, false);
}

TEST(ArchitectureProfiling, OptionsThatTimeSomethingElseAreRefusedByName) {
  const Architecture architecture = small_architecture();
  const auto refused = [&](ProfileRequest request, const std::string& option) {
    try {
      run_architecture_profiling(request, architecture);
      ADD_FAILURE() << option << " was accepted";
    } catch (const InputError& error) {
      EXPECT_NE(std::string(error.what()).find(option), std::string::npos) << error.what();
    }
  };
  ProfileRequest tokens = quick_request("sim:jetson-nano");
  tokens.tokens = {2, 16};
  refused(tokens, "--tokens");
  ProfileRequest methods = quick_request("sim:jetson-nano");
  methods.methods = {"none"};
  refused(methods, "--methods");
  ProfileRequest block = quick_request("sim:jetson-nano");
  block.mode = "block";
  refused(block, "--mode block");
  ProfileRequest weights = quick_request("sim:jetson-nano");
  weights.run.weights = "model.safetensors";
  refused(weights, "--weights");
  ProfileRequest precision = quick_request("sim:jetson-nano");
  precision.precision = 1.5;
  refused(precision, "--precision");
  ProfileRequest batch = quick_request("sim:jetson-nano");
  batch.batches = {0};
  EXPECT_THROW(run_architecture_profiling(batch, architecture), InputError);
  Architecture invalid = architecture;
  invalid.layers[0].heads = 3;  // does not divide 32
  EXPECT_THROW(run_architecture_profiling(quick_request("sim:jetson-nano"), invalid), InputError);
}

}  // namespace
}  // namespace tailsweep::agent
