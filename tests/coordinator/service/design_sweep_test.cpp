// The "design_space" part of a sweep: parsed strictly, expanded into one
// 'architecture' job per (architecture, device), the same seeded sample on
// every device, alone or beside workloads.
#include "coordinator/service/design_sweep.h"

#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "coordinator/service/sweep_plan.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::vector<FleetDevice> kFleet = {
    {1, "cpu-1", "cpu", false, {"lab"}},
    {2, "nano", "sim", true, {"jetson"}},
};

json design_spec(const json& design) { return {{"name", "design"}, {"design_space", design}}; }

std::string error_of(const json& spec) {
  try {
    plan_sweep(parse_sweep_spec(spec), kFleet);
  } catch (const InputError& error) {
    return error.what();
  }
  return "planned";
}

TEST(DesignSweep, EveryArchitectureOfTheSampleIsTimedOnEveryDevice) {
  const json spec = design_spec(
      {{"count", 5}, {"seed", 11}, {"batches", {1, 8}}, {"precision", 0.05}, {"sampler", "lhs"}});
  const auto jobs = plan_sweep(parse_sweep_spec(spec), kFleet);
  ASSERT_EQ(jobs.size(), 10u);
  std::map<int64_t, std::vector<std::string>> by_device;
  for (const auto& job : jobs) {
    EXPECT_EQ(job.kind, "architecture");
    EXPECT_EQ(job.priority, kArchitecturePriority);
    const auto parsed = protocol::parse_architecture_job_spec(json::parse(job.spec_json));
    EXPECT_EQ(parsed.batches, (std::vector<int64_t>{1, 8}));
    EXPECT_EQ(parsed.precision, 0.05);
    EXPECT_EQ(parsed.seed, 11u);
    ASSERT_TRUE(job.device_id.has_value());
    by_device[*job.device_id].push_back(design::architecture_id(parsed.architecture));
  }
  // The same five architectures, in the same order, on both devices.
  ASSERT_EQ(by_device.size(), 2u);
  EXPECT_EQ(by_device[1], by_device[2]);
  EXPECT_EQ(std::set<std::string>(by_device[1].begin(), by_device[1].end()).size(), 5u);
  // The sampler's own sample: seeded, so planning again gives the same one.
  DesignSweepSettings settings;
  settings.count = 5;
  settings.seed = 11;
  const auto sample = design_sample(settings);
  for (std::size_t i = 0; i < sample.size(); ++i) {
    EXPECT_EQ(design::architecture_id(sample[i]), by_device[1][i]);
  }
}

TEST(DesignSweep, LhsAndUniformDrawDifferentSamplesFromTheSameSeed) {
  DesignSweepSettings lhs;
  lhs.count = 8;
  DesignSweepSettings uniform = lhs;
  uniform.sampler = "uniform";
  EXPECT_NE(design::architecture_id(design_sample(lhs)[0]),
            design::architecture_id(design_sample(uniform)[0]));
}

TEST(DesignSweep, ItMayStandAloneOrBesideWorkloads) {
  json both = design_spec({{"count", 2}});
  both["workloads"] = json::parse(R"([{"model": "deit-tiny", "curves": {"tokens": "2,197"}}])");
  const auto jobs = plan_sweep(parse_sweep_spec(both), kFleet);
  EXPECT_EQ(jobs.size(), 2u + 4u);  // two profiles, then the architectures
  EXPECT_EQ(jobs.back().kind, "architecture");
  // Without design_space, workloads are required as before.
  EXPECT_THAT(error_of({{"name", "none"}}), HasSubstr("workloads"));
}

TEST(DesignSweep, BadSettingsAreRefusedNamingTheField) {
  EXPECT_THAT(error_of(design_spec({{"count", 0}})), HasSubstr("design_space.count"));
  EXPECT_THAT(error_of(design_spec({{"count", 2001}})),
              HasSubstr("design_space.count: 2001 is above 2000"));
  EXPECT_THAT(error_of(design_spec({{"sampler", "sobol"}})),
              HasSubstr("design_space.sampler: 'sobol' is neither lhs nor uniform"));
  EXPECT_THAT(error_of(design_spec({{"space", {{"heads", {3}}}}})),
              HasSubstr("sweep spec: design_space.space: design space: "));
  EXPECT_THAT(error_of(design_spec({{"precision", 1}})),
              HasSubstr("design_space.precision: 1 is outside (0, 1)"));
  EXPECT_THAT(error_of(design_spec({{"batches", json::array()}})),
              HasSubstr("design_space.batches"));
  EXPECT_THAT(error_of(design_spec({{"initial", 16}})), HasSubstr("initial"));
  EXPECT_THAT(error_of(design_spec({{"count", 5}})), HasSubstr("planned"));
  // The coordinator's limit per sweep counts the architecture jobs too.
  EXPECT_THROW(plan_sweep(parse_sweep_spec(design_spec({{"count", 20}})), kFleet, 30), InputError);
}

}  // namespace
}  // namespace tailsweep::coordinator
