// A leased job's spec becomes the same request the CLI builds, on the
// agent's device and threads; jobs an agent must not run are refused with a
// reason, never a crash. Also the coordinator client's status -> outcome map.
#include "agent/measure/job_runner.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* kModel = "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5";

protocol::JobAssignment job(std::string kind, json spec) {
  return {1, "lease-1", std::move(kind), std::move(spec), 1, 0.0};
}

TEST(JobRunnerTest, AProfileSpecRunsOnTheAgentsDeviceAndThreads) {
  const protocol::ProfileJobSpec spec =
      protocol::parse_profile_job_spec({{"model", "deit-tiny"},
                                        {"weights", "/w/deit.safetensors"},
                                        {"batches", {1, 4, 8}},
                                        {"tokens", "2:197:5"},
                                        {"precision", 0.02},
                                        {"mode", "block"},
                                        {"time_cap_s", 4.0},
                                        {"warmup_s", 0.5},
                                        {"seed", 11}});
  const ProfileRequest request = profile_request_for(spec, {"sim:jetson-nano", 3, ""});
  EXPECT_EQ(request.device, "sim:jetson-nano");
  EXPECT_EQ(request.run.threads, 3);
  EXPECT_EQ(request.run.model, "deit-tiny");
  EXPECT_EQ(request.run.weights, "/w/deit.safetensors");
  EXPECT_EQ(request.run.seed, 11u);
  EXPECT_EQ(request.batches, (std::vector<int64_t>{1, 4, 8}));
  ASSERT_EQ(request.tokens.size(), 40u);  // 2:197:5 on a 197-token model: 2, 7, ..., 192, 197
  EXPECT_EQ(request.tokens.front(), 2);
  EXPECT_EQ(request.tokens.back(), 197);
  EXPECT_DOUBLE_EQ(request.precision, 0.02);
  EXPECT_EQ(request.mode, "block");
  EXPECT_DOUBLE_EQ(request.time_cap_s, 4.0);
  EXPECT_DOUBLE_EQ(request.warmup_s, 0.5);

  const ProfileRequest defaults = profile_request_for(
      protocol::parse_profile_job_spec({{"model", "deit-tiny"}, {"tokens", "2,9"}}),
      {"cpu", 0, ""});
  EXPECT_EQ(defaults.run.weights, "");  // random weights from the seed
  EXPECT_EQ(defaults.batches, (std::vector<int64_t>{1}));
  EXPECT_EQ(defaults.device, "cpu");
}

TEST(JobRunnerTest, EvalAndAccuracyCurveSpecsBecomeEvalRequests) {
  const protocol::EvalJobSpec eval = protocol::parse_eval_job_spec({{"model", "fmnist-vit"},
                                                                    {"weights", "w.safetensors"},
                                                                    {"limit", 500},
                                                                    {"method", "pomt:40"},
                                                                    {"batch", 32},
                                                                    {"seed", 2},
                                                                    {"split", "train"}});
  const EvalRequest request = eval_request_for("eval", eval, {"cpu", 2, ""});
  EXPECT_EQ(request.run.model, "fmnist-vit");
  EXPECT_EQ(request.run.threads, 2);
  EXPECT_EQ(request.run.weights, "w.safetensors");
  EXPECT_EQ(request.dataset, "fashion-mnist");
  EXPECT_EQ(request.split, "train");
  EXPECT_EQ(request.limit, 500);
  EXPECT_EQ(request.method, "pomt:40");
  EXPECT_EQ(request.batch, 32);
  EXPECT_TRUE(request.tokens.empty());
  EXPECT_EQ(request.run.clusters, 0);
  // A clustering eval: the weights clustered at load.
  json clustered = protocol::to_json(eval);
  clustered["clusters"] = 64;
  EXPECT_EQ(eval_request_for("eval", protocol::parse_eval_job_spec(clustered), {"cpu", 2, ""})
                .run.clusters,
            64);
  EXPECT_EQ(protocol::to_json(protocol::parse_eval_job_spec(clustered))["clusters"], 64);
  EXPECT_FALSE(protocol::to_json(eval).contains("clusters"));  // written only when set
  clustered["clusters"] = 1;
  EXPECT_THROW(protocol::parse_eval_job_spec(clustered), InputError);

  const protocol::EvalJobSpec curve =
      protocol::parse_eval_job_spec({{"model", "fmnist-vit"}, {"tokens", "2:50:4"}});
  EXPECT_EQ(eval_request_for("accuracy_curve", curve, {"cpu", 0, ""}).tokens.size(),
            13u);  // 2:50:4: 2, 6, ..., 50
}

