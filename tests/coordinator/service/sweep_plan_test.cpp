#include "coordinator/service/sweep_plan.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"
#include "common/wire/protocol.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

const std::vector<FleetDevice> kFleet = {
    {1, "cpu-1", "cpu", false, {"lab"}},
    {2, "nano", "sim", true, {"jetson"}},
    {3, "orin", "sim", true, {"jetson", "lab"}},
};

json full_spec() {
  return json::parse(R"({
    "name": "full",
    "workloads": [{
      "model": "fmnist-vit", "weights": "w.safetensors", "seed": 3,
      "curves": {"batches": [1, 4], "tokens": "2:197:65"},
      "accuracy": {"tokens": "2:197:65", "limit": 1000},
      "schedule": {"alpha": 0.5},
      "evaluations": {"methods": ["topk:20", "tome:8", "topk:20"]}
    }]})");
}

std::string error_of(const json& spec, const std::vector<FleetDevice>& fleet = kFleet) {
  try {
    plan_sweep(parse_sweep_spec(spec), fleet);
  } catch (const InputError& error) {
    return error.what();
  }
  return "planned";
}

TEST(SweepPlan, ExpandsEveryKindWithItsDependencies) {
  const auto jobs = plan_sweep(parse_sweep_spec(full_spec()), kFleet);
  // 3 profiles, 1 accuracy curve, 3 devices x 2 batches schedules, evals: none, topk, tome.
  ASSERT_EQ(jobs.size(), 3u + 1u + 6u + 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(jobs[i].kind, "profile");
    EXPECT_EQ(jobs[i].device_id, kFleet[i].id);
    const auto spec = protocol::parse_profile_job_spec(json::parse(jobs[i].spec_json));
    EXPECT_EQ(spec.batches, (std::vector<int64_t>{1, 4}));
    EXPECT_EQ(spec.weights, "w.safetensors");
  }
  EXPECT_EQ(jobs[3].kind, "accuracy_curve");
  EXPECT_FALSE(jobs[3].device_id.has_value());  // any real device: A(n) is device-independent
  const auto curve = protocol::parse_eval_job_spec(json::parse(jobs[3].spec_json));
  EXPECT_EQ(curve.tokens, "2:197:65");
  EXPECT_EQ(curve.limit, 1000);
  for (int i = 4; i < 10; ++i) {
    EXPECT_EQ(jobs[i].kind, "schedule");
    EXPECT_EQ(jobs[i].runner, "coordinator");
    EXPECT_EQ(jobs[i].depends_on.size(), 2u);
    EXPECT_EQ(jobs[i].depends_on[1], 3u);  // the accuracy curve
    const auto schedule = parse_schedule_job_spec(json::parse(jobs[i].spec_json));
    EXPECT_EQ(schedule.tokens_total, 197);
    EXPECT_TRUE(schedule.pomt_eval.has_value());
    EXPECT_EQ(jobs[i].depends_on[0], static_cast<std::size_t>(schedule.device_id - 1));
  }
  std::vector<std::string> methods;
  for (int i = 10; i < 13; ++i) {
    EXPECT_EQ(jobs[i].kind, "eval");
    EXPECT_FALSE(jobs[i].device_id.has_value());
    methods.push_back(protocol::parse_eval_job_spec(json::parse(jobs[i].spec_json)).method);
  }
  EXPECT_THAT(methods, ::testing::ElementsAre("none", "topk:20", "tome:8"));  // repeats dropped
}

TEST(SweepPlan, SelectorsChooseDevicesByNameKindAndTag) {
  DeviceSelector selector;
  selector.kinds = {"sim"};
  selector.tags = {"lab"};
  EXPECT_FALSE(selects(selector, kFleet[0]));
  EXPECT_FALSE(selects(selector, kFleet[1]));
  EXPECT_TRUE(selects(selector, kFleet[2]));
  selector = DeviceSelector{{"cpu-1"}, {}, {}};
  EXPECT_TRUE(selects(selector, kFleet[0]));
  EXPECT_FALSE(selects(selector, kFleet[2]));
}

