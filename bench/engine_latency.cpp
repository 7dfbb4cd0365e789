// tailsweep-bench-engine: forward-pass latency of the engine, one JSON line
// per method, with the same protocol as bench/pytorch_vit.py (warm-up by
// time, then interleaved rounds over the methods in shuffled order). Driven by
// bench/engine_vs_pytorch.py, which runs both in the same session.
#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

#include <ATen/ATen.h>
#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/engine/runtime.h"
#include "agent/engine/vit_model.h"
#include "analysis/statistics.h"
#include "common/model/token_schedule.h"
#include "common/util/cli_main.h"
#include "common/util/parse.h"

namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;

struct Options {
  std::string model = "deit-tiny";
  std::string methods = "none";
  int64_t batch = 1;
  int threads = 0;
  double warmup_s = 1.0;
  double min_time_s = 2.0;
  int min_samples = 10;
  int rounds = 5;
};

template <typename Fn>
void time_chunk(Fn&& fn, double seconds, int min_samples, std::vector<double>& samples_ms) {
  fn();  // re-warm caches after the previous method
  const auto start = Clock::now();
  int taken = 0;
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds ||
         taken < min_samples) {
    const auto before = Clock::now();
    fn();
    samples_ms.push_back(Milliseconds(Clock::now() - before).count());
    ++taken;
  }
}

double median(const std::vector<double>& values) {
  return tailsweep::stats::summarize(values).median;
}

void run(const Options& options) {
  using namespace tailsweep;
  const VitConfig config = parse_model_spec(options.model);
  const agent::RuntimeInfo runtime = agent::configure_runtime(options.threads);
  const agent::VitModel model(config, agent::random_weights(config, 0));
  const at::Tensor images =
      at::randn({options.batch, config.in_channels, config.image_size, config.image_size});
  std::vector<std::string> specs;
  for (std::string& part : split_method_list(options.methods)) specs.push_back(std::move(part));
  std::vector<MethodSpec> methods;
  for (const auto& spec : specs) {
    methods.push_back(parse_method_spec(spec));
    validate_for_model(methods.back(), config);
  }
  // Warm-up by time, then rounds that visit every method in a fresh random
  // order, so slow phases of a shared machine spread over all methods.
  const auto warm_until = Clock::now() + std::chrono::duration<double>(options.warmup_s);
  while (Clock::now() < warm_until) model.forward(images, methods.front());
  std::vector<std::vector<double>> samples(methods.size());
  std::vector<std::vector<double>> round_medians(methods.size());
  std::vector<std::size_t> order(methods.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 shuffle_rng(12345);
  const int rounds = std::max(1, options.rounds);
  for (int round = 0; round < rounds; ++round) {
    std::shuffle(order.begin(), order.end(), shuffle_rng);
    for (const std::size_t i : order) {
      std::vector<double> chunk;
      time_chunk([&] { model.forward(images, methods[i]); }, options.min_time_s / rounds,
                 std::max(1, options.min_samples / rounds), chunk);
      round_medians[i].push_back(median(chunk));
      samples[i].insert(samples[i].end(), chunk.begin(), chunk.end());
    }
  }
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const TokenSchedule schedule = token_schedule(methods[i], config);
    fmt::print("{}\n",
               nlohmann::json{
                   {"impl", "tailsweep"},
                   {"model", config.name},
                   {"method", specs[i]},
                   {"batch", options.batch},
                   {"threads", runtime.intra_op_threads},
                   {"blas", runtime.blas_config},
                   {"gemm", runtime.gemm_backend},
                   {"gflop", config.forward_flops(options.batch, schedule.tokens_into_block) / 1e9},
                   {"median_ms", median(samples[i])},
                   {"round_medians_ms", round_medians[i]},
                   {"samples_ms", samples[i]}}
                   .dump());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Engine forward-pass latency per method (JSON lines)", "tailsweep-bench-engine"};
  app.add_option("--model", options.model)->capture_default_str();
  app.add_option("--methods", options.methods,
                 "method specs, comma-separated (none,topk:8,hdp:heads=0.1,blocks=0.5)")
      ->capture_default_str();
  app.add_option("--batch", options.batch)->capture_default_str()->check(tailsweep::cli::kPositive);
  app.add_option("--threads", options.threads, "0 = one per core")->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "seconds")->capture_default_str();
  app.add_option("--min-time", options.min_time_s, "seconds per method")->capture_default_str();
  app.add_option("--min-samples", options.min_samples, "per method, over all rounds")
      ->capture_default_str();
  app.add_option("--rounds", options.rounds, "interleaved rounds over the methods")
      ->capture_default_str()
      ->check(tailsweep::cli::kPositive);
  app.callback([&] { run(options); });
  return tailsweep::run_cli(app, argc, argv, "tailsweep-bench-engine");
}
