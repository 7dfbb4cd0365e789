// Result bodies unpacked into their tables: profile -> curve_points + power,
// eval -> evaluations, accuracy curve -> accuracy_points, schedule ->
// schedules; malformed bodies refused with nothing stored.
#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "coordinator/store/result_bodies.h"
#include "results_fixture.h"

namespace tailsweep::store {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

TEST_F(ResultsTest, AProfileBecomesCurvePointsWithPowerAndProvenance) {
  ASSERT_EQ(submit("profile", profile_body()), SubmitOutcome::accepted);
  auto point = store().database().prepare(
      "SELECT device, model, mode, batch, tokens, median_ms, p5_ms, p95_ms, samples, stable, "
      "reached_precision, median_ci95_low_ms, average_w, power_null_reason "
      "FROM curve ORDER BY tokens");
  ASSERT_TRUE(point.step());
  EXPECT_EQ(point.column_text(0), "cpu-1");
  EXPECT_EQ(point.column_text(1), "deit-tiny");
  EXPECT_EQ(point.column_text(2), "model");
  EXPECT_EQ(point.column_int64(3), 1);
  EXPECT_EQ(point.column_int64(4), 100);
  EXPECT_DOUBLE_EQ(point.column_double(5), 11.5);
  EXPECT_EQ(point.column_int64(8), 4);
  EXPECT_EQ(point.column_int64(10), 0);   // did not reach the precision
  EXPECT_TRUE(point.column_is_null(11));  // no interval: it stays null
  EXPECT_TRUE(point.column_is_null(12));  // no power: null, with the reason
  EXPECT_THAT(point.column_text(13), HasSubstr("no INA3221"));
  ASSERT_TRUE(point.step());
  EXPECT_EQ(point.column_int64(4), 197);
  EXPECT_DOUBLE_EQ(point.column_double(6), 21.592);
  EXPECT_DOUBLE_EQ(point.column_double(7), 23.532);
  EXPECT_DOUBLE_EQ(point.column_double(11), 21.781);
  EXPECT_FALSE(point.step());

  EXPECT_EQ(count("SELECT json_array_length(raw_ms) FROM curve_points WHERE tokens = 100"), 4);
  auto provenance = store().database().prepare(
      "SELECT agent_version, git_sha, json_extract(device_facts, '$.host.cpu_model'), "
      "lease_id FROM results");
  ASSERT_TRUE(provenance.step());
  EXPECT_EQ(provenance.column_text(0), "0.1.0");
  EXPECT_EQ(provenance.column_text(1), "deadbeef");
  EXPECT_EQ(provenance.column_text(2), "AMD EPYC");
  EXPECT_EQ(provenance.column_text(3), lease_.lease_id);
}

// The coordinator finds each batch's steps when the profile arrives, with the
// report's rules (analysis/latency_steps.h), and step_view shows them.
TEST_F(ResultsTest, AProfileStoresTheStepsOfItsCurve) {
  const json body = staircase_profile_body(96, 104, 100);
  ASSERT_EQ(
      submit("profile", body, json{{"model", "deit-tiny"}, {"batches", {1}}, {"tokens", "96:104"}}),
      SubmitOutcome::accepted);
  auto step = store().database().prepare(
      "SELECT sweep_id, device, model, batch, mode, tokens_below, tokens_above, height_ms, "
      "height_percent, saved_from_full_ms FROM step_view");
  ASSERT_TRUE(step.step());
  EXPECT_EQ(step.column_int64(0), 1);
  EXPECT_EQ(step.column_text(1), "cpu-1");
  EXPECT_EQ(step.column_text(2), "deit-tiny");
  EXPECT_EQ(step.column_int64(3), 1);
  EXPECT_EQ(step.column_text(4), "model");
  EXPECT_EQ(step.column_int64(5), 100);
  EXPECT_EQ(step.column_int64(6), 101);
  EXPECT_NEAR(step.column_double(7), 4.01, 1e-9);
  EXPECT_NEAR(step.column_double(8), 100 * 4.01 / 11.0, 1e-9);
  EXPECT_NEAR(step.column_double(9), 15.04 - 11.0, 1e-9);
  EXPECT_FALSE(step.step());  // a steady slope elsewhere is no step
}

// `profile --methods`: the same document, each point with its method.
TEST_F(ResultsTest, ALatencyResultBecomesMethodLatencies) {
  json body = profile_body();
  body["points"][0]["method"] = "none";
  body["points"][1]["method"] = "pomt:95";
  body["points"][1]["tokens"] = 197;
  ASSERT_EQ(submit("latency", body), SubmitOutcome::accepted);
  auto row = store().database().prepare(
      "SELECT device, method, median_ms, reached_precision FROM method_latency_view "
      "ORDER BY method");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(0), "cpu-1");
  EXPECT_EQ(row.column_text(1), "none");
  EXPECT_DOUBLE_EQ(row.column_double(2), 21.976);
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(1), "pomt:95");
  EXPECT_EQ(row.column_int64(3), 0);
  EXPECT_FALSE(row.step());
  EXPECT_EQ(count("SELECT count(*) FROM curve_points"), 0);

  // A latency point without its method, or a curve point with one, is refused.
  json unnamed = profile_body();
  EXPECT_THROW(submit("latency", unnamed), InputError);
  json named = profile_body();
  named["points"][0]["method"] = "none";
  EXPECT_THROW(submit("profile", named), InputError);
  EXPECT_EQ(count("SELECT count(*) FROM method_latency"), 2);
}

