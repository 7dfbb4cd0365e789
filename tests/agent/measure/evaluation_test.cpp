// Training, datasets and evaluation on data the tests write, where the
// answer is known.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#ifdef TAILSWEEP_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

#include <cmath>

#include <nlohmann/json.hpp>

#include "../../support/idx_files.h"
#include "../../support/temp_dir.h"
#include "agent/data/idx.h"
#include "agent/engine/eval_dataset.h"
#include "agent/engine/image_data.h"
#include "agent/engine/vit_model.h"
#include "agent/engine/vit_trainer.h"
#include "agent/engine/vit_weights.h"
#include "agent/measure/evaluation.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

using ::testing::HasSubstr;

// Small enough to train in seconds, but on the real 28x28 / 2x2 grid.
constexpr const char* kTinyModel =
    "custom:dim=16,depth=1,heads=2,mlp=2,patch=2,image=28,channels=1,classes=10";

std::string error_of(const std::function<void()>& run) {
  try {
    run();
  } catch (const InputError& error) {
    return error.what();
  }
  return "no error";
}

class BandDataset : public ::testing::Test {
 protected:
  void SetUp() override {
    tailsweep::testing::write_band_split(dir_.path(), "train", 600);
    tailsweep::testing::write_band_split(dir_.path(), "t10k", 200);
  }
  tailsweep::testing::TempDir dir_{"tailsweep-bands"};
};

// Training learns the bands; the engine then scores the trained weights
// exactly as the autograd model that trained them.
TEST_F(BandDataset, TrainingLearnsAndTheEngineAgreesWithTheTrainer) {
  const VitConfig config = parse_model_spec(kTinyModel);
  const TrainingData train = training_data(datasets::read_fashion_mnist(dir_.path(), "train"));
  const TrainingData test = training_data(datasets::read_fashion_mnist(dir_.path(), "test"));
  VitWeights weights = initial_training_weights(config, 1);
  const double before = training_model_top1(config, weights, test, 100);
  TrainSettings settings;
  settings.epochs = 10;
  settings.batch = 50;
  settings.peak_lr = 1e-2;
  settings.warmup_epochs = 0.5;
  settings.seed = 1;
  int epochs_reported = 0;
  int64_t last_step = 0;
  train_vit(
      config, weights, train, &test, settings,
      [&](int64_t step, int64_t total) {
        EXPECT_EQ(step, last_step + 1);
        EXPECT_EQ(total, 10 * 12);
        last_step = step;
      },
      [&](const EpochReport& report) { epochs_reported = report.epoch; });
  EXPECT_EQ(epochs_reported, 10);
  const double after = training_model_top1(config, weights, test, 100);
  EXPECT_LT(before, 0.5);
  EXPECT_GE(after, 0.9);

  const auto path = dir_.path() / "tiny.safetensors";
  save_weights(config, weights, path);
  EvalRequest request;
  request.run.model = kTinyModel;
  request.run.weights = path.string();
  request.dataset = "fashion-mnist:" + dir_.path().string();
  request.batch = 32;
  request.latency_time_cap_s = 0.5;
  const nlohmann::json result = run_evaluation(request);
  EXPECT_EQ(result["kind"], "eval");
  EXPECT_EQ(result["images"], 200);
  EXPECT_NEAR(result["top1"].get<double>(), after, 1e-9);
  EXPECT_GE(result["top5"].get<double>(), result["top1"].get<double>());
  EXPECT_EQ(result["weights_sha256"].get<std::string>().size(), 64u);
  EXPECT_GT(result["latency"]["median_ms"].get<double>(), 0.0);
  EXPECT_EQ(result["latency"]["batch"], 32);
  // What the agent wrote, the coordinator reads strictly and writes back the same.
  EXPECT_EQ(protocol::to_json(protocol::parse_eval_body(result)), result);

  // A(n): with CLS and one random patch the bands are mostly invisible.
  request.tokens = {2, 197};
  request.limit = 100;
  const nlohmann::json curve = run_evaluation(request);
  EXPECT_EQ(curve["kind"], "accuracy_curve");
  ASSERT_EQ(curve["points"].size(), 2u);
  EXPECT_EQ(curve["points"][1]["tokens"], 197);
  EXPECT_EQ(curve["points"][1]["images"], 100);
  EXPECT_LT(curve["points"][0]["top1"].get<double>(), curve["points"][1]["top1"].get<double>());
  EXPECT_EQ(protocol::to_json(protocol::parse_accuracy_curve_body(curve)), curve);
}

TEST_F(BandDataset, EveryMethodRunsAndALimitIsStratified) {
  for (const char* method : {"none", "random:100", "topk:20", "pomt:60@0", "tome:8", "tome:[4]"}) {
    EvalRequest request;
    request.run.model = kTinyModel;
    request.dataset = "fashion-mnist:" + dir_.path().string();
    request.method = method;
    request.limit = 30;
    request.batch = 16;
    request.latency_time_cap_s = 0.2;
    const nlohmann::json result = run_evaluation(request);
    EXPECT_EQ(result["images"], 30) << method;
    EXPECT_EQ(result["method"], method) << method;
    EXPECT_TRUE(result["weights_sha256"].is_null());
  }
}

