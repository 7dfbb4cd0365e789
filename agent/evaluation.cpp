#include "agent/evaluation.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>
#include <numeric>
#include <nlohmann/json.hpp>

#include "agent/compute_device.h"
#include "agent/eval_dataset.h"
#include "agent/runtime.h"
#include "agent/vit_model.h"
#include "agent/vit_weights.h"
#include "common/device_facts.h"
#include "common/errors.h"
#include "common/method_spec.h"
#include "common/model_config.h"
#include "common/profile_plan.h"
#include "common/sha256.h"
#include "common/statistics.h"
#include "common/subset.h"
#include "tailsweep/build_info.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;

struct Tally {
  int64_t top1 = 0;
  int64_t top5 = 0;
  int64_t images = 0;
};

void count_correct(const at::Tensor& logits, const at::Tensor& labels, Tally& tally) {
  const int64_t k = std::min<int64_t>(5, logits.size(1));
  const at::Tensor top = std::get<1>(logits.topk(k, 1));
  const at::Tensor hits = top.eq(labels.unsqueeze(1));
  tally.top1 += hits.select(1, 0).sum().item<int64_t>();
  tally.top5 += hits.any(1).sum().item<int64_t>();
  tally.images += logits.size(0);
}

double fraction(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The forward pass of one configuration, timed to a stated precision like a
// profile point: a few untimed passes, then repeats until the median's 95%
// CI is within `precision` or the time cap.
nlohmann::json measure_latency(const VitModel& model, const ComputeDevice& device,
                               const at::Tensor& images, const MethodSpec& method,
                               const EvalRequest& request) {
  const StoppingRule rule{request.latency_precision, 10,
                          std::chrono::duration<double>(request.latency_time_cap_s), false};
  for (int i = 0; i < 3; ++i) model.forward(images, method, {request.run.seed});
  std::vector<double> samples_ms;
  const auto started = Clock::now();
  StopReason stop = StopReason::kContinue;
  while (stop == StopReason::kContinue) {
    device.synchronize();
    const auto before = Clock::now();
    const at::Tensor logits = model.forward(images, method, {request.run.seed});
    device.synchronize();
    samples_ms.push_back(Milliseconds(Clock::now() - before).count());
    stop = should_stop(samples_ms, Clock::now() - started, rule);
  }
  const stats::Summary s = stats::summarize(samples_ms);
  return {{"batch", images.size(0)},
          {"median_ms", s.median},
          {"p5_ms", s.p5},
          {"p95_ms", s.p95},
          {"mean_ms", s.mean},
          {"stddev_ms", s.stddev},
          {"median_ci95_relative_half_width", s.median_ci_relative_half_width},
          {"samples", s.count},
          {"stable", s.stable},
          {"reached_precision", stop == StopReason::kPrecisionReached},
          {"per_image_ms", s.median / static_cast<double>(images.size(0))}};
}

at::Tensor labels_tensor(const std::vector<int32_t>& labels, std::span<const std::size_t> indices) {
  at::Tensor out = at::empty({static_cast<int64_t>(indices.size())}, at::kLong);
  int64_t* data = out.data_ptr<int64_t>();
  for (std::size_t i = 0; i < indices.size(); ++i) data[i] = labels[indices[i]];
  return out;
}

}  // namespace