// A paired clustering job: the dense none and none on 64 clusters, the
// clustered row carrying K, its kernel and weight bytes, and paired with
// the dense row in clustering_latency_view; method_latency_view (and the
// matching) sees the dense row only.
TEST_F(ResultsTest, APairedClusteringResultKeepsTheClusteredRowsApart) {
  const std::string sha(64, 'c');
  json body = profile_body();
  body["points"][0]["method"] = "none";
  body["points"][1]["method"] = "none";
  body["points"][1]["tokens"] = 197;
  body["points"][1]["clusters"] = 64;
  body["variants"] = {{{"clusters", nullptr},
                       {"weight_kernel", "dense"},
                       {"clustered_weights_sha256", nullptr},
                       {"weight_bytes_per_forward", 858408}},
                      {{"clusters", 64},
                       {"weight_kernel", "lookup"},
                       {"clustered_weights_sha256", sha},
                       {"weight_bytes_per_forward", 274728}}};
  json spec = job_spec("latency");
  spec["methods"] = {"none"};
  spec["paired_clusters"] = {64};
  spec["weight_kernel"] = "lookup";
  ASSERT_EQ(submit("latency", body, spec), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM method_latency_view"), 1);
  auto row = store().database().prepare(
      "SELECT clusters, weight_kernel, median_ms, dense_median_ms, weight_bytes_per_forward, "
      "dense_weight_bytes_per_forward, clustered_weights_sha256, joules_per_image, "
      "power_null_reason FROM clustering_latency_view");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_int64(0), 64);
  EXPECT_EQ(row.column_text(1), "lookup");
  EXPECT_DOUBLE_EQ(row.column_double(2), 11.5);
  EXPECT_DOUBLE_EQ(row.column_double(3), 21.976);
  EXPECT_EQ(row.column_int64(4), 274728);
  EXPECT_EQ(row.column_int64(5), 858408);
  EXPECT_EQ(row.column_text(6), sha);
  EXPECT_TRUE(row.column_is_null(7));  // no sensor: null, with the agent's reason
  EXPECT_THAT(row.column_text(8), HasSubstr("no INA3221"));
  EXPECT_FALSE(row.step());

  // A K the job did not ask for, variants that are not the job's, the same
  // point twice: refused, nothing stored.
  const auto refused = [&](json bad, const std::string& message) {
    try {
      submit("latency", bad, spec);
      ADD_FAILURE() << "accepted: " << message;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(message));
    }
  };
  json other_k = body;
  other_k["points"][1]["clusters"] = 16;
  refused(other_k, "points[1].clusters: 16 is not one of the job's paired K");
  json other_kernel = body;
  other_kernel["variants"][1]["weight_kernel"] = "dense";
  refused(other_kernel, "variants[1].weight_kernel");
  json missing_variant = body;
  missing_variant["variants"].erase(1);
  refused(missing_variant, "variants: expected the weights as given and K = 64");
  json twice = body;
  twice["points"][1].erase("clusters");
  refused(twice, "the same point appears twice");
  json bad_sha = body;
  bad_sha["variants"][1]["clustered_weights_sha256"] = "abc";
  refused(bad_sha, "variants[1].clustered_weights_sha256: not a SHA-256");
  EXPECT_EQ(count("SELECT count(*) FROM method_latency"), 2);
}