TEST_F(BandDataset, BadRequestsAreRefusedWithAReason) {
  EvalRequest request;
  request.run.model = kTinyModel;
  request.dataset = "fashion-mnist:" + dir_.path().string();
  request.split = "validation";
  EXPECT_THAT(error_of([&] { run_evaluation(request); }), HasSubstr("validation"));
  request.split = "test";
  request.run.model = "deit-tiny";
  EXPECT_THAT(error_of([&] { run_evaluation(request); }), HasSubstr("1x28x28"));
  request.run.model = kTinyModel;
  request.method = "random:300";
  EXPECT_THAT(error_of([&] { run_evaluation(request); }), HasSubstr("random:300"));
  request.method = "none";
  request.dataset = "cifar";
  EXPECT_THAT(error_of([&] { run_evaluation(request); }), HasSubstr("unknown dataset"));
  request.dataset = "fashion-mnist:/nonexistent";
  EXPECT_THAT(error_of([&] { run_evaluation(request); }), HasSubstr("dataset-fashion-mnist"));
}

#ifdef TAILSWEEP_HAVE_OPENCV
// ImageNet-style folders, written by the test with OpenCV.
class ImageFolderTest : public ::testing::Test {
 protected:
  void write_image(const std::string& relative, int rows, int cols, cv::Scalar bgr,
                   const std::string& extension = ".png") {
    const auto path = dir_.path() / (relative + extension);
    std::filesystem::create_directories(path.parent_path());
    ASSERT_TRUE(cv::imwrite(path.string(), cv::Mat(rows, cols, CV_8UC3, bgr)));
  }
  VitConfig model(int classes) const {
    return parse_model_spec(
        fmt::format("custom:dim=16,depth=1,heads=2,patch=8,image=32,classes={}", classes));
  }
  std::string spec() const { return "imagenet-folder:" + dir_.path().string(); }
  tailsweep::testing::TempDir dir_{"tailsweep-folder"};
};

TEST_F(ImageFolderTest, ClassesAreSortedFoldersAndPixelsFollowTimmsTransform) {
  // Pure red, in BGR; a non-square image so the resize and crop both act.
  write_image("b_red/one", 40, 60, cv::Scalar(0, 0, 255));
  write_image("a_green/x/nested", 50, 35, cv::Scalar(0, 255, 0), ".jpg");
  write_image("a_green/two", 33, 33, cv::Scalar(0, 255, 0));
  { std::ofstream(dir_.path() / "b_red" / "notes.txt") << "not an image"; }
  const auto dataset = open_eval_dataset(spec(), "", model(2));
  EXPECT_EQ(dataset->classes(), 2);
  EXPECT_THAT(dataset->labels(), ::testing::ElementsAre(0, 0, 1));

  const std::vector<std::size_t> red = {2};
  const at::Tensor image = dataset->load(red);
  ASSERT_EQ(image.sizes(), (at::IntArrayRef{1, 3, 32, 32}));
  // A flat image stays flat through resize and crop: (x / 255 - mean) / std.
  EXPECT_NEAR(image[0][0].min().item<float>(), (1.0f - 0.485f) / 0.229f, 1e-5);
  EXPECT_NEAR(image[0][0].max().item<float>(), (1.0f - 0.485f) / 0.229f, 1e-5);
  EXPECT_NEAR(image[0][1].max().item<float>(), (0.0f - 0.456f) / 0.224f, 1e-5);
  EXPECT_NEAR(image[0][2].max().item<float>(), (0.0f - 0.406f) / 0.225f, 1e-5);
}

TEST_F(ImageFolderTest, BrokenFoldersAndFilesAreNamed) {
  EXPECT_THAT(error_of([&] { open_eval_dataset(spec(), "", model(2)); }),
              HasSubstr("no class sub-folders"));
  write_image("a/fine", 40, 40, cv::Scalar(1, 2, 3));
  write_image("b/fine", 40, 40, cv::Scalar(1, 2, 3));
  EXPECT_THAT(error_of([&] { open_eval_dataset(spec(), "", model(3)); }),
              HasSubstr("has 2 classes but model"));
  { std::ofstream(dir_.path() / "b" / "broken.jpg") << "this is not a JPEG"; }
  const auto dataset = open_eval_dataset(spec(), "", model(2));
  const std::vector<std::size_t> broken = {1};  // sorted: b/broken.jpg before b/fine.png
  EXPECT_THAT(error_of([&] { dataset->load(broken); }), HasSubstr("broken.jpg"));
  EXPECT_THAT(error_of([&] { open_eval_dataset("imagenet-folder:/nonexistent", "", model(2)); }),
              HasSubstr("not a folder"));
}
#endif  // TAILSWEEP_HAVE_OPENCV

}  // namespace
}  // namespace tailsweep::agent
