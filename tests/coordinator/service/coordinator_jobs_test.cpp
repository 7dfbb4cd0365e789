// The coordinator's own jobs on a real database: a sweep planned over a CPU
// agent and a simulated Nano, agent results posted through the store, then
// the schedule jobs (POMT's R, the latency job, the match job) and the match
// jobs (the Top-K and ToMe r closest to POMT's latency, their evals queued).
#include "coordinator/service/coordinator_jobs.h"

#include <functional>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../store/store_fixture.h"
#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "coordinator/service/sweep_plan.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr double kTtlS = 60;

json timing_point(int64_t tokens, double median_ms, const std::string& method = "") {
  json point = {{"batch", 1},
                {"tokens", tokens},
                {"median_ms", median_ms},
                {"mean_ms", median_ms},
                {"stddev_ms", 0.1},
                {"p5_ms", median_ms},
                {"p25_ms", median_ms},
                {"p75_ms", median_ms},
                {"p95_ms", median_ms},
                {"mad_ms", 0.05},
                {"samples", 20},
                {"stable", true},
                {"reached_precision", true},
                {"power", nullptr},
                {"raw_ms", std::vector<double>(20, median_ms)}};
  if (!method.empty()) point["method"] = method;
  return point;
}

json timing_body(json points, bool simulated) {
  return {{"model", {{"name", "fmnist-vit"}}},
          {"mode", "model"},
          {"power", {{"available", false}, {"reason", "test"}}},
          {"device", {{"simulated", simulated}}},
          {"points", std::move(points)}};
}

class CoordinatorJobsTest : public store::StoreTest {
 protected:
  CoordinatorJobsTest() {
    cpu_ = register_agent("cpu-a");
    nano_ = register_agent("nano", true);
    const SweepSpec spec = parse_sweep_spec(json::parse(R"({
      "name": "matched",
      "max_attempts": 5,
      "workloads": [{
        "model": "fmnist-vit",
        "curves": {"batches": [1], "tokens": "2,50,100,150,197"},
        "accuracy": {"tokens": "2,50,100,150,197", "limit": 100},
        "schedule": {"alpha": 0.5, "layer": 3},
        "evaluations": {"methods": ["topk:8"], "limit": 100}
      }]})"));
    std::vector<FleetDevice> fleet = {{cpu_.device_id, "cpu-a", "cpu", false, {}},
                                      {nano_.device_id, "nano", "sim", true, {}}};
    sweep_ = store().create_sweep("matched", "{}", plan_sweep(spec, fleet), 100);
  }

  // Leases the agent's next job and answers it with make_body(kind, spec).
  std::string answer_next(const store::RegisteredAgent& agent,
                          const std::function<json(const std::string&, const json&)>& make_body) {
    const auto lease = store().lease_job(agent.agent_id, 110, kTtlS);
    if (!lease) return "";
    store().submit_result(lease->job_id, lease->lease_id, agent.agent_id,
                          make_body(lease->kind, json::parse(lease->spec_json)).dump(), 111);
    return lease->kind;
  }

  void run_ready_coordinator_jobs() {
    for (const store::JobRow& job : store().ready_coordinator_jobs()) {
      run_coordinator_job(store(), job, 120);
    }
  }

  store::RegisteredAgent cpu_, nano_;
  int64_t sweep_ = 0;
};

// What an agent says HDP pruned (docs/hdp.md): in each of 6 blocks, 2 of 10
// heads, half the blocks, 60% of the attention work.
json hdp_counts() {
  const auto counts = [](int64_t times) {
    return json{{"heads", 10 * times},
                {"heads_pruned", 2 * times},
                {"heads_pruned_share", 0.2},
                {"blocks", 100 * times},
                {"blocks_pruned", 50 * times},
                {"blocks_pruned_share", 0.5},
                {"attention_macs", 1000 * times},
                {"attention_macs_skipped", 600 * times},
                {"attention_macs_skipped_share", 0.6},
                {"frac_macs_dropped", 0},
                {"int_macs", 500 * times}};
  };
  json total = counts(6);
  total["per_block"] = json::array();
  for (int block = 0; block < 6; ++block) total["per_block"].push_back(counts(1));
  return total;
}

