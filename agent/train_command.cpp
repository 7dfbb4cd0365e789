// tailsweep-agent train: trains a ViT on Fashion-MNIST from a seed and writes
// timm-named safetensors that every other command loads, plus a JSON log.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/commands.h"
#include "agent/image_data.h"
#include "agent/runtime.h"
#include "agent/vit_trainer.h"
#include "agent/vit_weights.h"
#include "common/errors.h"
#include "common/idx.h"
#include "common/model_config.h"
#include "common/progress.h"
#include "common/sha256.h"
#include "common/subset.h"
#include "tailsweep/build_info.h"
#include "common/cli_main.h"

namespace tailsweep::agent {
namespace {

constexpr int kFashionMnistClasses = 10;

struct TrainOptions {
  std::string model = "fmnist-vit";
  std::string data_dir = datasets::kFashionMnistDir;
  std::string out;
  std::string log;  // default: OUT with .train.json
  std::string init;  // start from these weights instead of a fresh initialisation
  int threads = 0;
  std::size_t limit = 0;  // 0: all 60,000 training images
  TrainSettings settings;
};

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

void run_train(TrainOptions options) {
  const VitConfig config = parse_model_spec(options.model);
  if (config.in_channels != 1 || config.image_size != 28 ||
      config.num_classes != kFashionMnistClasses) {
    throw InputError(fmt::format(
        "model {} takes {}x{}x{} images and {} classes; Fashion-MNIST needs 1x28x28 and 10 "
        "(use fmnist-vit or custom:...,image=28,channels=1,classes=10)",
        config.name, config.in_channels, config.image_size, config.image_size,
        config.num_classes));
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
      {"dataset", {{"name", "fashion-mnist"}, {"dir", options.data_dir},
                   {"train_images", train.images.size(0)}, {"test_images", test.images.size(0)},
                   {"train_limit", options.limit == 0 ? nlohmann::json(nullptr)
                                                      : nlohmann::json(options.limit)}}},
      {"settings", {{"epochs", settings.epochs}, {"batch", settings.batch},
                    {"optimizer", "AdamW"}, {"peak_lr", settings.peak_lr},
                    {"warmup_epochs", settings.warmup_epochs}, {"schedule", "cosine"},
                    {"weight_decay", settings.weight_decay},
                    {"label_smoothing", settings.label_smoothing},
                    {"horizontal_flip", settings.horizontal_flip}, {"seed", settings.seed}}},
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
  log["init"] = options.init.empty()
                    ? nlohmann::json(nullptr)
                    : nlohmann::json{{"weights", options.init},
                                     {"sha256", file_sha256_hex(options.init)}};
  ProgressLine progress;
  const auto on_step = [&](int64_t step, int64_t total) {
    progress.update(static_cast<std::size_t>(step), static_cast<std::size_t>(total), "steps");
  };
  const auto on_epoch = [&](const EpochReport& report) {
    fmt::print(stderr, "{}epoch {}/{}: loss {:.4f}, train top-1 {:.4f}, test top-1 {:.4f}, "
               "lr {:.2e}, {:.0f}s\n",
               progress.enabled() ? "\n" : "", report.epoch, settings.epochs, report.train_loss,
               report.train_top1, report.test_top1, report.lr_end, report.elapsed.count());
    log["epochs"].push_back({{"epoch", report.epoch}, {"train_loss", report.train_loss},
                             {"train_top1", report.train_top1}, {"test_top1", report.test_top1},
                             {"lr_end", report.lr_end}, {"elapsed_s", report.elapsed.count()}});
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

}  // namespace

void register_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* command = app.add_subcommand(
      "train",
      "Train a ViT on the 60,000 Fashion-MNIST training images from a seed (AdamW, warm-up "
      "then cosine), reporting test top-1 after every epoch; writes timm-named safetensors "
      "and a JSON training log.");
  command->add_option("--model", options->model, kModelSpecHelp)->capture_default_str();
  command->add_option("--data", options->data_dir,
                      "folder with Fashion-MNIST's IDX files (package dataset-fashion-mnist)")
      ->capture_default_str();
  command->add_option("--out", options->out, "safetensors file to write the weights to")
      ->required();
  command->add_option("--init", options->init,
                      "continue from these weights (timm-named safetensors of the same model)")
      ->check(CLI::ExistingFile);
  command->add_option("--log", options->log,
                      "training log (JSON; default: --out with extension .train.json)");
  command->add_option("--limit", options->limit,
                      "train on this many images, the same number of each class, chosen by "
                      "the seed (a quick trial; default all)")
      ->check(tailsweep::cli::kPositive);
  TrainSettings& s = options->settings;
  command->add_option("--epochs", s.epochs, "passes over the training set")
      ->capture_default_str()->check(tailsweep::cli::kPositive);
  command->add_option("--batch", s.batch, "images per optimiser step")
      ->capture_default_str()->check(CLI::Range(int64_t{1}, int64_t{60000}));
  command->add_option("--lr", s.peak_lr, "peak learning rate")
      ->capture_default_str()->check(tailsweep::cli::kPositive);
  command->add_option("--warmup-epochs", s.warmup_epochs, "linear warm-up length")
      ->capture_default_str()->check(tailsweep::cli::kNonNegative);
  command->add_option("--weight-decay", s.weight_decay, "AdamW decay of the matrices")
      ->capture_default_str()->check(tailsweep::cli::kNonNegative);
  command->add_option("--label-smoothing", s.label_smoothing, "cross-entropy label smoothing")
      ->capture_default_str()->check(CLI::Range(0.0, 0.99));
  command->add_flag("!--no-flip", s.horizontal_flip, "do not flip training images at random");
  command->add_option("--seed", s.seed, "seed of the initial weights, order and flips")
      ->capture_default_str();
  command->add_option("--threads", options->threads, "compute threads (0 = one per core)")
      ->capture_default_str()->check(tailsweep::cli::kNonNegative);
  command->callback([options] { run_train(*options); });
}

}  // namespace tailsweep::agent
