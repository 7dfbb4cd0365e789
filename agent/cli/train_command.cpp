// tailsweep-agent train: trains a ViT on Fashion-MNIST from a seed and writes
// timm-named safetensors that every other command loads, plus a JSON log
// (agent/engine/training_run.h does the work).
#include "agent/cli/commands.h"
#include "agent/engine/training_run.h"
#include "common/model/model_config.h"
#include "common/util/cli_main.h"

namespace tailsweep::agent {

void register_train_command(CLI::App& app) {
  auto options = std::make_shared<TrainRequest>();
  CLI::App* command = app.add_subcommand(
      "train",
      "Train a ViT on the 60,000 Fashion-MNIST training images from a seed (AdamW, warm-up "
      "then cosine), reporting test top-1 after every epoch; writes timm-named safetensors "
      "and a JSON training log.");
  command->footer(
      "Example:\n  tailsweep-agent train --model fmnist-vit --out W.safetensors --epochs 10");
  command->add_option("--model", options->model, kModelSpecHelp)->capture_default_str();
  command
      ->add_option("--data", options->data_dir,
                   "folder with Fashion-MNIST's IDX files (package dataset-fashion-mnist)")
      ->capture_default_str();
  command->add_option("--out", options->out, "safetensors file to write the weights to")
      ->required();
  command
      ->add_option("--init", options->init,
                   "continue from these weights (timm-named safetensors of the same model)")
      ->check(CLI::ExistingFile);
  command->add_option("--log", options->log,
                      "training log (JSON; default: --out with extension .train.json)");
  command
      ->add_option("--limit", options->limit,
                   "train on this many images, the same number of each class, chosen by "
                   "the seed (a quick trial; default all)")
      ->check(tailsweep::cli::kPositive);
  TrainSettings& s = options->settings;
  command->add_option("--epochs", s.epochs, "passes over the training set")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  command->add_option("--batch", s.batch, "images per optimiser step")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{60000}));
  command->add_option("--lr", s.peak_lr, "peak learning rate")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  command->add_option("--warmup-epochs", s.warmup_epochs, "linear warm-up length")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  command->add_option("--weight-decay", s.weight_decay, "AdamW decay of the matrices")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  command->add_option("--label-smoothing", s.label_smoothing, "cross-entropy label smoothing")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.99));
  command->add_flag("!--no-flip", s.horizontal_flip, "do not flip training images at random");
  command->add_option("--seed", s.seed, "seed of the initial weights, order and flips")
      ->capture_default_str();
  command->add_option("--threads", options->threads, "compute threads (0 = one per core)")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  command->callback([options] { run_training(*options); });
}

}  // namespace tailsweep::agent
