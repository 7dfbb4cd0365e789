// An 'architecture' job's result: the architecture stored once under its
// id, a measurement per (job, batch) with energy or the reason there is
// none, architecture_view over both; a result for another architecture, a
// batch missing or a point twice refused with nothing stored.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "common/wire/result_document.h"
#include "coordinator/store/design_steps.h"
#include "results_fixture.h"

namespace tailsweep::store {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

design::Architecture architecture(int64_t hidden) {
  design::Architecture a;
  a.sequence_length = 128;
  a.layers = {{hidden, 4, design::Operation::sa_sdp, {1024}},
              {512, 8, design::Operation::l_dct, {2048}}};
  return a;
}

json job(const design::Architecture& a) {
  protocol::ArchitectureJobSpec spec;
  spec.architecture = a;
  spec.batches = {1, 4};
  return protocol::to_json(spec);
}

protocol::ProfilePoint point(int64_t batch, double median_ms) {
  protocol::ProfilePoint p;
  p.batch = batch;
  p.tokens = 128;
  p.visit_index = batch == 1 ? 0 : 1;
  p.median_ms = median_ms;
  p.median_ci95_low_ms = median_ms * 0.99;
  p.median_ci95_high_ms = median_ms * 1.01;
  p.p5_ms = p.p25_ms = p.p75_ms = p.p95_ms = p.mean_ms = median_ms;
  p.min_ms = p.max_ms = median_ms;
  p.iqr_ms = 0;
  p.samples = 3;
  p.raw_ms = {median_ms, median_ms, median_ms};
  p.raw_round = {0, 1, 2};
  p.rounds = 3;
  p.stable = true;
  p.reached_precision = true;
  p.precision_of = "median";
  return p;
}

json result(const design::Architecture& a, bool with_power) {
  protocol::ArchitectureDocument d;
  d.provenance = {"tailsweep-agent profile",
                  "0.1.0",
                  "abc1234",
                  "Release",
                  "2026-11-30T03:00:00Z",
                  3.5,
                  R"({"kind":"cpu","simulated":false})",
                  false};
  d.architecture = a;
  d.architecture_id = design::architecture_id(a);
  d.parameters = a.parameter_count();
  d.flops_per_input = a.forward_flops(1);
  d.measurement.schema_version = protocol::kResultSchemaVersion;
  d.measurement.points_planned = 2;
  d.measurement.method = {0.02, 0.95, 10, 6, 0.05, 10.0, 1.0, 0, "rounds", 0};
  d.points = {point(1, 20.0), point(4, 60.0)};
  if (with_power) {
    d.power = {true, "RAPL package-0", 10, 5.0, std::nullopt};
    d.points[0].power = protocol::PointPower{15.0, 18.0, 0.3, 0.3, 40};
    d.points[1].power = protocol::PointPower{16.0, 19.0, 0.96, 0.24, 90};
  } else {
    d.power.unavailable_reason = "no /sys/class/powercap/intel-rapl:0 (no RAPL)";
  }
  return protocol::to_json(d);
}

TEST_F(ResultsTest, AnArchitectureIsStoredOnceAndEachBatchItsRow) {
  const design::Architecture a = architecture(256);
  ASSERT_EQ(submit("architecture", result(a, true), job(a)), SubmitOutcome::accepted);
  ASSERT_EQ(submit("architecture", result(a, false), job(a)), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM architectures"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM architecture_measurements"), 4);
  EXPECT_EQ(count("SELECT layers FROM architectures"), 2);
  auto rows = store().database().prepare(
      "SELECT model, batch, ms_per_input, joules_per_input, joules_per_input_above_idle, "
      "peak_w, power_null_reason FROM architecture_view ORDER BY job_id, batch");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.column_text(0), design::architecture_id(a));
  EXPECT_DOUBLE_EQ(rows.column_double(2), 20.0);
  EXPECT_DOUBLE_EQ(rows.column_double(3), 0.3);
  // (15 W - 5 W idle) x 20 ms = 0.2 J above idle.
  EXPECT_NEAR(rows.column_double(4), 0.2, 1e-12);
  EXPECT_DOUBLE_EQ(rows.column_double(5), 18.0);
  EXPECT_TRUE(rows.column_is_null(6));
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(rows.column_int64(1), 4);
  EXPECT_DOUBLE_EQ(rows.column_double(2), 15.0);  // 60 ms for 4 inputs
  ASSERT_TRUE(rows.step());                       // the second job: no sensor
  EXPECT_TRUE(rows.column_is_null(3));
  EXPECT_THAT(rows.column_text(6), HasSubstr("no RAPL"));
}

TEST_F(ResultsTest, AnArchitectureResultMustAnswerItsJob) {
  const design::Architecture a = architecture(256);
  const design::Architecture b = architecture(128);
  json missing_batch = result(a, false);
  missing_batch["points"].erase(1);
  json twice = result(a, false);
  twice["points"][1] = twice["points"][0];
  const std::vector<std::pair<json, std::string>> cases = {
      {result(b, false), "architecture_id: '" + design::architecture_id(b) + "' is not the job's"},
      {missing_batch, "points: 1 points for the job's 2"},
      {twice, "points[1]: the same point appears twice"},
  };
  for (const auto& [body, expected] : cases) {
    try {
      submit("architecture", body, job(a));
      ADD_FAILURE() << "accepted: " << expected;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(expected));
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM architecture_measurements"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM architectures"), 0);
}

// A design step's result: written and read back; a fit has an error or the
// reason it has none, never both or neither.
TEST(DesignStepBody, ReadsBackAndRefusesAFitWithoutErrorOrReason) {
  DesignStepBody body;
  body.device_id = 3;
  body.step = 2;
  body.batch = 1;
  body.selection = "uncertainty";
  body.phase = "explore";
  body.measured = 24;
  body.fits = {{"latency", 24, 19, 24, 0.004, 1.5, false, std::nullopt},
               {"energy", 0, std::nullopt, std::nullopt, std::nullopt, std::nullopt, false,
                "no energy: no RAPL"}};
  body.queued = {"arch-0123456789abcdef"};
  const json written = to_json(body);
  EXPECT_EQ(to_json(parse_design_step_body(written)), written);
  json both = written;
  both["fits"][1]["nmse"] = 0.1;
  EXPECT_THROW(parse_design_step_body(both), InputError);
  json neither = written;
  neither["fits"][0]["nmse"] = nullptr;
  EXPECT_THROW(parse_design_step_body(neither), InputError);
  json unknown = written;
  unknown["fits"][0]["r2"] = 0.9;
  EXPECT_THROW(parse_design_step_body(unknown), InputError);
}

}  // namespace
}  // namespace tailsweep::store