// A spec's relative weights are read from the agent's data directory,
// whatever folder the agent runs in; they may not leave it.
TEST(JobRunnerTest, RelativePathsInJobsAreReadFromTheDataDirectory) {
  EXPECT_EQ(resolve_job_path("results/models/w.safetensors", "/srv/tailsweep"),
            "/srv/tailsweep/results/models/w.safetensors");
  EXPECT_EQ(resolve_job_path("./models/../w.safetensors", "/srv/tailsweep/"),
            "/srv/tailsweep/w.safetensors");
  EXPECT_EQ(resolve_job_path("/opt/w.safetensors", "/srv/tailsweep"), "/opt/w.safetensors");
  EXPECT_EQ(resolve_job_path("w.safetensors", ""), "w.safetensors");  // the working directory
  EXPECT_THROW(resolve_job_path("../etc/w.safetensors", "/srv/tailsweep"), InputError);
  EXPECT_THROW(resolve_job_path("models/../../w.safetensors", "/srv/tailsweep"), InputError);
  const protocol::EvalJobSpec eval = protocol::parse_eval_job_spec(
      {{"model", "fmnist-vit"}, {"weights", "w.safetensors"}, {"method", "none"}});
  AgentDevice device{"cpu", 1, ""};
  device.data_dir = "/srv/tailsweep";
  EXPECT_EQ(eval_request_for("eval", eval, device).run.weights, "/srv/tailsweep/w.safetensors");
}

TEST(JobRunnerTest, RefusesJobsThatCannotBeRunHere) {
  const protocol::EvalJobSpec plain = protocol::parse_eval_job_spec({{"model", "m"}});
  const protocol::EvalJobSpec curve =
      protocol::parse_eval_job_spec({{"model", "m"}, {"tokens", "2,9"}});
  try {
    eval_request_for("eval", plain, {"sim:jetson-nano", 0, ""});
    FAIL() << "an eval job ran on a simulated device";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("accuracy never comes from a simulated device"));
  }
  EXPECT_THROW(eval_request_for("accuracy_curve", curve, {"sim:jetson-tx2", 0, ""}), InputError);
  EXPECT_THROW(eval_request_for("accuracy_curve", plain, {"cpu", 0, ""}), InputError);
  protocol::EvalJobSpec clustered_curve = curve;
  clustered_curve.clusters = 64;
  EXPECT_THROW(eval_request_for("accuracy_curve", clustered_curve, {"cpu", 0, ""}), InputError);
  EXPECT_THROW(eval_request_for("eval", curve, {"cpu", 0, ""}), InputError);
}

TEST(JobRunnerTest, EveryFailureBecomesAnErrorMessageNotAnException) {
  const AgentDevice sim{"sim:jetson-nano", 1, ""};
  const JobOutcome unknown = run_job_reporting_errors(job("train", json::object()), sim);
  EXPECT_FALSE(unknown.result);
  EXPECT_THAT(unknown.error, HasSubstr("unknown job kind 'train'"));

  const JobOutcome bad_spec = run_job_reporting_errors(job("profile", {{"model", kModel}}), sim);
  EXPECT_FALSE(bad_spec.result);
  EXPECT_THAT(bad_spec.error, HasSubstr("tokens"));

  const JobOutcome bad_model =
      run_job_reporting_errors(job("profile", {{"model", "deit-huge"}, {"tokens", "2,9"}}), sim);
  EXPECT_FALSE(bad_model.result);
  EXPECT_THAT(bad_model.error, HasSubstr("deit-huge"));

  const JobOutcome eval_on_sim = run_job_reporting_errors(job("eval", {{"model", kModel}}), sim);
  EXPECT_THAT(eval_on_sim.error, HasSubstr("simulated"));
}

TEST(JobRunnerTest, ASimulatedProfileJobRunsToAResult) {
  const JobOutcome outcome = run_job_reporting_errors(
      job("profile", {{"model", kModel}, {"tokens", "2,9,17"}, {"time_cap_s", 0.2}}),
      {"sim:jetson-orin-nano", 1, ""});
  ASSERT_TRUE(outcome.result) << outcome.error;
  EXPECT_EQ((*outcome.result)["points"].size(), 3u);
  // The device the agent registers is the device its results carry.
  json measured_on = (*outcome.result)["device"];
  json registered = simulated_device_json("jetson-orin-nano", HostFacts{});
  measured_on.erase("simulated_on");
  registered.erase("simulated_on");
  EXPECT_EQ(measured_on, registered);
}