TEST(SweepPlan, OfflineDevicesAreLeftOutOnlyWhenAsked) {
  FleetDevice gone = kFleet[1];
  gone.online = false;
  DeviceSelector selector;
  EXPECT_TRUE(selects(selector, gone));  // its jobs wait for an agent
  selector.skip_offline = true;
  EXPECT_FALSE(selects(selector, gone));
  EXPECT_TRUE(selects(selector, kFleet[2]));
  json spec = full_spec();
  spec["devices"] = {{"skip_offline", true}};
  EXPECT_TRUE(parse_sweep_spec(spec).devices.skip_offline);
  spec["devices"] = {{"skip_offline", "yes"}};
  EXPECT_THAT(error_of(spec), HasSubstr("devices.skip_offline: expected true or false"));
}

TEST(SweepPlan, ATimmModelNameIsStoredByItsOneName) {
  json spec = full_spec();
  spec["workloads"][0]["model"] = "deit_tiny_patch16_224";
  spec["workloads"][0].erase("accuracy");
  spec["workloads"][0].erase("schedule");
  spec["workloads"][0].erase("evaluations");
  EXPECT_EQ(parse_sweep_spec(spec).workloads[0].model, "deit-tiny");
}

TEST(SweepPlan, AccuracyNeedsARealDeviceAndSelectorsMustMatch) {
  json spec = full_spec();
  spec["devices"] = {{"kinds", {"sim"}}};
  EXPECT_THAT(error_of(spec), HasSubstr("only a real (non-simulated) device"));
  spec["devices"] = {{"names", {"nobody"}}};
  EXPECT_THAT(error_of(spec), HasSubstr("matches none of the 3"));
  // Curves alone run on simulated devices.
  const json curves = json::parse(
      R"({"name": "c", "devices": {"kinds": ["sim"]},
          "workloads": [{"model": "deit-tiny", "curves": {"tokens": "2,197"}}]})");
  EXPECT_EQ(plan_sweep(parse_sweep_spec(curves), kFleet).size(), 2u);
}

TEST(SweepPlan, SpecsAreParsedStrictly) {
  json spec = full_spec();
  spec["workloads"][0]["curves"]["tokenz"] = "2:197";
  EXPECT_THAT(error_of(spec), HasSubstr("workloads[0].curves.tokenz: unknown field"));
  spec = full_spec();
  spec["workloads"][0]["model"] = "deit-huge";
  EXPECT_THAT(error_of(spec), HasSubstr("unknown model"));
  spec = full_spec();
  spec["workloads"][0]["curves"]["tokens"] = "2:300";
  EXPECT_THAT(error_of(spec), HasSubstr("300"));
  spec = full_spec();
  spec["workloads"][0]["evaluations"]["methods"] = {"random:300"};
  EXPECT_THAT(error_of(spec), HasSubstr("random:300"));
  spec = full_spec();
  spec["workloads"][0].erase("accuracy");
  EXPECT_THAT(error_of(spec), HasSubstr("needs both"));
  spec = full_spec();
  spec["workloads"][0]["schedule"]["layer"] = 6;
  EXPECT_THAT(error_of(spec), HasSubstr("past the last block"));
  EXPECT_THAT(error_of(json::parse(R"({"name": "x", "workloads": []})")),
              HasSubstr("at least one"));
}

TEST(SweepPlan, TheRetryLimitReachesEveryJobAndIsBounded) {
  for (const store::PlannedJob& job : plan_sweep(parse_sweep_spec(full_spec()), kFleet)) {
    EXPECT_EQ(job.max_attempts, kDefaultMaxAttempts);
  }
  json spec = full_spec();
  spec["max_attempts"] = 12;
  for (const store::PlannedJob& job : plan_sweep(parse_sweep_spec(spec), kFleet)) {
    EXPECT_EQ(job.max_attempts, 12) << job.kind;
  }
  spec["max_attempts"] = 0;
  EXPECT_THAT(error_of(spec), HasSubstr("max_attempts: 0 is below 1"));
  spec["max_attempts"] = 101;
  EXPECT_THAT(error_of(spec), HasSubstr("max_attempts: 101 is above 100"));
  spec["max_attempts"] = "5";
  EXPECT_THAT(error_of(spec), HasSubstr("max_attempts: expected an integer"));
}

