// Drives `tailsweep-agent profile` for real on a tiny model: the JSON it
// writes, and every bad input answered with exit 2 and one line.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/api/include/torch/cuda.h>

#include "../../support/child_process.h"
#include "../../support/run_command.h"
#include "../../support/temp_dir.h"

namespace tailsweep::agent {
namespace {

using tailsweep::testing::run_command;
using tailsweep::testing::shell_quote;
using ::testing::HasSubstr;

// 32x32 images with patch 8: 16 patches + CLS = 17 tokens.
const std::string kModel = shell_quote("custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5");
const std::string kFast = " --warmup 0.05 --time-cap 0.3 --min-samples 6";

std::string profile(const std::string& arguments) {
  return std::string(TAILSWEEP_AGENT_BIN) + " profile --model " + kModel + kFast + " " + arguments;
}

TEST(ProfileCli, WritesEveryPointWithRawSamplesAndStatistics) {
  tailsweep::testing::TempDir dir("tailsweep-profile");
  const auto out = (dir / "curve.json").string();
  const auto result =
      run_command(profile("--tokens 2,9,17 --batch 1,2 --precision 0.5 --out " + shell_quote(out)));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // The run's stderr (a file here, no terminal) says where the result went.
  EXPECT_THAT(result.err, HasSubstr("wrote 6 point(s) of")) << result.err;
  const auto report = nlohmann::json::parse(tailsweep::testing::slurp(out));
  EXPECT_EQ(report.at("mode"), "model");
  EXPECT_EQ(report.at("device").at("simulated"), false);
  EXPECT_EQ(report.at("device").at("kind"), "cpu");
  EXPECT_GE(report.at("device").at("runtime").at("intra_op_threads").get<int>(), 1);
  EXPECT_TRUE(report.at("device").at("host").contains("unavailable"));
  const auto& points = report.at("points");
  ASSERT_EQ(points.size(), 6u);
  std::vector<int> visits;
  for (const auto& point : points) {
    const auto& raw = point.at("raw_ms");
    // Fewer than min-samples only when the time cap cut the point short (a
    // loaded machine), and then the point says so.
    if (point.at("reached_precision").get<bool>()) {
      EXPECT_GE(raw.size(), 6u);
    }
    EXPECT_GE(raw.size(), 1u);
    EXPECT_EQ(raw.size(), point.at("samples").get<std::size_t>());
    std::vector<double> sorted = raw.get<std::vector<double>>();
    std::sort(sorted.begin(), sorted.end());
    EXPECT_GE(point.at("median_ms").get<double>(), sorted.front());
    EXPECT_LE(point.at("median_ms").get<double>(), sorted.back());
    EXPECT_LE(point.at("p25_ms").get<double>(), point.at("p75_ms").get<double>());
    EXPECT_GT(point.at("median_ms").get<double>(), 0.0);
    visits.push_back(point.at("visit_index").get<int>());
  }
  // Sorted by (batch, tokens) in the file, visited in a shuffled order.
  EXPECT_EQ(points[0].at("tokens"), 2);
  EXPECT_EQ(points[5].at("batch"), 2);
  EXPECT_EQ(points[5].at("tokens"), 17);
  std::sort(visits.begin(), visits.end());
  EXPECT_EQ(visits, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  // Power: measured where there is a sensor; otherwise no number, a reason.
  const auto& power = report.at("power");
  if (power.at("available").get<bool>()) {
    EXPECT_GT(points[0].at("power").at("average_w").get<double>(), 0.0);
  } else {
    EXPECT_FALSE(power.at("reason").get<std::string>().empty());
    for (const auto& point : points) EXPECT_TRUE(point.at("power").is_null());
  }
}

TEST(ProfileCli, BlockModeTimesOneBlock) {
  const auto result = run_command(profile("--tokens 4,17 --mode block --precision 0.5"));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report.at("mode"), "block");
  EXPECT_EQ(report.at("points").size(), 2u);
}

// A simulated AGX Orin: labelled simulated everywhere, and the staircase of
// its model appears in the measured curve (128 -> 129 tokens needs a second
// row of GEMM tiles; 120 -> 128 needs none).
// Method lists are comma-separated like every list, the specs keeping their
// own commas; space-separated items are taken too.
TEST(ProfileCli, MethodListsAreCommaSeparated) {
  const auto result = run_command(std::string(TAILSWEEP_AGENT_BIN) +
                                  " profile --model deit-tiny --device sim:jetson-nano --warmup 0"
                                  " --time-cap 0.3 --methods none,topk:8,tome:8,4 pomt:58");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  std::set<std::string> methods;
  for (const auto& point : report.at("points")) {
    methods.insert(point.at("method").get<std::string>());
  }
  EXPECT_EQ(methods, (std::set<std::string>{"none", "topk:8", "tome:8,4", "pomt:58"}));
}

TEST(ProfileCli, SimulatedDevicesAreLabelledAndShowTheirSteps) {
  const auto result = run_command(std::string(TAILSWEEP_AGENT_BIN) +
                                  " profile --model deit-tiny --device sim:jetson-agx-orin"
                                  " --tokens 120,128,129 --precision 0.002 --warmup 0");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  const auto& device = report.at("device");
  EXPECT_EQ(device.at("simulated"), true);
  EXPECT_EQ(device.at("kind"), "sim");
  EXPECT_THAT(device.at("name").get<std::string>(), HasSubstr("(simulated)"));
  EXPECT_EQ(device.at("gpu").at("sm_count"), 16);
  const auto& points = report.at("points");
  ASSERT_EQ(points.size(), 3u);
  const double at120 = points[0].at("median_ms").get<double>();
  const double at128 = points[1].at("median_ms").get<double>();
  const double at129 = points[2].at("median_ms").get<double>();
  EXPECT_LT(at128 / at120, 1.02);
  EXPECT_GT(at129 / at128, 1.05);
  for (const auto& point : points) EXPECT_EQ(point.at("reached_precision"), true);
  EXPECT_EQ(report.at("power").at("available"), false);
  EXPECT_THAT(report.at("power").at("reason").get<std::string>(), HasSubstr("simulated"));
}

TEST(ProfileCli, ACudaCurveCarriesTheGpuOrSaysWhyThereIsNone) {
  // On a machine whose LibTorch uses a GPU, a real curve; elsewhere exit 2 and
  // the reason on one line.
  tailsweep::testing::TempDir dir("tailsweep-profile");
  const auto out = (dir / "cuda.json").string();
  const auto result =
      run_command(profile("--device cuda:0 --tokens 2,9,17 --batch 1,2 "
                          "--precision 0.2 --out " +
                          shell_quote(out)));
  if (!torch::cuda::is_available()) {
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_THAT(result.err, HasSubstr("--device cuda:0"));
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    return;
  }
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(tailsweep::testing::slurp(out));
  const auto& device = report.at("device");
  EXPECT_EQ(device.at("kind"), "cuda");
  EXPECT_EQ(device.at("simulated"), false);
  EXPECT_GT(device.at("gpu").at("sm_count").get<int>(), 0);
  EXPECT_EQ(device.at("gpu_after").at("uuid"), device.at("gpu").at("uuid"));
  // NVML power where the GPU has it; otherwise null with the reason.
  const auto& power = report.at("power");
  if (power.at("available").get<bool>()) {
    EXPECT_THAT(power.at("sensor").get<std::string>(), HasSubstr("NVML"));
  } else {
    EXPECT_FALSE(power.at("reason").get<std::string>().empty());
  }
  ASSERT_EQ(report.at("points").size(), 6u);
  for (const auto& point : report.at("points")) {
    EXPECT_GT(point.at("median_ms").get<double>(), 0.0);
  }
}

// 16 points of 0.4 s each (the precision is out of reach), stopped by
// SIGTERM once the progress lines show `progress_mark` (not a fixed delay,
// which a busy machine could spend before anything is measured).
nlohmann::json interrupted_profile(const std::string& protocol, const std::string& progress_mark) {
  tailsweep::testing::TempDir dir("tailsweep-profile-" + protocol);
  const auto out = dir / "partial.json";
  ::setenv("TAILSWEEP_PROGRESS", "lines", 1);
  tailsweep::testing::ChildProcess agent(
      {TAILSWEEP_AGENT_BIN, "profile", "--model",
       "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5", "--tokens", "2:17",
       "--protocol", protocol, "--precision", "0.0001", "--time-cap", "0.4", "--warmup", "0.05",
       "--out", out.string()},
      dir / "agent.log");
  ::unsetenv("TAILSWEEP_PROGRESS");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (tailsweep::testing::slurp(agent.log()).find(progress_mark) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  agent.signal(SIGTERM);
  EXPECT_TRUE(agent.wait_for_exit(std::chrono::seconds(10)));
  const std::string log = tailsweep::testing::slurp(agent.log());
  EXPECT_EQ(agent.exit_status(), 1) << log;
  EXPECT_THAT(log, HasSubstr("interrupted after"));
  const auto report = nlohmann::json::parse(tailsweep::testing::slurp(out));
  EXPECT_EQ(report.at("interrupted"), true);
  EXPECT_EQ(report.at("points_planned"), 16);
  for (const auto& point : report.at("points")) {
    EXPECT_EQ(point.at("samples").get<std::size_t>(), point.at("raw_ms").size());
  }
  return report;
}

TEST(ProfileCli, ASignalInBlocksKeepsThePointsFinished) {
  const nlohmann::json report = interrupted_profile("blocks", "[1/16]");
  EXPECT_GE(report.at("points").size(), 1u);
  EXPECT_LT(report.at("points").size(), 16u);
}

TEST(ProfileCli, ASignalInRoundsKeepsEveryPointWithWhatItHas) {
  // After the first round every point has a slice; none is done.
  const nlohmann::json report = interrupted_profile("rounds", "] round ");
  EXPECT_EQ(report.at("points").size(), 16u);
  for (const auto& point : report.at("points")) {
    EXPECT_EQ(point.at("reached_precision"), false);
    EXPECT_GE(point.at("rounds").get<int>(), 1);
  }
}

TEST(ProfileCli, BadInputGetsExitTwoAndOneLine) {
  tailsweep::testing::TempDir dir("tailsweep-profile");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {std::string(TAILSWEEP_AGENT_BIN) + " profile --model deit-huge --tokens 2,3",
       "unknown model 'deit-huge'"},
      {profile("--tokens 1:17"), "outside 2..17"},
      {profile("--tokens 2,18"), "18 is outside 2..17"},
      {profile("--tokens 2,9 --batch 0"), "--batch '0'"},
      {profile("--tokens 2,9 --precision 0"), "outside (0, 1)"},
      {profile("--tokens 2,9 --precision 1.5"), "outside (0, 1)"},
      {profile("--tokens 2,9 --device gpu"), "unknown device 'gpu'"},
      {profile("--tokens 2,9 --device sim:jetson-xavier"), "unknown simulated device"},
      {profile("--tokens 2,9 --mode layer"), "--mode 'layer'"},
      {profile("--tokens 2,9 --power-period -5"), "--power-period: -5 must be 0 or more"},
      {profile("--tokens 2,9 --min-samples 3"), "--min-samples"},
      {profile("--tokens 2,9 --out " + (dir / "no/such/dir/x.json").string()), "cannot write"},
  };
  for (const auto& [command, expected] : cases) {
    const auto result = run_command(command);
    EXPECT_EQ(result.exit_code, 2) << command;
    EXPECT_THAT(result.err, HasSubstr(expected)) << command;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

// A design-space architecture, as `tailsweep design sample --out` writes one.
void write_architecture(const std::filesystem::path& path, int heads) {
  std::ofstream(path) << nlohmann::json{
      {"input", "tokens"},
      {"sequence_length", 16},
      {"vocabulary", 100},
      {"layers",
       {{{"hidden", 32}, {"heads", heads}, {"operation", "sa_wma"}, {"feed_forward", {64}}},
        {{"hidden", 48}, {"heads", 4}, {"operation", "l_dft"}, {"feed_forward", {32, 96}}}}}};
}

TEST(ProfileCli, AnArchitectureIsTimedPerBatchWithItsCounts) {
  tailsweep::testing::TempDir dir("tailsweep-profile");
  write_architecture(dir / "arch.json", 4);
  const auto out = (dir / "result.json").string();
  const auto result =
      run_command(std::string(TAILSWEEP_AGENT_BIN) + " profile --arch " +
                  shell_quote((dir / "arch.json").string()) + kFast +
                  " --threads 1 --batch 1,2 --precision 0.2 --out " + shell_quote(out));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(tailsweep::testing::slurp(out));
  EXPECT_THAT(result.err,
              HasSubstr("wrote 2 point(s) of " + report.at("architecture_id").get<std::string>()));
  EXPECT_GT(report.at("parameters").get<double>(), 0);
  EXPECT_GT(report.at("flops_per_input").get<double>(), 0);
  ASSERT_EQ(report.at("points").size(), 2u);
  for (const auto& point : report.at("points")) {
    EXPECT_EQ(point.at("tokens"), 16);
    EXPECT_GT(point.at("median_ms").get<double>(), 0);
  }
}

TEST(ProfileCli, ArchitectureInputIsCheckedWithExitTwoAndOneLine) {
  tailsweep::testing::TempDir dir("tailsweep-profile");
  write_architecture(dir / "good.json", 4);
  write_architecture(dir / "bad.json", 3);
  std::ofstream(dir / "garbage.json") << "{\"layers\": [";
  const std::string agent = std::string(TAILSWEEP_AGENT_BIN) + " profile ";
  const std::string good = " --arch " + shell_quote((dir / "good.json").string());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {agent + "--arch " + shell_quote((dir / "bad.json").string()),
       "layers[0].heads: 3 heads do not divide hidden 32"},
      {agent + "--arch " + shell_quote((dir / "garbage.json").string()), "garbage.json"},
      {agent + "--arch " + shell_quote((dir / "absent.json").string()), "absent.json"},
      {agent + good + " --model deit-tiny", "--model excludes --arch"},
      {agent + good + " --tokens 2,16", "excludes"},
      {agent + good + " --mode block", "--mode block does not apply"},
      {agent + "--tokens 2,9", "--model is required"},
      {agent, "--tokens, --methods or --arch"},
  };
  for (const auto& [command, expected] : cases) {
    const auto result = run_command(command);
    EXPECT_EQ(result.exit_code, 2) << command;
    EXPECT_THAT(result.err, HasSubstr(expected)) << command;
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  }
}

}  // namespace
}  // namespace tailsweep::agent
