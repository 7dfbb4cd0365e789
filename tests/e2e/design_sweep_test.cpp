// End to end, with real processes on 127.0.0.1: a design-space sweep over a
// simulated and a CPU agent, each architecture of the sample timed on both,
// stored once per architecture and once per (job, batch), and refused with
// a 400 naming the field when the sweep spec is wrong.
#include <gmock/gmock.h>

#include "fleet_fixture.h"

namespace tailsweep::e2e {
namespace {

using ::testing::HasSubstr;

json design_sweep(const json& overrides) {
  json design = {{"space",
                  {{"sequence_length", 16},
                   {"vocabulary", 100},
                   {"layers", {1, 2}},
                   {"hidden", {32, 64}},
                   {"heads", {2, 4}},
                   {"feed_forward_widths", {64, 128}}}},
                 {"count", 3},
                 {"seed", 7},
                 {"batches", {1, 2}},
                 {"precision", 0.2},
                 {"time_cap_s", 0.3},
                 {"warmup_s", 0}};
  design.merge_patch(overrides);
  return {{"name", "design"}, {"design_space", design}};
}

TEST_F(Fleet, ADesignSpaceSweepTimesEveryArchitectureOnEveryDevice) {
  start_coordinator();
  start_agent("nano", "sim:jetson-nano");
  start_agent("cpu", "cpu");
  ASSERT_TRUE(eventually([&] { return devices_registered(2); }, 20s)) << logs();
  const int64_t sweep =
      admin("POST", "/v1/sweeps", design_sweep(json::object()))["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sweep_state(sweep) == "done"; }, 90s)) << logs();
  EXPECT_EQ(sql_count("SELECT count(*) FROM jobs WHERE kind = 'architecture' AND state = 'done'"),
            6);
  EXPECT_EQ(sql_count("SELECT count(*) FROM architectures"), 3);
  EXPECT_EQ(sql_count("SELECT count(*) FROM architecture_measurements"), 12);
  // The same three architectures on both devices, each at both batches.
  EXPECT_EQ(sql_count("SELECT count(DISTINCT model) FROM architecture_view WHERE sweep_id = " +
                      std::to_string(sweep) + " AND device = 'cpu'"),
            3);
  const json nano =
      sql("SELECT simulated, power_null_reason, ms_per_input FROM architecture_view "
          "WHERE device = 'nano' ORDER BY model, batch");
  ASSERT_EQ(nano.size(), 6u);
  for (const json& row : nano) {
    EXPECT_EQ(row[0], 1) << row;
    EXPECT_THAT(row[1].get<std::string>(), HasSubstr("simulated")) << row;
    EXPECT_GT(row[2].get<double>(), 0) << row;
  }
  // A CPU has energy where RAPL is readable, and otherwise says why not.
  EXPECT_EQ(sql_count("SELECT count(*) FROM architecture_view WHERE device = 'cpu' AND "
                      "(joules_per_input IS NULL) = (power_null_reason IS NULL)"),
            0);
}

TEST_F(Fleet, ABadDesignSpaceSweepIs400NamingTheField) {
  start_coordinator();
  start_agent("nano", "sim:jetson-nano");
  ASSERT_TRUE(eventually([&] { return devices_registered(1); }, 20s)) << logs();
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"count", 0}}, "design_space.count"},
      {{{"sampler", "sobol"}}, "design_space.sampler: 'sobol' is neither lhs nor uniform"},
      {{{"space", {{"operations", {"sa_sdp", "conv"}}}}}, "design_space.space"},
      {{{"space", {{"hidden", {33}}}}}, "design_space.space"},
      {{{"space",
         {{"layers", {1}},
          {"hidden", {32}},
          {"heads", {2}},
          {"operations", {"l_dft"}},
          {"feed_forward_layers", {1}},
          {"feed_forward_widths", {64}}}}},
       "design_space.count: 3 architectures from a space of 1"},
      {{{"batches", {0}}}, "design_space.batches[0]"},
      {{{"budget", 10}}, "budget"},
  };
  for (const auto& [overrides, expected] : cases) {
    const HttpResult result = call("POST", "/v1/sweeps", design_sweep(overrides).dump());
    EXPECT_EQ(result.status, 400) << overrides;
    EXPECT_THAT(result.body, HasSubstr(expected)) << overrides;
  }
  EXPECT_EQ(sql_count("SELECT count(*) FROM jobs"), 0);
}

}  // namespace
}  // namespace tailsweep::e2e