TEST_F(ResultsTest, PowerFiguresAreStoredWhenASensorGaveThem) {
  json body = profile_body();
  body["power"] = json::parse(
      R"({"available": true, "sensor": "ina3221:VDD_IN", "period_ms": 10, "idle_w": 4.5})");
  body["points"][0]["power"] = json::parse(
      R"({"average_w": 9.5, "peak_w": 12.25, "joules_per_forward": 0.2, "joules_per_image": 0.2,
          "readings": 30})");
  ASSERT_EQ(submit("profile", body), SubmitOutcome::accepted);
  auto power = store().database().prepare(
      "SELECT tokens, average_w, peak_w, joules_per_inference, idle_w, power_null_reason "
      "FROM curve ORDER BY tokens DESC");
  ASSERT_TRUE(power.step());
  EXPECT_EQ(power.column_int64(0), 197);
  EXPECT_DOUBLE_EQ(power.column_double(1), 9.5);
  EXPECT_DOUBLE_EQ(power.column_double(2), 12.25);
  EXPECT_DOUBLE_EQ(power.column_double(3), 0.2);
  EXPECT_DOUBLE_EQ(power.column_double(4), 4.5);
  EXPECT_TRUE(power.column_is_null(5));
  ASSERT_TRUE(power.step());  // the other point had no reading
  EXPECT_TRUE(power.column_is_null(1));
  EXPECT_THAT(power.column_text(5), HasSubstr("no reading"));
}

TEST_F(ResultsTest, AnEvalBecomesAnEvaluationInTheAccuracyTable) {
  ASSERT_EQ(submit("eval", eval_body()), SubmitOutcome::accepted);
  auto row = store().database().prepare(
      "SELECT model, method, dataset, top1, top5, images, device, latency_median_ms, batch "
      "FROM accuracy_table");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_text(1), "pomt:58");
  EXPECT_DOUBLE_EQ(row.column_double(3), 0.81);
  EXPECT_EQ(row.column_int64(5), 1000);
  EXPECT_EQ(row.column_text(6), "cpu-1");
  EXPECT_DOUBLE_EQ(row.column_double(7), 4.25);
  EXPECT_EQ(row.column_int64(8), 8);
}

TEST_F(ResultsTest, AnEvalWithoutLatencyKeepsItNull) {
  json body = eval_body();
  body["latency"] = nullptr;
  body["weights_sha256"] = nullptr;
  ASSERT_EQ(submit("eval", body), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM evaluations WHERE latency_median_ms IS NULL "
                  "AND weights_sha256 IS NULL"),
            1);
}

TEST_F(ResultsTest, AClusteredEvalKeepsItsClustersCodebooksAndBytes) {
  const std::string sha(64, 'c');
  json spec = job_spec("eval");
  spec["clusters"] = 64;
  json body = eval_body();
  body["clusters"] = 64;
  body["clustered_weights_sha256"] = sha;
  body["dense_tensor_bytes"] = 858408;
  body["clustered_tensor_bytes"] = 272552;
  ASSERT_EQ(submit("eval", body, spec), SubmitOutcome::accepted);
  auto row = store().database().prepare(
      "SELECT clusters, clustered_weights_sha256, dense_tensor_bytes, clustered_tensor_bytes "
      "FROM evaluations");
  ASSERT_TRUE(row.step());
  EXPECT_EQ(row.column_int64(0), 64);
  EXPECT_EQ(row.column_text(1), sha);
  EXPECT_EQ(row.column_int64(2), 858408);
  EXPECT_EQ(row.column_int64(3), 272552);
  EXPECT_EQ(count("SELECT clusters FROM clustering_view"), 64);
  EXPECT_EQ(count("SELECT count(*) FROM accuracy_table"), 0);  // the weights as given only

  // The clustering must be the job's: none asked, a different K; and the
  // body must be whole.
  json other = spec;
  other["clusters"] = 16;
  json bad_hash = body;
  bad_hash["clustered_weights_sha256"] = "abc";
  json missing = body;
  missing.erase("clustered_tensor_bytes");
  const std::vector<std::tuple<json, json, std::string>> refused = {
      {body, job_spec("eval"), "clusters: 64 is not the job's 0"},
      {body, other, "clusters: 64 is not the job's 16"},
      {bad_hash, spec, "clustered_weights_sha256: not a SHA-256"},
      {missing, spec, "clustered_tensor_bytes"},
  };
  for (const auto& [refused_body, refused_spec, message] : refused) {
    try {
      submit("eval", refused_body, refused_spec);
      ADD_FAILURE() << "accepted: " << message;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(message));
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM evaluations"), 1);
}

TEST_F(ResultsTest, AnAccuracyCurveBecomesAccuracyPoints) {
  ASSERT_EQ(submit("accuracy_curve", accuracy_curve_body()), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM accuracy_points WHERE model = 'deit-tiny' "
                  "AND method = 'random' AND split = 'test'"),
            2);
  EXPECT_EQ(count("SELECT tokens FROM accuracy_points WHERE top1 = 0.6"), 50);
  EXPECT_EQ(count("SELECT count(*) FROM evaluations"), 0);
}