TEST(SweepPlan, ScheduleVariantsDefaultToBothAndAlwaysHoldTheReference) {
  const auto aligned_of = [](const json& spec) {
    for (const auto& job : plan_sweep(parse_sweep_spec(spec), kFleet)) {
      if (job.kind == "schedule") {
        return parse_schedule_job_spec(json::parse(job.spec_json)).aligned;
      }
    }
    ADD_FAILURE() << "no schedule job";
    return false;
  };
  json spec = full_spec();
  EXPECT_TRUE(aligned_of(spec));
  spec["workloads"][0]["schedule"]["variants"] = {"reference"};
  EXPECT_FALSE(aligned_of(spec));
  spec["workloads"][0]["schedule"]["variants"] = {"aligned"};
  EXPECT_THAT(error_of(spec), HasSubstr("schedule.variants: must hold \"reference\""));
  spec["workloads"][0]["schedule"]["variants"] = {"reference", "best"};
  EXPECT_THAT(error_of(spec), HasSubstr("'best' is neither reference nor aligned"));
}

TEST(SweepPlan, ClusteringAddsOneDenseBaselineEvalPerK) {
  json spec = full_spec();
  spec["workloads"][0]["clustering"] = {{"clusters", {16, 64, 256}}};
  std::vector<int64_t> clustered;
  std::size_t evals = 0;
  for (const auto& job : plan_sweep(parse_sweep_spec(spec), kFleet)) {
    if (job.kind != "eval") continue;
    ++evals;
    const protocol::EvalJobSpec eval = protocol::parse_eval_job_spec(json::parse(job.spec_json));
    if (eval.clusters == 0) continue;
    clustered.push_back(eval.clusters);
    EXPECT_EQ(eval.method, "none");
    EXPECT_EQ(eval.weights, std::optional<std::string>("w.safetensors"));
    EXPECT_EQ(eval.limit, 0);
    EXPECT_FALSE(job.device_id);  // any real device
  }
  EXPECT_EQ(clustered, (std::vector<int64_t>{16, 64, 256}));
  EXPECT_EQ(evals, 3u + 3u);  // none, topk:20, tome:8, then one per K

  for (const auto& [clusters, message] :
       std::vector<std::pair<json, std::string>>{
           {json::array({1}), "clustering.clusters[0]: expected a number of shared values in 2..256"},
           {json::array({64, 300}), "clusters[1]: expected a number"},
           {json::array({64, 64}), "clusters[1]: 64 is listed twice"},
           {json::array(), "clustering.clusters"},
           {json("64"), "clustering.clusters"}}) {
    spec["workloads"][0]["clustering"] = {{"clusters", clusters}};
    EXPECT_THAT(error_of(spec), HasSubstr(message)) << clusters.dump();
  }
  spec["workloads"][0]["clustering"] = {{"clusters", {64}}, {"init", "forgy"}};
  EXPECT_THAT(error_of(spec), HasSubstr("clustering.init: unknown field"));
  spec["workloads"][0]["clustering"] = {{"clusters", {64}}};
  spec["workloads"][0].erase("evaluations");
  spec["workloads"][0].erase("schedule");
  EXPECT_THAT(error_of(spec), HasSubstr("clustering: needs \"evaluations\""));
}

