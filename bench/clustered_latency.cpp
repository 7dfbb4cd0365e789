// tailsweep-bench-clustered: what weight clustering does to latency on this
// machine, paired. One process holds three models of the same network:
//   dense    the float32 weights given (or random from the seed)
//   decoded  the same weights clustered to k values, decoded at load
//            (the dense kernel: same work as dense, so its ratio is the
//            control and must come out near 1.00)
//   lookup   the clustered weights read through the lookup GEMM
//            (agent/engine/codebook_gemm.h: one byte per weight)
// Each round visits the three in a fresh order and takes a slice of each
// (>= --slice seconds and >= 3 passes); a model's change is the median over
// rounds of its slice median over dense's in the same round, with the
// distribution-free 95% CI of that median. Prints one markdown table.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <random>

#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "agent/data/clustered_weights.h"
#include "agent/engine/codebook_gemm.h"
#include "agent/engine/runtime.h"
#include "agent/engine/vit_model.h"
#include "agent/engine/vit_weights.h"
#include "analysis/statistics.h"
#include "common/util/cli_main.h"
#include "common/util/parse.h"

namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;
using namespace tailsweep;

struct Options {
  std::string model = "deit-small";
  std::string weights;  // empty: random from seed 0
  int clusters = 64;
  std::string batches = "1,64";
  int rounds = 12;
  double slice_s = 0.2;
  int threads = 0;
};

double slice_median_ms(const agent::VitModel& model, const at::Tensor& images, double slice_s) {
  model.forward(images, MethodSpec{});  // the other model ran last: re-warm
  std::vector<double> samples;
  const auto start = Clock::now();
  while (samples.size() < 3 ||
         std::chrono::duration<double>(Clock::now() - start).count() < slice_s) {
    const auto before = Clock::now();
    model.forward(images, MethodSpec{});
    samples.push_back(Milliseconds(Clock::now() - before).count());
  }
  return stats::summarize(samples).median;
}

std::string change(const std::vector<double>& ratios) {
  const stats::Summary s = stats::summarize(ratios);
  return fmt::format("{:+.1f}% [{:+.1f}, {:+.1f}]", 100 * (s.median - 1),
                     100 * (s.median_ci_low - 1), 100 * (s.median_ci_high - 1));
}

void run(const Options& options) {
  const VitConfig config = parse_model_spec(options.model);
  const agent::RuntimeInfo runtime = agent::configure_runtime(options.threads);
  const agent::VitWeights dense = agent::load_or_random_weights(config, options.weights, 0);
  const clustering::ClusteredFile clustered = clustering::cluster_file(
      agent::weights_file(config, dense), {.clusters = static_cast<std::size_t>(options.clusters)});
  const std::string path = (std::filesystem::temp_directory_path() /
                            fmt::format("tailsweep-bench-clustered-{}.safetensors", getpid()))
                               .string();
  safetensors::write_file(path, clustered.file);
  const agent::VitWeights loaded = agent::load_weights(config, path);
  std::remove(path.c_str());

  const agent::VitModel dense_model(config, dense);
  const agent::VitModel decoded_model(config, loaded);
  const agent::VitModel lookup_model(config, loaded, at::kCPU, agent::WeightKernel::kLookup);
  const std::vector<const agent::VitModel*> models{&dense_model, &decoded_model, &lookup_model};

  // Weight bytes one forward pass reads: every parameter once; the lookup
  // model reads its blocks' matrices as one byte a weight plus a codebook.
  std::size_t dense_bytes = 0, lookup_bytes = 0;
  agent::for_each_parameter(
      config, dense,
      [&](const std::string& name, const std::vector<int64_t>&, const at::Tensor& tensor) {
        const auto numel = static_cast<std::size_t>(tensor.numel());
        dense_bytes += 4 * numel;
        const bool looked_up = name.rfind("blocks.", 0) == 0 && loaded.clustered.contains(name);
        lookup_bytes +=
            looked_up ? numel + 4 * loaded.clustered.at(name).codebook.numel() : 4 * numel;
      });

  fmt::print("\n### Clustered weights ({} values a tensor), {}, paired latency on this CPU\n\n",
             options.clusters, config.name);
  fmt::print(
      "{} threads, GEMM {}, lookup kernel {}; weight bytes read per pass: dense {:.1f} MB, "
      "lookup {:.1f} MB ({:.2f}x fewer); file {:.1f} MB -> {:.1f} MB\n\n",
      runtime.intra_op_threads, runtime.gemm_backend, agent::codebook_gemm_kernel(),
      dense_bytes / 1e6, lookup_bytes / 1e6,
      static_cast<double>(dense_bytes) / static_cast<double>(lookup_bytes),
      clustered.dense_bytes / 1e6, clustered.clustered_bytes / 1e6);
  fmt::print(
      "| batch | dense ms | decoded ms | lookup ms | decoded vs dense (control) | lookup vs "
      "dense | rounds |\n|---|---|---|---|---|---|---|\n");
  std::mt19937 shuffle_rng(12345);
  for (const auto part : split(options.batches, ',')) {
    const int64_t batch = parse_integer(std::string(part)).value_or(0);
    if (batch < 1) throw InputError(fmt::format("--batches: '{}' is not a batch size", part));
    const at::Tensor images =
        at::randn({batch, config.in_channels, config.image_size, config.image_size});
    for (const auto* model : models) slice_median_ms(*model, images, options.slice_s);  // warm up
    std::vector<std::vector<double>> medians(models.size());
    std::vector<std::size_t> order{0, 1, 2};
    for (int round = 0; round < options.rounds; ++round) {
      std::shuffle(order.begin(), order.end(), shuffle_rng);
      for (const std::size_t i : order) {
        medians[i].push_back(slice_median_ms(*models[i], images, options.slice_s));
      }
      fmt::print(stderr, "batch {}: round {} of {}\n", batch, round + 1, options.rounds);
    }
    std::vector<double> decoded_ratio, lookup_ratio;
    for (int round = 0; round < options.rounds; ++round) {
      decoded_ratio.push_back(medians[1][round] / medians[0][round]);
      lookup_ratio.push_back(medians[2][round] / medians[0][round]);
    }
    fmt::print("| {} | {:.2f} | {:.2f} | {:.2f} | {} | {} | {} |\n", batch,
               stats::summarize(medians[0]).median, stats::summarize(medians[1]).median,
               stats::summarize(medians[2]).median, change(decoded_ratio), change(lookup_ratio),
               options.rounds);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Paired latency of dense, decoded-clustered and lookup-clustered weights",
               "tailsweep-bench-clustered"};
  app.add_option("--model", options.model)->capture_default_str();
  app.add_option("--weights", options.weights, "dense safetensors (default: random, seed 0)");
  app.add_option("--clusters", options.clusters)->capture_default_str()->check(CLI::Range(2, 256));
  app.add_option("--batches", options.batches)->capture_default_str();
  app.add_option("--rounds", options.rounds)->capture_default_str()->check(CLI::Range(6, 1000));
  app.add_option("--slice", options.slice_s, "seconds a model per round")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  app.add_option("--threads", options.threads, "0 = one per core")->capture_default_str();
  app.callback([&] { run(options); });
  return tailsweep::run_cli(app, argc, argv, "tailsweep-bench-clustered");
}