struct MalformedCase {
  std::string kind;
  std::function<void(json&)> damage;
  std::string message;
};

TEST_F(ResultsTest, MalformedBodiesAreRefusedAndNothingIsStored) {
  const std::vector<MalformedCase> cases = {
      {"profile", [](json& b) { b["points"][1].erase("median_ms"); },
       "points[1].median_ms: missing"},
      {"profile", [](json& b) { b["points"][0]["samples"] = "15"; }, "points[0].samples"},
      {"profile", [](json& b) { b["points"][0]["raw_ms"][1] = "..."; }, "raw_ms[1]"},
      {"profile", [](json& b) { b["points"] = json::array(); }, "points"},
      {"profile", [](json& b) { b["model"].erase("name"); }, "model.name: missing"},
      {"profile", [](json& b) { b["mode"] = "layer"; }, "mode"},
      {"profile", [](json& b) { b["power"].erase("reason"); }, "power.reason"},
      {"eval", [](json& b) { b.erase("top1"); }, "top1: missing"},
      {"eval", [](json& b) { b["top5"] = 99.0; }, "top5"},
      {"eval", [](json& b) { b["batch"] = 0; }, "batch"},
      {"eval", [](json& b) { b.erase("latency"); }, "latency: missing"},
      {"accuracy_curve", [](json& b) { b["points"][1].erase("tokens"); }, "points[1].tokens"},
      {"accuracy_curve", [](json& b) { b.erase("points"); }, "points: missing"},
  };
  for (const MalformedCase& test : cases) {
    json body = test.kind == "profile" ? profile_body()
                : test.kind == "eval"  ? eval_body()
                                       : accuracy_curve_body();
    test.damage(body);
    try {
      submit(test.kind, body);
      ADD_FAILURE() << "accepted a body lacking " << test.message;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(test.message));
    }
    EXPECT_EQ(job_state(lease_.job_id), "leased");  // still the agent's to finish
  }
  for (const char* table : {"results", "curve_points", "power", "evaluations", "accuracy_points"}) {
    EXPECT_EQ(count(std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
  EXPECT_THROW(
      store().submit_result(lease_.job_id, lease_.lease_id, agent_.agent_id, "{not json", 12),
      InputError);
}

// What a probe stored before results were checked against their job: each
// is refused with invalid data named, and nothing is stored.
TEST_F(ResultsTest, AResultMustAnswerItsJob) {
  const std::vector<MalformedCase> cases = {
      {"profile", [](json& b) { b["model"]["name"] = "deit-base"; },
       "model.name: 'deit-base' is not the job's 'deit-tiny'"},
      {"profile", [](json& b) { b["points"][1]["tokens"] = 999999; },
       "points[1].tokens: 999999 is not in the job's token grid 100,197"},
      {"profile", [](json& b) { b["points"][1]["median_ms"] = -5; }, "points[1].median_ms: -5 ms"},
      {"profile", [](json& b) { b["points"][1]["p95_ms"] = 1e308; }, "points[1].p95_ms: 1e+308 ms"},
      {"profile", [](json& b) { b["points"][1]["raw_ms"][2] = 0; }, "points[1].raw_ms[2]: 0 ms"},
      {"profile", [](json& b) { b["points"][1]["batch"] = 777; },
       "points[1].batch: 777 is not one of the job's batches (1)"},
      {"profile", [](json& b) { b["points"][1] = b["points"][0]; },
       "points[1]: the same point appears twice"},
      {"profile", [](json& b) { b["points"][1]["samples"] = 40; },
       "40 samples, but raw_ms holds 4"},
      {"profile", [](json& b) { b["points"][1]["p25_ms"] = 12.0; }, "percentiles are not in order"},
      {"profile", [](json& b) { b["mode"] = "block"; }, "mode: 'block' is not the job's 'model'"},
      {"profile", [](json& b) { b["device"]["simulated"] = true; },
       "device.simulated: the result says true, but the device that sent it is real"},
      {"profile", [](json& b) { b["device"].erase("simulated"); }, "device.simulated"},
      {"latency",
       [](json& b) {
         b["points"][0]["method"] = "none";
         b["points"][1]["method"] = "topk:8";
         b["points"][1]["tokens"] = 197;
       },
       "points[1].method: 'topk:8' is not one of the job's methods (none, pomt:95)"},
      {"latency",
       [](json& b) {
         b["points"][0]["method"] = "none";
         b["points"][1]["method"] = "pomt:95";
       },
       "points[1].tokens: 100 is not the model's full input of 197 tokens"},
      {"eval", [](json& b) { b["batch"] = 100; }, "batch: 100 is not the job's batch 8"},
      {"eval", [](json& b) { b["method"] = "topk:8"; },
       "method: 'topk:8' is not the job's 'pomt:58'"},
      {"eval", [](json& b) { b["images"] = 5000; }, "images: 5000 is more than the job's limit"},
      {"eval", [](json& b) { b["latency"]["median_ms"] = 0; }, "latency.median_ms: 0 ms"},
      {"accuracy_curve", [](json& b) { b["points"][1]["tokens"] = 51; },
       "points[1].tokens: 51 is not in the job's token grid"},
      {"accuracy_curve", [](json& b) { b["points"][1]["tokens"] = 197; }, "appears twice"},
      // Whole, or not at all: a stopped measurement, or one short of a point.
      {"profile", [](json& b) { b["interrupted"] = true; },
       "interrupted: the measurement stopped early; the job must be measured again"},
      {"profile", [](json& b) { b["points"].erase(1); }, "points: 1 points for the job's 2"},
      {"latency",
       [](json& b) {
         b["points"][0]["method"] = "none";
         b["points"].erase(1);
       },
       "points: 1 points for the job's 2"},
  };
  for (const MalformedCase& test : cases) {
    json body = test.kind == "eval"             ? eval_body()
                : test.kind == "accuracy_curve" ? accuracy_curve_body()
                                                : profile_body();
    test.damage(body);
    try {
      submit(test.kind, body);
      ADD_FAILURE() << "accepted: " << test.message;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(test.message));
    }
    EXPECT_EQ(job_state(lease_.job_id), "leased");
  }
  for (const char* table :
       {"results", "curve_points", "method_latency", "evaluations", "accuracy_points"}) {
    EXPECT_EQ(count(std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
}

// A simulated agent's result must say so, and is then stored as simulated.
TEST_F(ResultsTest, ASimulatedDevicesResultMustSayItIsSimulated) {
  try {
    submit("profile", profile_body(), std::nullopt, /*simulated=*/true);
    ADD_FAILURE() << "a simulated device's curve was stored as real";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("says false, but the device that sent it is simulated"));
  }
  json body = profile_body();
  body["device"]["simulated"] = true;
  EXPECT_EQ(submit("profile", body, std::nullopt, /*simulated=*/true), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM curve WHERE simulated = 1"), 2);
}

TEST_F(ResultsTest, AScheduleJobRunByTheCoordinatorStoresASchedule) {
  const auto agent = register_agent("orin");
  PlannedJob schedule;
  schedule.kind = "schedule";
  schedule.runner = "coordinator";
  schedule.device_id = agent.device_id;
  PlannedJob follow_up;
  follow_up.kind = "eval";
  follow_up.device_id = agent.device_id;
  follow_up.depends_on = {0};
  const int64_t sweep = store().create_sweep("s", "{}", {schedule, follow_up}, 1);
  const auto ready = store().ready_coordinator_jobs();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].kind, "schedule");
  EXPECT_FALSE(store().lease_job(agent.agent_id, 2, kResultsTtlS));  // never leased to an agent

  json body = {{"device_id", agent.device_id},
               {"model", "deit-tiny"},
               {"batch", 1},
               {"method", "pomt"},
               {"alpha", 0.5},
               {"tokens_total", 197},
               {"n_star", 137},
               {"r", 58},
               {"layer", 3},
               {"latency_at_n_star_ms", 15.5},
               {"baseline_latency_ms", 22.0},
               {"source_job_ids", {1}},
               {"validity",
                {{"points", 40},
                 {"below_precision", 3},
                 {"unstable", 1},
                 {"n_star_reached_precision", false}}}};
  json bad = body;
  bad.erase("n_star");
  EXPECT_THROW(store().complete_coordinator_job(ready[0].id, bad.dump(), 3), InputError);
  json miscounted = body;
  miscounted["validity"]["below_precision"] = 41;
  EXPECT_THROW(store().complete_coordinator_job(ready[0].id, miscounted.dump(), 3), InputError);
  store().complete_coordinator_job(ready[0].id, body.dump(), 3);
  EXPECT_TRUE(store().ready_coordinator_jobs().empty());
  EXPECT_EQ(job_state(2), "queued");
  auto view = store().database().prepare(
      "SELECT device, n_star, r, latency_ratio, sweep_id, method FROM schedule_view");
  ASSERT_TRUE(view.step());
  EXPECT_EQ(view.column_text(0), "orin");
  EXPECT_EQ(view.column_int64(1), 137);
  EXPECT_EQ(view.column_int64(2), 58);
  EXPECT_NEAR(view.column_double(3), 15.5 / 22.0, 1e-12);
  EXPECT_EQ(view.column_int64(4), sweep);
  EXPECT_EQ(view.column_text(5), "pomt:58");  // as the other views name the method
  EXPECT_EQ(count("SELECT count(*) FROM schedules WHERE curve_points = 40 AND "
                  "curve_points_below_precision = 3 AND curve_points_unstable = 1 AND "
                  "n_star_reached_precision = 0"),
            1);
  EXPECT_THROW(store().complete_coordinator_job(ready[0].id, body.dump(), 4), InputError);
}

// The same body as a schema-2 agent writes it after measuring in rounds:
// the 100-token point paired with the 197-token one (the sentinel).
json rounds_profile_body() {
  json body = profile_body();
  body["schema_version"] = 2;
  body["rounds"] = json::parse(R"({"count": 3, "sentinel": {"batch": 1, "tokens": 197},
    "drift": 1.05, "drift_exceeds_precision": true, "max_load_average": 2.5,
    "load_above_threads": false,
    "rounds": [
      {"round": 0, "points_visited": 2, "sentinel_median_ms": 22.205, "load_average": 2.5, "steal_fraction": 0.01},
      {"round": 1, "points_visited": 2, "sentinel_median_ms": 21.781, "load_average": 2.0, "steal_fraction": null},
      {"round": 2, "points_visited": 2, "sentinel_median_ms": 21.976, "load_average": null, "steal_fraction": 0}]})");
  json& reference = body["points"][0];
  reference["rounds"] = 3;
  reference["ratio"] = nullptr;
  reference["precision_of"] = "median";
  reference["load_average"] = 2.1;
  reference["steal_fraction"] = 0.004;
  reference["raw_round"] = {0, 1, 2};
  json& paired = body["points"][1];
  paired["rounds"] = 3;
  paired["ratio"] = json::parse(R"({"to": {"batch": 1, "tokens": 197}, "median": 0.523,
                                    "ci95_low": null, "ci95_high": null, "rounds": 3})");
  paired["precision_of"] = "ratio";
  paired["load_average"] = nullptr;
  paired["steal_fraction"] = nullptr;
  paired["raw_round"] = {0, 0, 1, 2};
  return body;
}