// An HDP method among evaluations.methods is evaluated, and timed on real
// devices only: a simulated GPU cannot know which heads the data prunes
// (the "hdp" grid models them there from the shares its evals measure).
TEST(SweepPlan, HdpMethodsAreTimedOnRealDevicesOnly) {
  json spec = full_spec();
  spec["workloads"][0]["evaluations"]["methods"] = {"hdp:heads=0.1", "topk:20"};
  std::map<int64_t, std::vector<std::string>> timed;
  bool evaluated = false;
  for (const auto& job : plan_sweep(parse_sweep_spec(spec), kFleet)) {
    if (job.kind == "eval") {
      evaluated = evaluated || protocol::parse_eval_job_spec(json::parse(job.spec_json)).method ==
                                   "hdp:heads=0.1,blocks=1,approx=0,frac=8";
    }
    if (job.kind != "schedule") continue;
    const json schedule = json::parse(job.spec_json);
    timed[schedule["device_id"].get<int64_t>()] =
        protocol::parse_profile_job_spec(schedule["latency_job"]).methods;
  }
  EXPECT_TRUE(evaluated);
  const std::string hdp = "hdp:heads=0.1,blocks=1,approx=0,frac=8";
  EXPECT_NE(std::find(timed[1].begin(), timed[1].end(), hdp), timed[1].end());  // cpu-1
  EXPECT_EQ(std::find(timed[2].begin(), timed[2].end(), hdp), timed[2].end());  // sim nano
  EXPECT_NE(std::find(timed[2].begin(), timed[2].end(), "topk:20"), timed[2].end());
}

// "hdp": each setting evaluated; one latency job per real device with
// "none" and every setting in the same rounds; and, with a schedule, each
// setting handed to the schedule to compose with POMT at R (timed only
// where the device is real).
TEST(SweepPlan, HdpGridEvaluatesTimesAndComposesWithPomt) {
  json spec = full_spec();
  spec["workloads"][0]["hdp"] = {{"settings", {"heads=0.1", "hdp:blocks=0.5,approx=1"}},
                                 {"latency", {{"batches", {1, 64}}, {"precision", 0.02}}}};
  const std::string heads = "hdp:heads=0.1,blocks=1,approx=0,frac=8";
  const std::string blocks = "hdp:heads=0,blocks=0.5,approx=1,frac=8";
  std::vector<std::string> evaluated;
  std::map<int64_t, std::vector<std::string>> timed;
  std::map<int64_t, bool> simulated;
  std::map<int64_t, std::vector<std::size_t>> modelled;  // sim device -> its hdp_latency's evals
  std::vector<std::size_t> setting_evals;
  const auto jobs = plan_sweep(parse_sweep_spec(spec), kFleet);
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const store::PlannedJob& job = jobs[i];
    if (job.kind == "eval") {
      evaluated.push_back(protocol::parse_eval_job_spec(json::parse(job.spec_json)).method);
      if (evaluated.back().starts_with("hdp:")) setting_evals.push_back(i);
    } else if (job.kind == "hdp_latency") {
      EXPECT_EQ(job.runner, store::kRunnerCoordinator);
      const HdpLatencyJobSpec hdp = parse_hdp_latency_job_spec(json::parse(job.spec_json));
      EXPECT_EQ(hdp.latency_job.methods, (std::vector<std::string>{"none", heads, blocks}));
      EXPECT_EQ(hdp.device_id, *job.device_id);
      modelled[hdp.device_id] = job.depends_on;
    } else if (job.kind == "latency") {
      const auto latency = protocol::parse_profile_job_spec(json::parse(job.spec_json));
      EXPECT_EQ(latency.batches, (std::vector<int64_t>{1, 64}));
      EXPECT_EQ(latency.precision, 0.02);
      timed[*job.device_id] = latency.methods;
    } else if (job.kind == "schedule") {
      const ScheduleJobSpec schedule = parse_schedule_job_spec(json::parse(job.spec_json));
      EXPECT_EQ(schedule.hdp_methods, (std::vector<std::string>{heads, blocks}));
      simulated[schedule.device_id] = schedule.device_simulated;
    }
  }
  EXPECT_EQ(evaluated, (std::vector<std::string>{"none", "topk:20", "tome:8", heads, blocks}));
  EXPECT_EQ(timed, (std::map<int64_t, std::vector<std::string>>{{1, {"none", heads, blocks}}}));
  EXPECT_EQ(simulated, (std::map<int64_t, bool>{{1, false}, {2, true}, {3, true}}));
  // Each simulated device's model waits for the evaluations that measure it.
  EXPECT_EQ(modelled,
            (std::map<int64_t, std::vector<std::size_t>>{{2, setting_evals}, {3, setting_evals}}));

  spec["workloads"][0]["hdp"]["pomt"] = false;
  spec["workloads"][0]["hdp"]["latency"] = false;
  for (const auto& job : plan_sweep(parse_sweep_spec(spec), kFleet)) {
    EXPECT_NE(job.kind, "latency");
    EXPECT_NE(job.kind, "hdp_latency");
    if (job.kind == "schedule") {
      EXPECT_TRUE(parse_schedule_job_spec(json::parse(job.spec_json)).hdp_methods.empty());
    }
  }
  // Without a schedule there is no R to compose with: the default follows,
  // and asking for it is an error.
  json no_schedule = full_spec();
  no_schedule["workloads"][0].erase("schedule");
  no_schedule["workloads"][0]["evaluations"]["pomt"] = false;
  no_schedule["workloads"][0]["hdp"] = {{"settings", {"heads=0.1"}}};
  EXPECT_EQ(error_of(no_schedule), "planned");
  no_schedule["workloads"][0]["hdp"]["pomt"] = true;
  EXPECT_THAT(error_of(no_schedule), HasSubstr("hdp.pomt: composing with POMT needs"));

  for (const auto& [settings, message] : std::vector<std::pair<json, std::string>>{
           {json::array(), "hdp.settings: expected at least one HDP setting"},
           {json::array({"heads=2"}), "hdp.settings[0]: "},
           {json::array({"heads=0.1,rows=2"}), "hdp.settings[0]: "},
           {json::array({"pomt:58+hdp:heads=0.1"}), "hdp.settings[0]: "},
           {json::array({"topk:20"}), "hdp.settings[0]: "},
           {json::array({"heads=0.1", "hdp:heads=0.1"}), "hdp.settings[1]: "},
           {json("heads=0.1"), "hdp.settings"}}) {
    spec["workloads"][0]["hdp"] = {{"settings", settings}};
    EXPECT_THAT(error_of(spec), HasSubstr(message)) << settings.dump();
  }
  spec["workloads"][0]["hdp"] = {{"settings", {"heads=0.1"}},
                                 {"latency", {{"weight_kernel", "dense"}}}};
  EXPECT_THAT(error_of(spec), HasSubstr("hdp.latency.weight_kernel: unknown field"));
  spec["workloads"][0].erase("evaluations");
  spec["workloads"][0]["hdp"] = {{"settings", {"heads=0.1"}}};
  EXPECT_THAT(error_of(spec), HasSubstr("hdp: needs \"evaluations\""));
}