nlohmann::json run_evaluation(const EvalRequest& request, const EvalProgress& progress) {
  const VitConfig config = parse_model_spec(request.run.model);
  if (request.batch < 1) throw InputError(fmt::format("batch {} must be at least 1", request.batch));
  if (request.limit < 0) throw InputError(fmt::format("limit {} must be >= 0", request.limit));
  const bool curve = !request.tokens_grid.empty();
  std::vector<MethodSpec> methods;
  std::vector<int64_t> grid;
  if (curve) {
    grid = parse_token_grid(request.tokens_grid, config.total_tokens());
    for (const int64_t n : grid) methods.push_back(parse_method_spec(fmt::format("random:{}", n)));
  } else {
    methods.push_back(parse_method_spec(request.method));
  }
  for (const MethodSpec& method : methods) validate_for_model(method, config);

  const auto started_at = std::chrono::system_clock::now();
  const auto started = Clock::now();
  const ComputeDevice device(parse_device_spec(request.device));
  const RuntimeInfo runtime = configure_runtime(request.run.threads);
  const std::string weights_sha256 =
      request.run.weights.empty() ? std::string() : file_sha256_hex(request.run.weights);
  const VitModel model(config, load_or_random_weights(config, request.run.weights, request.run.seed),
                       device.torch_device());
  const std::unique_ptr<EvalDataset> dataset =
      open_eval_dataset(request.dataset, request.split, config);
  std::vector<std::size_t> indices;
  if (request.limit > 0) {
    indices = datasets::stratified_subset(dataset->labels(), dataset->classes(),
                                          static_cast<std::size_t>(request.limit), request.run.seed);
  } else {
    indices.resize(dataset->labels().size());
    std::iota(indices.begin(), indices.end(), std::size_t{0});
  }

  // Batches outside, methods inside: each batch is decoded once however many
  // grid points there are.
  const c10::InferenceMode inference;
  std::vector<Tally> tallies(methods.size());
  const std::span<const std::size_t> all(indices);
  for (std::size_t begin = 0; begin < all.size(); begin += static_cast<std::size_t>(request.batch)) {
    const auto chunk = all.subspan(begin, std::min<std::size_t>(request.batch, all.size() - begin));
    const at::Tensor images = dataset->load(chunk).to(device.torch_device());
    const at::Tensor labels = labels_tensor(dataset->labels(), chunk).to(device.torch_device());
    for (std::size_t m = 0; m < methods.size(); ++m) {
      // A different draw for every batch, the same for a given seed.
      const ForwardOptions options{request.run.seed + begin};
      count_correct(model.forward(images, methods[m], options), labels, tallies[m]);
    }
    if (progress) progress(begin + chunk.size(), all.size());
  }
  const double accuracy_s = std::chrono::duration<double>(Clock::now() - started).count();

  nlohmann::json result = {
      {"tool", "tailsweep-agent eval"},
      {"kind", curve ? "accuracy_curve" : "eval"},
      {"version", build_info::kVersion},
      {"git_sha", build_info::kGitSha},
      {"build_type", build_info::kBuildType},
      {"started_at",
       fmt::format("{:%FT%TZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(started_at)))},
      {"model", config.name},
      {"weights", request.run.weights_label()},
      {"weights_sha256", weights_sha256.empty() ? nlohmann::json(nullptr)
                                                : nlohmann::json(weights_sha256)},
      {"dataset", dataset->name()},
      {"split", dataset->split()},
      {"limit", request.limit > 0 ? nlohmann::json(request.limit) : nlohmann::json(nullptr)},
      {"seed", request.run.seed},
      {"batch", request.batch},
      {"images", indices.size()},
      {"device", device.describe(runtime, read_host_facts())},
  };
  if (curve) {
    result["method"] = "random";
    nlohmann::json points = nlohmann::json::array();
    for (std::size_t m = 0; m < methods.size(); ++m) {
      points.push_back({{"tokens", grid[m]},
                        {"method", to_string(methods[m])},
                        {"top1", fraction(tallies[m].top1, tallies[m].images)},
                        {"top5", fraction(tallies[m].top5, tallies[m].images)},
                        {"images", tallies[m].images}});
    }
    result["points"] = std::move(points);
  } else {
    result["method"] = to_string(methods.front());
    result["top1"] = fraction(tallies.front().top1, tallies.front().images);
    result["top5"] = fraction(tallies.front().top5, tallies.front().images);
    const auto first = all.first(std::min<std::size_t>(request.batch, all.size()));
    result["latency"] = measure_latency(model, device, dataset->load(first).to(device.torch_device()),
                                        methods.front(), request);
  }
  result["images_per_s"] =
      static_cast<double>(indices.size() * methods.size()) / std::max(accuracy_s, 1e-9);
  result["elapsed_s"] = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace tailsweep::agent