bool has_hdp(const std::string& method) { return method.find("hdp:") != std::string::npos; }

// The Nano's curve has a cliff between 100 and 150 tokens; A(n) rises and
// saturates. Latency of a method on the Nano: none 27 ms, POMT 14 ms, Top-K
// 27 - 0.5 r, ToMe 27 - 0.4 r.
json agent_answer(const std::string& kind, const json& spec, bool nano) {
  if (kind == "profile") {
    const std::vector<double> ms =
        nano ? std::vector<double>{10, 12, 14, 25, 27} : std::vector<double>{5, 10, 15, 20, 25};
    const std::vector<int64_t> tokens = {2, 50, 100, 150, 197};
    json points = json::array();
    for (std::size_t i = 0; i < tokens.size(); ++i)
      points.push_back(timing_point(tokens[i], ms[i]));
    // The Nano's point past its cliff stopped short of its precision.
    if (nano) points[3]["reached_precision"] = false;
    return timing_body(points, nano);
  }
  if (kind == "latency") {
    json points = json::array();
    for (const std::string method : spec.at("methods")) {
      const auto r = [&] { return std::stod(method.substr(method.find(':') + 1)); };
      double ms = 27;
      if (method.starts_with("pomt:")) ms = 14;
      if (method.starts_with("topk:")) ms = 27 - 0.5 * r();
      if (method.starts_with("tome:")) ms = 27 - 0.4 * r();
      points.push_back(timing_point(197, nano ? ms : 2 * ms, method));
      if (has_hdp(method)) points.back()["hdp"] = hdp_counts();
    }
    return timing_body(points, nano);
  }
  json body = {{"model", "fmnist-vit"},
               {"weights_sha256", nullptr},
               {"dataset", "fashion-mnist"},
               {"split", "test"},
               {"method", spec.at("method")},
               {"batch", 64},
               {"images", 100},
               {"top1", 0.8},
               {"top5", 0.99},
               {"latency", nullptr},
               {"device", {{"simulated", false}}}};
  if (has_hdp(spec.at("method"))) body["hdp"] = hdp_counts();
  if (kind == "accuracy_curve") {
    body["method"] = "random";
    body["points"] = json::array();
    const std::vector<std::pair<int, double>> curve = {
        {2, 0.1}, {50, 0.6}, {100, 0.8}, {150, 0.85}, {197, 0.86}};
    for (const auto& [tokens, top1] : curve) {
      body["points"].push_back(
          {{"tokens", tokens}, {"top1", top1}, {"top5", 1.0}, {"images", 100}});
    }
  }
  return body;
}

std::vector<std::string> queued_eval_methods(store::Database& db, int64_t sweep) {
  std::vector<std::string> methods;
  auto statement = db.prepare(
      "SELECT json_extract(spec, '$.method') FROM jobs WHERE sweep_id = ?1 AND kind = 'eval' "
      "ORDER BY id");
  statement.bind(1, sweep);
  while (statement.step()) methods.push_back(statement.column_text(0));
  return methods;
}

