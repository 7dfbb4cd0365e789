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

// ProTran's loop on a simulated Nano: the first sample, then steps that fit
// the surrogates and queue the most uncertain architectures, until the
// latency surrogate converges or the budget is spent; energy has no
// surrogate on a device without sensors, and says so.
TEST_F(Fleet, ActiveLearningStepsUntilConvergedOrTheBudgetIsSpent) {
  start_coordinator();
  start_agent("nano", "sim:jetson-nano");
  ASSERT_TRUE(eventually([&] { return devices_registered(1); }, 20s)) << logs();
  json spec = design_sweep({{"count", 8},
                            {"batches", {1}},
                            {"active_learning",
                             {{"batch", 4},
                              {"budget", 20},
                              {"pool", 64},
                              {"targets", {"latency", "energy"}},
                              {"patience", 2}}}});
  spec["design_space"].erase("space");  // FlexiBERT 2.0's
  const int64_t sweep = admin("POST", "/v1/sweeps", spec)["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sweep_state(sweep) == "done"; }, 120s)) << logs();
  const int64_t measured = sql_count("SELECT count(*) FROM architectures");
  EXPECT_GE(measured, 12);  // the first 8 and at least one batch of 4
  EXPECT_LE(measured, 20);
  const int64_t steps = sql_count("SELECT count(*) FROM jobs WHERE kind = 'design_step'");
  EXPECT_EQ(sql_count("SELECT count(*) FROM surrogate_fit_view WHERE target = 'latency' AND "
                      "nmse IS NOT NULL AND model = 'uncertainty'"),
            steps);
  EXPECT_EQ(sql_count("SELECT count(*) FROM surrogate_fit_view WHERE target = 'energy' AND "
                      "nmse IS NULL AND null_reason LIKE '%simulated%'"),
            steps);
  // Samples grow step by step; the last step says why it queued nothing.
  const json last =
      sql("SELECT json_extract(r.body, '$.stop'), json_array_length(r.body, '$.queued') "
          "FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.kind = 'design_step' "
          "ORDER BY j.id DESC LIMIT 1");
  ASSERT_EQ(last.size(), 1u);
  EXPECT_TRUE(last[0][0] == "budget" || last[0][0] == "converged") << last;
  EXPECT_EQ(last[0][1], 0);

  // Each step's surrogate, tested on an independent uniform sample.
  json test_spec = design_sweep({{"count", 10}, {"sampler", "uniform"}, {"seed", 99}});
  test_spec["name"] = "test-set";
  test_spec["design_space"].erase("space");
  const int64_t test_sweep = admin("POST", "/v1/sweeps", test_spec)["sweep_id"].get<int64_t>();
  ASSERT_TRUE(eventually([&] { return sweep_state(test_sweep) == "done"; }, 60s)) << logs();
  const std::string evaluate = std::string(TAILSWEEP_BIN) + " design evaluate --db " +
                               testing::shell_quote((dir_ / "fleet.db").string()) + " --sweep " +
                               std::to_string(sweep) + " --test-sweep " +
                               std::to_string(test_sweep);
  const testing::CommandResult table = testing::run_command(evaluate + " --json");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  const json rows = json::parse(table.out);
  ASSERT_EQ(static_cast<int64_t>(rows.size()), steps);
  for (const json& row : rows) {
    EXPECT_EQ(row["test_architectures"], 10);
    EXPECT_GE(row["test_nmse"].get<double>(), 0);
  }
  // Energy was never measured on a simulated device: said in one line, exit 2.
  const testing::CommandResult energy = testing::run_command(evaluate + " --target energy");
  EXPECT_EQ(energy.exit_code, 2);
  EXPECT_THAT(energy.err, HasSubstr("no fitted energy surrogate"));
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
      {{{"active_learning", {{"budget", 2}}}},
       "design_space.active_learning.budget: 2 is below the first sample's 3 (count)"},
      {{{"active_learning", {{"targets", {"latency", "accuracy"}}}}},
       "design_space.active_learning.targets[1]: 'accuracy' is not latency, energy or peak_power"},
      {{{"active_learning", {{"selection", "greedy"}}}}, "design_space.active_learning.selection"},
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
