// `tailsweep report` end to end on a real database: a sweep built with the
// store's own API (agents on a CPU and a simulated device, profiles, an
// accuracy curve, evaluations and a schedule), rendered into a folder.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../store/store_fixture.h"
#include "common/util/errors.h"
#include "coordinator/report/report_data.h"
#include "coordinator/report/report_output.h"

namespace tailsweep::report {
namespace {

using nlohmann::json;
using store::PlannedJob;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr double kTtlS = 30;

struct Point {
  int64_t tokens;
  double median_ms;
};

// The fields docs/profile.md requires, for a staircase of points.
json profile_body(const std::vector<Point>& points, bool simulated) {
  json body = {{"tool", "tailsweep-agent profile"},
               {"version", "0.2.0"},
               {"git_sha", "deadbeef"},
               {"model", {{"name", "deit-tiny"}, {"tokens", 197}}},
               {"mode", "model"},
               {"power", {{"available", false}, {"reason", "no sensor"}}},
               {"device", {{"kind", simulated ? "sim" : "cpu"}, {"simulated", simulated}}}};
  json array = json::array();
  for (const Point& p : points) {
    array.push_back({{"batch", 1},
                     {"tokens", p.tokens},
                     {"median_ms", p.median_ms},
                     {"median_ci95_low_ms", p.median_ms - 0.05},
                     {"median_ci95_high_ms", p.median_ms + 0.05},
                     {"p5_ms", p.median_ms},
                     {"p25_ms", p.median_ms},
                     {"p75_ms", p.median_ms},
                     {"p95_ms", p.median_ms},
                     {"mean_ms", p.median_ms},
                     {"stddev_ms", 0.01},
                     {"mad_ms", 0.01},
                     {"samples", 10},
                     {"stable", true},
                     {"reached_precision", true},
                     {"power", nullptr},
                     {"raw_ms", std::vector<double>(10, p.median_ms)}});
  }
  body["points"] = array;
  return body;
}

json eval_body(const std::string& method, double top1, double latency_ms) {
  return {{"model", "deit-tiny"},
          {"weights_sha256", nullptr},
          {"dataset", "fashion-mnist"},
          {"split", "test"},
          {"method", method},
          {"batch", 1},
          {"images", 1000},
          {"top1", top1},
          {"top5", 0.99},
          {"latency", {{"median_ms", latency_ms}}},
          {"device", {{"kind", "cpu"}, {"simulated", false}}}};
}

// A paired clustering job's result (schema 2, in rounds): none on the
// weights as given and on 64 clusters, 5% slower on the lookup kernel.
json paired_latency_body() {
  json body = profile_body({{197, 20.0}, {197, 21.0}}, false);
  body["schema_version"] = 2;
  body["variants"] = {{{"clusters", nullptr},
                       {"weight_kernel", "dense"},
                       {"clustered_weights_sha256", nullptr},
                       {"weight_bytes_per_forward", 4000000}},
                      {{"clusters", 64},
                       {"weight_kernel", "lookup"},
                       {"clustered_weights_sha256", std::string(64, 'e')},
                       {"weight_bytes_per_forward", 1100000}}};
  body["rounds"] = nullptr;
  for (json& point : body["points"]) {
    point["method"] = "none";
    point["rounds"] = 6;
    point["ratio"] = nullptr;
    point["load_average"] = nullptr;
    point["steal_fraction"] = nullptr;
    point["raw_round"] = std::vector<int>(10, 0);
  }
  body["points"][1]["clusters"] = 64;
  body["points"][1]["ratio"] = {{"to", {{"batch", 1}, {"method", "none"}}},
                                {"median", 1.05},
                                {"ci95_low", 1.03},
                                {"ci95_high", 1.08},
                                {"rounds", 6}};
  return body;
}

json accuracy_curve_body() {
  return {{"model", "deit-tiny"},
          {"weights_sha256", nullptr},
          {"dataset", "fashion-mnist"},
          {"split", "test"},
          {"method", "random"},
          {"device", {{"kind", "cpu"}, {"simulated", false}}},
          {"points", json::parse(R"([{"tokens": 100, "top1": 0.7, "top5": 0.95, "images": 1000},
                                     {"tokens": 128, "top1": 0.85, "top5": 0.98, "images": 1000},
                                     {"tokens": 137, "top1": 0.9, "top5": 0.99, "images": 1000}])")}};
}

// A staircase with one cliff: 128 -> 129 costs 11 ms.
const std::vector<Point> kSimCurve = {{120, 10.0}, {124, 10.1}, {128, 10.2},
                                      {129, 21.2}, {133, 21.3}, {137, 21.4}};
const std::vector<Point> kCpuCurve = {{120, 30.0}, {128, 32.0}, {137, 34.0}};

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ReportDatabaseTest : public store::StoreTest {
 protected:
  // Plans the sweep, lets both agents do their jobs and runs the schedule.
  int64_t run_sweep() {
    cpu_ = register_agent("cpu-1");
    sim_ = register_agent("orin-nano", /*simulated=*/true);
    auto job = [](std::string kind, std::optional<int64_t> device, std::string spec) {
      PlannedJob planned;
      planned.kind = std::move(kind);
      planned.device_id = device;
      planned.spec_json = std::move(spec);
      return planned;
    };
    PlannedJob schedule = job("schedule", sim_.device_id, "{}");
    schedule.runner = "coordinator";
    schedule.depends_on = {1, 2};
    // A profile result must hold every point of its job's grid.
    const auto curve = [](const char* tokens) {
      return json{{"model", "deit-tiny"}, {"batches", {1}}, {"tokens", tokens}}.dump();
    };
    const auto eval = [](const char* method) {
      return json{{"model", "deit-tiny"}, {"method", method}, {"batch", 1}}.dump();
    };
    // What each evaluated method scores, and its latency.
    const std::map<std::string, std::pair<double, double>> evaluated = {{"tome:8", {0.88, 30.5}},
                                                                        {"none", {0.9, 34.0}},
                                                                        {"pomt:7", {0.885, 32.0}},
                                                                        {"topk:5", {0.1, 1.0}}};
    const int64_t sweep = store().create_sweep(
        "smoke & cliffs", "{}",
        {job("profile", cpu_.device_id, curve("120,128,137")),
         job("profile", sim_.device_id, curve("120,124,128,129,133,137")),
         job("accuracy_curve", std::nullopt,
             R"({"model": "deit-tiny", "tokens": "2:197", "method": "random"})"),
         job("eval", std::nullopt, eval("tome:8")), job("eval", std::nullopt, eval("none")),
         job("eval", std::nullopt, eval("pomt:7")), schedule,
         job("eval", std::nullopt,
             R"({"model": "deit-tiny", "method": "none", "batch": 1, "clusters": 64})"),
         job("latency", cpu_.device_id,
             R"({"model": "deit-tiny", "batches": [1], "methods": ["none"],
                 "paired_clusters": [64], "weight_kernel": "lookup"})")},
        10);
    // A second sweep whose results must not appear in the first one's report.
    store().create_sweep("other", "{}", {job("eval", std::nullopt, eval("topk:5"))}, 10);
    while (auto lease = store().lease_job(cpu_.agent_id, 20, kTtlS)) {
      const json spec = json::parse(lease->spec_json);
      json body;
      if (lease->kind == "profile") body = profile_body(kCpuCurve, false);
      if (lease->kind == "accuracy_curve") body = accuracy_curve_body();
      if (lease->kind == "latency") body = paired_latency_body();
      if (lease->kind == "eval" && spec.contains("clusters")) {
        body = eval_body("none", 0.895, 35.0);
        body["clusters"] = 64;
        body["clustered_weights_sha256"] = std::string(64, 'e');
        body["dense_tensor_bytes"] = 4000000;
        body["clustered_tensor_bytes"] = 1250000;
      } else if (lease->kind == "eval") {
        const auto& [top1, ms] = evaluated.at(spec["method"]);
        body = eval_body(spec["method"], top1, ms);
      }
      EXPECT_EQ(
          store().submit_result(lease->job_id, lease->lease_id, cpu_.agent_id, body.dump(), 21),
          store::SubmitOutcome::accepted);
    }
    const auto lease = store().lease_job(sim_.agent_id, 22, kTtlS).value();
    EXPECT_EQ(store().submit_result(lease.job_id, lease.lease_id, sim_.agent_id,
                                    profile_body(kSimCurve, true).dump(), 23),
              store::SubmitOutcome::accepted);
    const auto ready = store().ready_coordinator_jobs();
    EXPECT_EQ(ready.size(), 1u);
    const json schedule_body = {{"device_id", sim_.device_id},
                                {"model", "deit-tiny"},
                                {"batch", 1},
                                {"method", "pomt"},
                                {"alpha", 0.5},
                                {"tokens_total", 137},
                                {"n_star", 128},
                                {"r", 7},
                                {"layer", 3},
                                {"latency_at_n_star_ms", 10.2},
                                {"baseline_latency_ms", 21.4},
                                {"source_job_ids", {2, 3}}};
    store().complete_coordinator_job(ready.at(0).id, schedule_body.dump(), 24);
    return sweep;
  }

  std::filesystem::path out_dir() const {
    return std::filesystem::path(path()).parent_path() / "out";
  }

  store::RegisteredAgent cpu_;
  store::RegisteredAgent sim_;
};

TEST_F(ReportDatabaseTest, ReadsTheSweepIntoTypedRows) {
  const int64_t sweep = run_sweep();
  const ReportData data = load_report_data(path(), sweep);
  EXPECT_EQ(data.provenance.sweep_name, "smoke & cliffs");
  EXPECT_EQ(data.provenance.sweep_state, "done");
  ASSERT_EQ(data.provenance.devices.size(), 2u);
  EXPECT_EQ(device_label(data.provenance.devices[1]), "orin-nano (simulated)");
  EXPECT_THAT(data.provenance.git_shas, ::testing::ElementsAre("abc123", "deadbeef"));
  ASSERT_EQ(data.latency_curves.size(), 2u);
  ASSERT_EQ(data.schedules.size(), 1u);
  const ScheduleEntry& schedule = data.schedules[0];
  EXPECT_TRUE(schedule.device.simulated);
  EXPECT_DOUBLE_EQ(*schedule.latency_at_n_star_ms, 10.2);
  EXPECT_DOUBLE_EQ(*schedule.unpruned_latency_ms, 21.4);
  ASSERT_EQ(schedule.steps.size(), 1u);
  EXPECT_EQ(schedule.steps[0].tokens_below, 128);
  EXPECT_EQ(data.evaluations.size(), 3u);  // not the other sweep's, nor the clustered one
  ASSERT_EQ(data.clustering.size(), 1u);
  EXPECT_EQ(data.clustering[0].clusters, 64);
  EXPECT_DOUBLE_EQ(data.clustering[0].top1, 0.895);
  EXPECT_DOUBLE_EQ(data.clustering[0].dense_top1.value(), 0.9);
  EXPECT_EQ(data.clustering[0].clustered_tensor_bytes, 1250000);
  ASSERT_EQ(data.clustering_latency.size(), 1u);
  const ClusteringLatencyRow& timed = data.clustering_latency[0];
  EXPECT_EQ(timed.clusters, 64);
  EXPECT_EQ(timed.weight_kernel, "lookup");
  EXPECT_DOUBLE_EQ(timed.dense_median_ms.value(), 20.0);
  EXPECT_DOUBLE_EQ(timed.ratio.value(), 1.05);
  EXPECT_EQ(timed.weight_bytes.value(), 1100000);
  EXPECT_EQ(timed.dense_weight_bytes.value(), 4000000);
  EXPECT_EQ(timed.power_null_reason, "no sensor");
  ASSERT_EQ(data.accuracy_curves.size(), 1u);
  EXPECT_EQ(data.accuracy_curves[0].points.size(), 3u);
  // This sweep ran a schedule but no latency job, and the report says so.
  EXPECT_THAT(data.missing, ::testing::ElementsAre(::testing::HasSubstr("No method latencies")));
}

TEST_F(ReportDatabaseTest, WritesEveryFormatWithTheNumbers) {
  const int64_t sweep = run_sweep();
  write_report(load_report_data(path(), sweep), out_dir());
  for (const char* name :
       {"tables.md", "tables.tex", "report.json", "schedules.csv", "accuracy.csv",
        "latency-orin-nano-deit-tiny-b1.csv", "latency-cpu-1-deit-tiny-b1.csv",
        "accuracy-curve-deit-tiny-fashion-mnist-random.csv", "latency-orin-nano-deit-tiny-b1.svg",
        "accuracy-deit-tiny.svg", "accuracy-vs-latency-deit-tiny.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(out_dir() / name)) << name;
  }
  const std::string md = read_text(out_dir() / "tables.md");
  EXPECT_THAT(md, HasSubstr("smoke & cliffs"));
  EXPECT_THAT(md,
              HasSubstr("| orin-nano (simulated) | deit-tiny | 1 | reference | 128 | 7 | 3 | 130 | "
                        "10.2 | 21.3 (at 133) | 21.4 | 0.3 |  | 128->129 (+11.0 ms) |"));
  EXPECT_THAT(md,
              HasSubstr("| deit-tiny | pomt:7 | fashion-mnist/test | 1000 | 88.5 \\[86.4, 90.3\\] "
                        "| -1.5 |  | 99.0 |  | 1 | 32.0 | -5.9 | cpu-1 |"));
  EXPECT_LT(md.find("| none |"), md.find("| pomt:7 |"));
  EXPECT_LT(md.find("| pomt:7 |"), md.find("| tome:8 |"));
  EXPECT_THAT(md, ::testing::Not(HasSubstr("topk:5")));
  EXPECT_THAT(md, HasSubstr("| deit-tiny | fashion-mnist | test | 64 | 89.50 | -0.50 | 4.000 | "
                            "1.250 | 3.20x | 1000 | cpu-1 | eeeeeeeeeeee |"));
  EXPECT_TRUE(std::filesystem::exists(out_dir() / "clustering.csv"));
  const std::string clustering_svg = read_text(out_dir() / "clustering-deit-tiny.svg");
  EXPECT_THAT(clustering_svg, HasSubstr("K=64"));
  EXPECT_THAT(clustering_svg, HasSubstr("fashion-mnist/test, dense"));
  EXPECT_THAT(md, HasSubstr("| deit-tiny | cpu-1 | 1 | none | 64 | lookup | 20.0 | 21.0 | "
                            "+5.0% ±3.0 | 4.000 | 1.100 |  |  | no sensor |"));
  EXPECT_THAT(read_text(out_dir() / "clustering-latency-deit-tiny.svg"),
              HasSubstr("cpu-1, batch 1"));
  const std::string tex = read_text(out_dir() / "tables.tex");
  EXPECT_THAT(tex, HasSubstr("\\caption{POMT schedules, POMT's own (reference)"));
  EXPECT_THAT(tex, HasSubstr("(paired ratio, $\\pm$ 95\\% CI)"));
  const json report = json::parse(read_text(out_dir() / "report.json"));
  EXPECT_EQ(report["schedules"][0]["n_star"], 128);
  EXPECT_EQ(report["clustering"][0]["clusters"], 64);
  EXPECT_EQ(report["clustering_latency"][0]["ratio"], 1.05);
  EXPECT_EQ(report["provenance"]["state"], "done");
  EXPECT_THAT(read_text(out_dir() / "latency-orin-nano-deit-tiny-b1.csv"),
              HasSubstr("tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms,paired_ms,"
                        "paired_ci95_low_ms,paired_ci95_high_ms\r\n120,10,"));
  const std::string svg = read_text(out_dir() / "latency-orin-nano-deit-tiny-b1.svg");
  EXPECT_THAT(svg, HasSubstr("orin-nano (simulated)"));
  EXPECT_THAT(svg, HasSubstr("+11.0 ms"));
  EXPECT_THAT(svg, HasSubstr("n*=128"));
}

TEST_F(ReportDatabaseTest, ASweepWithNothingYetRendersWhatItHasAndSaysWhatIsMissing) {
  const auto agent = register_agent("cpu-1");
  PlannedJob profile = profile_job(agent.device_id);
  const int64_t sweep = store().create_sweep("empty", "{}", {profile}, 1);
  const ReportData data = load_report_data(path(), sweep);
  // Only what it planned is missing: no schedules or evaluations were asked for.
  ASSERT_EQ(data.missing.size(), 1u);
  EXPECT_EQ(data.missing[0], "No latency curves: no profile result yet.");
  write_report(data, out_dir());
  const std::string md = read_text(out_dir() / "tables.md");
  EXPECT_THAT(md, HasSubstr("> No latency curves"));
  EXPECT_THAT(md, Not(HasSubstr("No schedules")));
  EXPECT_THAT(md, Not(HasSubstr("## POMT schedules")));  // an empty table is not shown
  EXPECT_THAT(md, HasSubstr("finished: not yet"));
  EXPECT_TRUE(std::filesystem::exists(out_dir() / "schedules.csv"));  // but its CSV is written
}

TEST_F(ReportDatabaseTest, ClearErrorsForBadInput) {
  EXPECT_THROW(
      {
        try {
          load_report_data(path(), 99);
        } catch (const InputError& error) {
          EXPECT_THAT(error.what(), HasSubstr("no sweep 99"));
          throw;
        }
      },
      InputError);
  const auto folder = std::filesystem::path(path()).parent_path();
  EXPECT_THROW(load_report_data((folder / "missing.db").string(), 1), InputError);
  {
    std::ofstream(folder / "notes.txt")
        << "this is not a database, but long enough to look at it\n";
  }
  EXPECT_THROW(load_report_data((folder / "notes.txt").string(), 1), InputError);
  {
    store::Database plain((folder / "plain.db").string(), store::OpenOptions{.create = true});
    plain.execute_script("CREATE TABLE t (x INTEGER)");
  }
  try {
    load_report_data((folder / "plain.db").string(), 1);
    FAIL() << "a plain SQLite file was read";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("not a tailsweep database"));
  }
  // An output "folder" that is a file cannot be written into.
  EXPECT_THROW(write_report(ReportData{}, folder / "notes.txt"), InputError);
}

}  // namespace
}  // namespace tailsweep::report