TEST_F(ResultsTest, ARoundsProfileKeepsItsRatiosRoundsAndLoad) {
  ASSERT_EQ(submit("profile", rounds_profile_body()), SubmitOutcome::accepted);
  auto point = store().database().prepare(
      "SELECT tokens, rounds, ratio, ratio_to_tokens, load_average, steal_fraction FROM curve "
      "ORDER BY tokens");
  ASSERT_TRUE(point.step());
  EXPECT_EQ(point.column_int64(0), 100);
  EXPECT_EQ(point.column_int64(1), 3);
  EXPECT_DOUBLE_EQ(point.column_double(2), 0.523);
  EXPECT_EQ(point.column_int64(3), 197);
  EXPECT_TRUE(point.column_is_null(4));
  ASSERT_TRUE(point.step());
  EXPECT_TRUE(point.column_is_null(2));  // the reference has no ratio
  EXPECT_DOUBLE_EQ(point.column_double(4), 2.1);
  EXPECT_DOUBLE_EQ(point.column_double(5), 0.004);
  // Every raw sample keeps its round.
  EXPECT_EQ(count("SELECT count(*) FROM curve_points c, json_each(c.raw_round) r "
                  "WHERE c.tokens = 100 AND r.value = 0"),
            2);
  auto run = store().database().prepare(
      "SELECT schema_version, rounds, drift, drift_exceeds_precision, sentinel_tokens, protocol "
      "FROM measurement_view");
  ASSERT_TRUE(run.step());
  EXPECT_EQ(run.column_int64(0), 2);
  EXPECT_EQ(run.column_int64(1), 3);
  EXPECT_DOUBLE_EQ(run.column_double(2), 1.05);
  EXPECT_EQ(run.column_int64(3), 1);
  EXPECT_EQ(count("SELECT count(*) FROM measurement_rounds WHERE sentinel_median_ms > 0"), 3);
}

