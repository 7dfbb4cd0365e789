#include "agent/engine/training_run.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/data/idx.h"
#include "agent/data/subset.h"
#include "agent/engine/image_data.h"
#include "agent/engine/runtime.h"
#include "agent/engine/vit_trainer.h"
#include "agent/engine/vit_weights.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/util/progress.h"
#include "common/util/sha256.h"
#include "tailsweep/build_info.h"

namespace tailsweep::agent {
namespace {

constexpr int kFashionMnistClasses = 10;

void write_log(const std::filesystem::path& path, const nlohmann::json& log) {
  std::ofstream file(path);
  file << log.dump(2) << "\n";
  if (!file) throw InputError(fmt::format("cannot write the training log {}", path.string()));
}

// A quick trial trains on `limit` images, the same number of each class.
TrainingData stratified_training_subset(TrainingData data, std::size_t limit, uint64_t seed) {
  if (limit == 0 || limit >= static_cast<std::size_t>(data.images.size(0))) return data;
  const at::Tensor labels32 = data.labels.to(at::kInt).contiguous();
  const std::vector<std::size_t> picked = datasets::stratified_subset(
      std::span<const int32_t>(labels32.data_ptr<int32_t>(),
                               static_cast<std::size_t>(labels32.numel())),
      kFashionMnistClasses, limit, seed);
  const at::Tensor indices =
      at::tensor(std::vector<int64_t>(picked.begin(), picked.end()), at::kLong);
  return {data.images.index_select(0, indices), data.labels.index_select(0, indices)};
}

}  // namespace

void run_training(const TrainRequest& options) {
  const VitConfig config = parse_model_spec(options.model);
  if (config.in_channels != 1 || config.image_size != 28 ||
      config.num_classes != kFashionMnistClasses) {
    throw InputError(fmt::format(
        "model {} takes {}x{}x{} images and {} classes; Fashion-MNIST needs 1x28x28 and 10 "
        "(use fmnist-vit or custom:...,image=28,channels=1,classes=10)",
        config.name, config.in_channels, config.image_size, config.image_size, config.num_classes));
  }
  const std::filesystem::path out = options.out;
  const std::filesystem::path log_path =
      options.log.empty() ? std::filesystem::path(out).replace_extension(".train.json")
                          : std::filesystem::path(options.log);
  const RuntimeInfo runtime = configure_runtime(options.threads);
  const TrainingData train = stratified_training_subset(
      training_data(datasets::read_fashion_mnist(options.data_dir, "train")), options.limit,
      options.settings.seed);
  const TrainingData test = training_data(datasets::read_fashion_mnist(options.data_dir, "test"));
  const TrainSettings& settings = options.settings;

  nlohmann::json log = {
      {"model", config.name},
      {"dataset",
       {{"name", "fashion-mnist"},
        {"dir", options.data_dir},
        {"train_images", train.images.size(0)},
        {"test_images", test.images.size(0)},
        {"train_limit",
         options.limit == 0 ? nlohmann::json(nullptr) : nlohmann::json(options.limit)}}},
      {"settings",
       {{"epochs", settings.epochs},
        {"batch", settings.batch},
        {"optimizer", "AdamW"},
        {"peak_lr", settings.peak_lr},
        {"warmup_epochs", settings.warmup_epochs},
        {"schedule", "cosine"},
        {"weight_decay", settings.weight_decay},
        {"label_smoothing", settings.label_smoothing},
        {"horizontal_flip", settings.horizontal_flip},
        {"seed", settings.seed}}},
      {"runtime", runtime},
      {"git_sha", build_info::kGitSha},
      {"epochs", nlohmann::json::array()},
  };
  fmt::print(stderr, "train: {} on {} Fashion-MNIST images, {} epochs of batch {}, {} threads\n",
             config.name, train.images.size(0), settings.epochs, settings.batch,
             runtime.intra_op_threads);

  // A fine-tuning run starts from earlier weights (recorded by hash); the
  // seed still fixes the order and the flips.
  VitWeights weights = options.init.empty() ? initial_training_weights(config, settings.seed)
                                            : load_weights(config, options.init);
  log["init"] = options.init.empty() ? nlohmann::json(nullptr)
                                     : nlohmann::json{{"weights", options.init},
                                                      {"sha256", file_sha256_hex(options.init)}};
  ProgressLine progress;
  const auto on_step = [&](int64_t step, int64_t total) {
    progress.update(static_cast<std::size_t>(step), static_cast<std::size_t>(total), "steps");
  };
  const auto on_epoch = [&](const EpochReport& report) {
    fmt::print(stderr,
               "{}epoch {}/{}: loss {:.4f}, train top-1 {:.4f}, test top-1 {:.4f}, "
               "lr {:.2e}, {:.0f}s\n",
               progress.enabled() ? "\n" : "", report.epoch, settings.epochs, report.train_loss,
               report.train_top1, report.test_top1, report.lr_end, report.elapsed.count());
    log["epochs"].push_back({{"epoch", report.epoch},
                             {"train_loss", report.train_loss},
                             {"train_top1", report.train_top1},
                             {"test_top1", report.test_top1},
                             {"lr_end", report.lr_end},
                             {"elapsed_s", report.elapsed.count()}});
    write_log(log_path, log);
  };
  train_vit(config, weights, train, &test, settings, on_step, on_epoch);

  save_weights(config, weights, out);
  log["weights"] = out.string();
  log["test_top1"] = log["epochs"].back()["test_top1"];
  log["elapsed_s"] = log["epochs"].back()["elapsed_s"];
  write_log(log_path, log);
  fmt::print(stderr, "train: wrote {} and {}\n", out.string(), log_path.string());
}

}  // namespace tailsweep::agent