// Beside the evaluations: one paired latency job per selected device, the
// dense "none" and each K in the same rounds, on the lookup kernel where
// one exists (the CPU, the GPU model) and decoded at load elsewhere.
TEST(SweepPlan, ClusteringTimesTheDenseAndClusteredModelsOnEveryDevice) {
  json spec = full_spec();
  spec["workloads"][0]["clustering"] = {{"clusters", {16, 64}},
                                        {"latency", {{"batches", {1, 8}}, {"precision", 0.02}}}};
  std::vector<FleetDevice> fleet = kFleet;
  fleet.push_back({4, "agx", "cuda", false, {}});
  std::map<int64_t, std::string> kernel_of;
  for (const auto& job : plan_sweep(parse_sweep_spec(spec), fleet)) {
    if (job.kind != "latency") continue;
    const auto latency = protocol::parse_profile_job_spec(json::parse(job.spec_json));
    EXPECT_EQ(latency.methods, (std::vector<std::string>{"none"}));
    EXPECT_EQ(latency.paired_clusters, (std::vector<int64_t>{16, 64}));
    EXPECT_EQ(latency.batches, (std::vector<int64_t>{1, 8}));
    EXPECT_EQ(latency.precision, 0.02);
    EXPECT_EQ(job.priority, kLatencyPriority);
    ASSERT_TRUE(job.device_id);
    kernel_of[*job.device_id] = latency.weight_kernel;
  }
  EXPECT_EQ(kernel_of, (std::map<int64_t, std::string>{
                           {1, "lookup"}, {2, "lookup"}, {3, "lookup"}, {4, "dense"}}));

  spec["workloads"][0]["clustering"]["latency"]["weight_kernel"] = "dense";
  for (const auto& job : plan_sweep(parse_sweep_spec(spec), fleet)) {
    if (job.kind != "latency") continue;
    EXPECT_EQ(protocol::parse_profile_job_spec(json::parse(job.spec_json)).weight_kernel, "dense");
  }
  spec["workloads"][0]["clustering"]["latency"] = false;
  for (const auto& job : plan_sweep(parse_sweep_spec(spec), fleet)) EXPECT_NE(job.kind, "latency");
  spec["workloads"][0]["clustering"]["latency"] = {{"weight_kernel", "int8"}};
  EXPECT_THAT(error_of(spec), HasSubstr("clustering.latency.weight_kernel: 'int8' is not auto"));
  spec["workloads"][0]["clustering"]["latency"] = {{"batches", json::array()}};
  EXPECT_THAT(error_of(spec), HasSubstr("clustering.latency.batches"));
  spec["workloads"][0]["clustering"]["latency"] = {{"repeats", 3}};
  EXPECT_THAT(error_of(spec), HasSubstr("clustering.latency.repeats: unknown field"));
}