TEST_F(CoordinatorJobsTest, ScheduleThenLatencyThenMatchQueuesTheMatchedEvaluations) {
  const auto cpu_answer = [](const std::string& kind, const json& spec) {
    return agent_answer(kind, spec, false);
  };
  const auto nano_answer = [](const std::string& kind, const json& spec) {
    return agent_answer(kind, spec, true);
  };
  EXPECT_EQ(answer_next(nano_, nano_answer), "profile");
  while (!answer_next(cpu_, cpu_answer).empty()) {
  }                              // its profile, the accuracy curve, the evals of none and topk:8
  run_ready_coordinator_jobs();  // both schedules

  // The Nano's schedule: U peaks at n* = 100 (just under its cliff), so R = 196 - 101 = 95,
  // which leaves 102 tokens: past the 100 -> 150 step. Its step-aligned variant lands on
  // 100 (R = 97). Each device has both rows; the CPU's curve has no step, so its two agree.
  EXPECT_EQ(count("SELECT count(*) FROM schedules"), 4);
  auto statement = store().database().prepare(
      "SELECT variant, n_star, r, tokens_after_pruning, step_below, step_above FROM schedules "
      "WHERE device_id = ?1 ORDER BY id");
  statement.bind(1, nano_.device_id);
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_text(0), "reference");
  EXPECT_EQ(statement.column_int64(1), 100);
  EXPECT_EQ(statement.column_int64(2), 95);
  EXPECT_EQ(statement.column_int64(3), 102);
  ASSERT_TRUE(statement.step());
  EXPECT_EQ(statement.column_text(0), "aligned");
  EXPECT_EQ(statement.column_int64(1), 100);
  EXPECT_EQ(statement.column_int64(2), 97);
  EXPECT_EQ(statement.column_int64(3), 100);
  EXPECT_EQ(statement.column_int64(4), 100);
  EXPECT_EQ(statement.column_int64(5), 150);
  EXPECT_EQ(count("SELECT count(*) FROM schedules WHERE variant = 'aligned' AND "
                  "step_below IS NULL"),
            1);  // the CPU's
  EXPECT_THAT(queued_eval_methods(store().database(), sweep_), Contains("pomt:95"));
  EXPECT_THAT(queued_eval_methods(store().database(), sweep_), Contains("pomt:97"));
  // Every point is used; the schedule says which stopped short (docs/sweeps.md).
  EXPECT_EQ(count("SELECT count(*) FROM schedules WHERE curve_points = 5 AND "
                  "curve_points_below_precision = (device_id = " +
                  std::to_string(nano_.device_id) +
                  ") AND curve_points_unstable = 0 AND n_star_reached_precision = 1"),
            4);

  // Each device got one latency job: the baseline, topk:8, POMT at its R (both variants,
  // on the Nano) and every candidate (r = 1..32 for fmnist-vit's 6 blocks), with a match
  // job after it.
  EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE kind = 'latency'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE kind = 'match' AND state = 'waiting'"), 2);
  auto latency_spec =
      store().database().prepare("SELECT spec FROM jobs WHERE kind = 'latency' AND device_id = ?1");
  latency_spec.bind(1, nano_.device_id);
  ASSERT_TRUE(latency_spec.step());
  const json methods = json::parse(latency_spec.column_text(0)).at("methods");
  EXPECT_EQ(methods.size(), 1u + 1u + 31u + 32u + 2u);
  EXPECT_EQ(methods.front(), "none");
  EXPECT_EQ(methods[methods.size() - 2], "pomt:95");
  EXPECT_EQ(methods.back(), "pomt:97");

  EXPECT_EQ(answer_next(nano_, nano_answer), "latency");
  EXPECT_EQ(answer_next(cpu_, cpu_answer), "latency");
  run_ready_coordinator_jobs();  // both matches

  // POMT at 14 ms on the Nano: Top-K r = 26 gives exactly 14; ToMe's best is
  // r = 32 at 14.2 ms (+1.4%, within 5%). The CPU, twice as slow everywhere,
  // picks the same, so the evals are queued once.
  auto matched = store().database().prepare(
      "SELECT family, method, latency_ms, within_tolerance FROM matched_baselines "
      "WHERE device_id = ?1 ORDER BY family");
  matched.bind(1, nano_.device_id);
  ASSERT_TRUE(matched.step());
  EXPECT_EQ(matched.column_text(0), "tome");
  EXPECT_EQ(matched.column_text(1), "tome:32");
  EXPECT_NEAR(matched.column_double(2), 14.2, 1e-9);
  EXPECT_EQ(matched.column_int64(3), 1);
  ASSERT_TRUE(matched.step());
  EXPECT_EQ(matched.column_text(1), "topk:26");
  const auto evals = queued_eval_methods(store().database(), sweep_);
  EXPECT_EQ(std::count(evals.begin(), evals.end(), "topk:26"), 1);
  EXPECT_EQ(std::count(evals.begin(), evals.end(), "tome:32"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM method_latency"), 67 + 66);
  EXPECT_EQ(count("SELECT count(*) FROM matched_baselines WHERE target_reached_precision = 1 "
                  "AND reached_precision = 1"),
            4);
  // The jobs queued along the way (evaluations, latencies, matches) keep the
  // sweep's retry limit.
  EXPECT_GT(count("SELECT count(*) FROM jobs"), 13);
  EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE max_attempts <> 5"), 0);
}

// With "hdp", each schedule also queues every setting composed with POMT at
// its R; the real CPU times them in its latency job, the simulated Nano
// (whose GPU model refuses HDP) does not. What HDP pruned lands in columns.
TEST_F(CoordinatorJobsTest, HdpSettingsComposeWithEachSchedulesPomt) {
  store().cancel_sweep(sweep_, 100);  // the fixture's sweep, out of the way
  const SweepSpec spec = parse_sweep_spec(json::parse(R"({
    "name": "hdp",
    "workloads": [{
      "model": "fmnist-vit",
      "curves": {"batches": [1], "tokens": "2,50,100,150,197"},
      "accuracy": {"tokens": "2,50,100,150,197", "limit": 100},
      "schedule": {"alpha": 0.5, "layer": 3, "variants": ["reference"]},
      "evaluations": {"limit": 100, "matched": false},
      "hdp": {"settings": ["heads=0.1"]}
    }]})"));
  const std::vector<FleetDevice> fleet = {{cpu_.device_id, "cpu-a", "cpu", false, {}},
                                          {nano_.device_id, "nano", "sim", true, {}}};
  const int64_t sweep = store().create_sweep("hdp", "{}", plan_sweep(spec, fleet), 100);
  const auto cpu_answer = [](const std::string& kind, const json& job) {
    return agent_answer(kind, job, false);
  };
  EXPECT_EQ(answer_next(nano_, [](const std::string& kind,
                                  const json& job) { return agent_answer(kind, job, true); }),
            "profile");
  while (!answer_next(cpu_, cpu_answer).empty()) {
  }  // profile, accuracy curve, HDP's latency job, the evals of none and the setting
  run_ready_coordinator_jobs();

  const std::string setting = "hdp:heads=0.1,blocks=1,approx=0,frac=8";
  const std::string nano_composed = "pomt:95+" + setting;
  EXPECT_THAT(queued_eval_methods(store().database(), sweep), Contains(nano_composed));
  // The Nano's schedule latency job times no HDP: its model takes the shares
  // that the evaluations measure, through two hdp_latency jobs (the setting
  // alone, run already, and composed with its R, once that eval is done).
  auto latency_spec = store().database().prepare(
      "SELECT spec FROM jobs WHERE kind = 'latency' AND device_id = ?1 AND sweep_id = ?2 "
      "AND spec NOT LIKE '%hdp_shares%'");
  latency_spec.bind(1, nano_.device_id).bind(2, sweep);
  ASSERT_TRUE(latency_spec.step());
  for (const std::string method : json::parse(latency_spec.column_text(0)).at("methods")) {
    EXPECT_FALSE(has_hdp(method)) << method;
  }
  EXPECT_FALSE(latency_spec.step());
  EXPECT_EQ(count("SELECT count(*) FROM jobs WHERE kind = 'hdp_latency'"), 2);
  while (!answer_next(cpu_, cpu_answer).empty()) {
  }  // the CPU's schedule latency job and the composed evals
  run_ready_coordinator_jobs();  // the composed one's hdp_latency job
  auto modelled = store().database().prepare(
      "SELECT spec FROM jobs WHERE kind = 'latency' AND device_id = ?1 AND sweep_id = ?2 "
      "AND spec LIKE '%hdp_shares%' ORDER BY id");
  modelled.bind(1, nano_.device_id).bind(2, sweep);
  std::vector<std::string> modelled_methods;
  while (modelled.step()) {
    const protocol::ProfileJobSpec latency =
        protocol::parse_profile_job_spec(json::parse(modelled.column_text(0)));
    ASSERT_EQ(latency.hdp_shares.size(), 1u);
    EXPECT_EQ(latency.hdp_shares[0].heads_pruned, std::vector<double>(6, 0.2));
    EXPECT_TRUE(latency.hdp_shares[0].source_job_id.has_value());
    modelled_methods.push_back(latency.methods.back());
  }
  EXPECT_EQ(modelled_methods, (std::vector<std::string>{setting, nano_composed}));
  const auto nano_answer = [](const std::string& kind, const json& job) {
    return agent_answer(kind, job, true);
  };
  while (!answer_next(nano_, nano_answer).empty()) {
  }
  // On each device: the setting and its composition with the device's R.
  EXPECT_EQ(count("SELECT count(*) FROM hdp_latency_view WHERE method LIKE 'pomt:%+hdp:%'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM hdp_latency_view WHERE method = '" + setting + "'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM hdp_latency_view WHERE simulated = 1"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM hdp_view WHERE method LIKE 'pomt:%+hdp:%' AND "
                  "heads_pruned = 12 AND attention_macs_skipped_share = 0.6 AND "
                  "baseline_top1 = 0.8"),
            count("SELECT count(DISTINCT r) FROM schedules"));  // once per R
  EXPECT_EQ(count("SELECT count(*) FROM evaluations WHERE hdp_heads IS NOT NULL AND "
                  "method NOT LIKE '%hdp:%'"),
            0);
}

TEST_F(CoordinatorJobsTest, AMatchWithoutPomtsLatencyFailsWithAReason) {
  store::PlannedJob latency;
  latency.kind = "latency";
  latency.device_id = nano_.device_id;
  latency.spec_json = R"({"model": "fmnist-vit", "methods": ["none", "topk:1"]})";
  MatchJobSpec spec;
  spec.device_id = nano_.device_id;
  spec.model = "fmnist-vit";
  spec.target_method = "pomt:95";
  spec.families = {"topk"};
  store::PlannedJob match;
  match.kind = "match";
  match.runner = std::string(store::kRunnerCoordinator);
  match.spec_json = to_json(spec).dump();
  match.depends_on = {0};
  store().cancel_sweep(sweep_, 100);  // the fixture's sweep, out of the way
  const int64_t sweep = store().create_sweep("broken", "{}", {latency, match}, 100);
  const auto lease = store().lease_job(nano_.agent_id, 110, kTtlS);
  ASSERT_TRUE(lease);
  ASSERT_EQ(lease->kind, "latency");
  store().submit_result(
      lease->job_id, lease->lease_id, nano_.agent_id,
      timing_body({timing_point(197, 27, "none"), timing_point(197, 26, "topk:1")}, true).dump(),
      111);
  const auto ready = store().ready_coordinator_jobs();
  const auto job = std::find_if(ready.begin(), ready.end(), [&](const store::JobRow& row) {
    return row.sweep_id == sweep && row.kind == "match";
  });
  ASSERT_NE(job, ready.end());
  try {
    run_coordinator_job(store(), *job, 120);
    ADD_FAILURE() << "matched without POMT's latency";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("did not time pomt:95"));
  }
  EXPECT_EQ(count("SELECT count(*) FROM matched_baselines"), 0);
}

TEST(MatchJobSpec, IsParsedStrictly) {
  const json good = {
      {"device_id", 1},    {"model", "fmnist-vit"}, {"batch", 1},     {"target_method", "pomt:95"},
      {"tolerance", 0.05}, {"families", {"topk"}},  {"eval", nullptr}};
  EXPECT_EQ(parse_match_job_spec(good).target_method, "pomt:95");
  EXPECT_EQ(to_json(parse_match_job_spec(good)), good);
  json unknown = good;
  unknown["extra"] = 1;
  EXPECT_THROW(parse_match_job_spec(unknown), InputError);
  json family = good;
  family["families"] = {"random"};
  EXPECT_THROW(parse_match_job_spec(family), InputError);
  json tolerance = good;
  tolerance["tolerance"] = 0;
  EXPECT_THROW(parse_match_job_spec(tolerance), InputError);
}

}  // namespace
}  // namespace tailsweep::coordinator