TEST_F(ResultsTest, AVersionOneProfileLeavesTheRoundsColumnsNull) {
  ASSERT_EQ(submit("profile", profile_body()), SubmitOutcome::accepted);
  EXPECT_EQ(count("SELECT count(*) FROM curve_points WHERE rounds IS NULL AND raw_round IS NULL"),
            2);
  EXPECT_EQ(count("SELECT count(*) FROM measurement_runs WHERE schema_version = 1 AND "
                  "rounds IS NULL"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM measurement_rounds"), 0);
}

TEST_F(ResultsTest, AMalformedRoundsProfileIsRefused) {
  const std::vector<MalformedCase> cases = {
      {"profile",
       [](json& b) {
         b["points"][1]["raw_round"] = {0, 1};
       },
       "points[1].raw_round: has 2 entries for 4 samples"},
      {"profile",
       [](json& b) {
         b["points"][1]["raw_round"] = {0, 2, 1, 2};
       },
       "raw_round[2]"},
      {"profile", [](json& b) { b["points"][1].erase("rounds"); }, "points[1].rounds: missing"},
      {"profile", [](json& b) { b["points"][1]["ratio"]["to"]["tokens"] = 150; },
       "points[1].ratio.to: names no point"},
      {"profile", [](json& b) { b["points"][1]["ratio"]["median"] = -1; }, "ratio.median"},
      {"profile",
       [](json& b) {
         b["points"][1]["ratio"]["ci95_low"] = 0.6;
         b["points"][1]["ratio"]["ci95_high"] = 0.7;
       },
       "the interval must hold the median"},
      {"profile", [](json& b) { b["rounds"]["count"] = 4; }, "rounds.rounds: has 3 records"},
      {"profile", [](json& b) { b["rounds"]["drift"] = 0.5; }, "rounds.drift"},
      {"profile", [](json& b) { b["schema_version"] = 4; }, "schema_version: 4 is newer"},
  };
  for (const MalformedCase& test : cases) {
    json body = rounds_profile_body();
    test.damage(body);
    try {
      submit(test.kind, body);
      ADD_FAILURE() << "accepted a body with " << test.message;
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(test.message));
    }
  }
  for (const char* table : {"results", "curve_points", "measurement_runs", "measurement_rounds"}) {
    EXPECT_EQ(count(std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
}

TEST(ResultBodies, ParsesTheProfileExampleFromTheDocs) {
  const ProfileBody body = parse_profile_body(profile_body());
  EXPECT_EQ(body.model, "deit-tiny");
  EXPECT_FALSE(body.power.available);
  ASSERT_EQ(body.points.size(), 2u);
  EXPECT_EQ(body.points[0].raw_ms, (std::vector<double>{22.205, 21.781, 21.976}));
  EXPECT_EQ(body.provenance.device_simulated, false);
  EXPECT_FALSE(body.points[0].power);
  EXPECT_EQ(body.provenance.git_sha, "deadbeef");
}

}  // namespace
}  // namespace tailsweep::store