// Every example the docs point to parses and plans, on a fleet of one real
// CPU and one simulated Jetson (tagged as the ImageNet example selects).
TEST(SweepPlan, EveryExampleSweepPlans) {
  const std::vector<FleetDevice> fleet = {{1, "cpu-1", "cpu", false, {"jetson"}},
                                          {2, "nano", "sim", true, {"jetson"}}};
  std::size_t examples = 0;
  for (const auto& entry : std::filesystem::directory_iterator(TAILSWEEP_EXAMPLE_SWEEPS)) {
    if (entry.path().extension() != ".json") continue;
    ++examples;
    std::ifstream in(entry.path());
    const json spec = json::parse(in);
    EXPECT_FALSE(plan_sweep(parse_sweep_spec(spec), fleet).empty()) << entry.path();
  }
  EXPECT_GE(examples, 4u);
}

// One 112 kB spec once planned 235,700 jobs in one transaction; the
// database grew by 700 MB and leases waited 15 s.
TEST(SweepPlan, ASweepOverTheJobLimitIsRefusedBeforeItIsBuilt) {
  // 13 jobs over this fleet (see ExpandsEveryKindWithItsDependencies).
  EXPECT_EQ(plan_sweep(parse_sweep_spec(full_spec()), kFleet, 13).size(), 13u);
  try {
    plan_sweep(parse_sweep_spec(full_spec()), kFleet, 12);
    FAIL() << "planned past the limit";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("sweep full: it plans more than 12 jobs"));
    EXPECT_THAT(error.what(), HasSubstr("--max-sweep-jobs"));
  }
  // Thousands of methods: refused at the default limit, quickly.
  json huge = full_spec();
  json methods = json::array();
  for (int r = 1; r <= 95; ++r) {
    methods.push_back(fmt::format("topk:{}", r));
    methods.push_back(fmt::format("tome:{}", r));
  }
  huge["workloads"] = json::array();
  for (int i = 0; i < 60; ++i) {
    json workload = full_spec()["workloads"][0];
    workload["evaluations"]["methods"] = methods;
    huge["workloads"].push_back(workload);
  }
  EXPECT_THAT(error_of(huge), HasSubstr("more than 10000 jobs"));
}

TEST(SweepPlan, NamesAndSelectorsUseTheNameCharacterSet) {
  json spec = full_spec();
  spec["name"] = "evil\n\\input{/etc/passwd}";
  EXPECT_THAT(error_of(spec), HasSubstr("sweep spec: name: \"evil\\x0a\\input"));
  spec = full_spec();
  spec["devices"] = {{"tags", {"lab", "no spaces"}}};
  EXPECT_THAT(error_of(spec), HasSubstr("devices.tags[1]: \"no spaces\" is not a valid name"));
}

}  // namespace
}  // namespace tailsweep::coordinator