// An architecture job: the architecture of the spec, each batch, parsed back
// by the coordinator's reader; a broken spec is the job's failure message.
TEST(JobRunnerTest, AnArchitectureJobTimesItsArchitecture) {
  const json architecture = {
      {"input", "tokens"},
      {"sequence_length", 16},
      {"vocabulary", 100},
      {"layers",
       {{{"hidden", 32}, {"heads", 4}, {"operation", "sa_sdp"}, {"feed_forward", {64}}}}}};
  const JobOutcome outcome = run_job_reporting_errors(
      job("architecture", {{"architecture", architecture}, {"batches", {1, 2}}, {"warmup_s", 0}}),
      {"sim:jetson-nano", 1, ""});
  ASSERT_TRUE(outcome.result) << outcome.error;
  const protocol::ArchitectureDocument read = protocol::parse_architecture_body(*outcome.result);
  EXPECT_EQ(read.architecture_id,
            design::architecture_id(design::parse_architecture(architecture)));
  EXPECT_EQ(read.points.size(), 2u);
  json broken = architecture;
  broken["layers"][0]["operation"] = "conv";
  const JobOutcome failed = run_job_reporting_errors(
      job("architecture", {{"architecture", broken}}), {"sim:jetson-nano", 1, ""});
  EXPECT_FALSE(failed.result);
  EXPECT_THAT(failed.error, HasSubstr("layers[0].operation"));
}

// A latency job times each method on the full input; the simulated Nano's
// cliff shows between POMT at R = 69 (128 tokens after block 3) and R = 68.
TEST(JobRunnerTest, ALatencyJobTimesEachMethod) {
  const JobOutcome outcome = run_job_reporting_errors(
      job("latency", {{"model", "deit-tiny"},
                      {"methods", {"none", "topk:8", "pomt:69", "pomt:68"}},
                      {"time_cap_s", 0.5}}),
      {"sim:jetson-nano", 1, ""});
  ASSERT_TRUE(outcome.result) << outcome.error;
  std::map<std::string, double> median_ms;
  for (const json& point : (*outcome.result)["points"]) {
    EXPECT_EQ(point["tokens"], 197);
    median_ms[point["method"]] = point["median_ms"];
  }
  ASSERT_EQ(median_ms.size(), 4u);
  EXPECT_LT(median_ms["topk:8"], median_ms["none"]);
  EXPECT_LT(median_ms["pomt:69"], 0.9 * median_ms["pomt:68"]);
  // A latency job needs methods, a profile job a token grid.
  EXPECT_THAT(run_job_reporting_errors(job("latency", {{"model", "deit-tiny"}, {"tokens", "2"}}),
                                       {"sim:jetson-nano", 1, ""})
                  .error,
              HasSubstr("latency job"));
}

TEST(JobRunnerTest, DescribesTheDeviceItRegisters) {
  HostFacts host;
  host.cpu_model = "Test CPU";
  EXPECT_EQ(device_kind({"cpu", 0, ""}, host), "cpu");
  EXPECT_EQ(device_kind({"sim:jetson-nano", 0, ""}, host), "sim");
  const json facts = device_facts({"sim:jetson-nano", 0, ""}, host);
  EXPECT_EQ(facts["kind"], "sim");
  EXPECT_EQ(facts["simulated"], true);
  EXPECT_EQ(facts["gpu"]["name"], "jetson-nano");
  EXPECT_EQ(facts["simulated_on"]["cpu_model"], "Test CPU");

  EXPECT_EQ(device_kind({"cuda:1", 0, ""}, host), "cuda");
  HostFacts jetson = host;
  jetson.device_model = "NVIDIA Jetson Orin Nano Developer Kit";
  ASSERT_TRUE(jetson.is_jetson());
  EXPECT_EQ(device_kind({"cuda", 0, ""}, jetson), "jetson");
  EXPECT_EQ(device_kind({"cpu", 0, ""}, jetson), "jetson");

  EXPECT_NO_THROW(check_agent_device({"cpu", 0, ""}));
  EXPECT_NO_THROW(check_agent_device({"sim:jetson-agx-orin", 0, ""}));
  EXPECT_NO_THROW(check_agent_device({"cuda:0", 0, ""}));  // usable or not is found out later
  EXPECT_THROW(check_agent_device({"gpu", 0, ""}), InputError);
  EXPECT_THROW(check_agent_device({"cuda:-1", 0, ""}), InputError);
  EXPECT_THROW(check_agent_device({"sim:voodoo", 0, ""}), InputError);
  EXPECT_THROW(check_agent_device({"cpu", -1, ""}), InputError);
}

}  // namespace
}  // namespace tailsweep::agent
