#include "agent/measure/evaluation.h"

#include <chrono>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/data/subset.h"
#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/engine/accuracy_session.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/runtime.h"
#include "agent/measure/provenance.h"
#include "agent/measure/sampling.h"
#include "analysis/profile_plan.h"
#include "analysis/statistics.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/util/sha256.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;

double fraction(int64_t part, int64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// The forward pass of one configuration on its first batch of images,
// timed to a stated precision like a profile point: a few untimed passes,
// then the shared timing loop (sampling.h).
protocol::EvalLatencyBody measure_latency(AccuracySession& session,
                                          std::span<const std::size_t> images,
                                          const MethodSpec& method, const EvalRequest& request) {
  const StoppingRule rule{request.latency_precision, 10,
                          std::chrono::duration<double>(request.latency_time_cap_s), false};
  session.stage_for_timing(images);
  for (int i = 0; i < 3; ++i) session.time_forward(method, request.run.seed);
  const std::optional<Sampled> sampled = sample_until_stop(
      [&] { return session.time_forward(method, request.run.seed).count(); }, rule,
      request.interrupt);
  if (!sampled) throw Interrupted("evaluation stopped before its latency was measured");
  const stats::Summary s = stats::summarize(sampled->samples_ms);
  protocol::EvalLatencyBody latency;
  latency.batch = static_cast<int64_t>(images.size());
  latency.median_ms = s.median;
  latency.p5_ms = s.p5;
  latency.p95_ms = s.p95;
  latency.mean_ms = s.mean;
  latency.stddev_ms = s.stddev;
  if (s.has_median_ci) latency.median_ci95_relative_half_width = s.median_ci_relative_half_width;
  latency.samples = s.count;
  latency.stable = s.stable;
  latency.reached_precision = sampled->stop == StopReason::kPrecisionReached;
  latency.per_image_ms = s.median / static_cast<double>(latency.batch);
  return latency;
}

// Which images an evaluation used: the same for every eval of the same
// dataset, split, limit and seed, whatever the method or device.
std::string images_sha256(const std::string& dataset, const std::string& split,
                          const std::vector<std::size_t>& indices) {
  std::string text = dataset + "/" + split + ":";
  for (const std::size_t index : indices) text += fmt::format("{},", index);
  return sha256_hex(text);
}

}  // namespace

nlohmann::json run_evaluation(const EvalRequest& request, const EvalProgress& progress) {
  const VitConfig config = parse_model_spec(request.run.model);
  if (request.batch < 1)
    throw InputError(fmt::format("batch {} must be at least 1", request.batch));
  if (request.limit < 0) throw InputError(fmt::format("limit {} must be >= 0", request.limit));
  const bool curve = !request.tokens.empty();
  std::vector<MethodSpec> methods;
  std::vector<int64_t> grid;
  if (curve) {
    grid = checked_token_counts(request.tokens, config.total_tokens());
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
  AccuracySession session(config, request.run, device, request.dataset, request.split);
  std::vector<std::size_t> indices;
  if (request.limit > 0) {
    indices =
        datasets::stratified_subset(session.labels(), session.classes(),
                                    static_cast<std::size_t>(request.limit), request.run.seed);
  } else {
    indices.resize(session.labels().size());
    std::iota(indices.begin(), indices.end(), std::size_t{0});
  }

  // Batches outside, methods inside: each batch is decoded once however many
  // grid points there are.
  std::vector<AccuracyTally> tallies(methods.size());
  const std::span<const std::size_t> all(indices);
  for (std::size_t begin = 0; begin < all.size();
       begin += static_cast<std::size_t>(request.batch)) {
    const auto chunk = all.subspan(begin, std::min<std::size_t>(request.batch, all.size() - begin));
    if (request.interrupt != nullptr && request.interrupt->load()) {
      throw Interrupted(fmt::format("evaluation stopped after {} of {} images", begin, all.size()));
    }
    // A different draw for every batch, the same for a given seed.
    session.count(chunk, methods, request.run.seed + begin, tallies);
    if (progress) progress(begin + chunk.size(), all.size());
  }
  const double accuracy_s = std::chrono::duration<double>(Clock::now() - started).count();

  protocol::EvalRun run;
  run.provenance = this_build_provenance("tailsweep-agent eval", started_at,
                                         device.describe(runtime, read_host_facts()));
  run.model = config.name;
  run.weights = request.run.weights_label();
  if (!weights_sha256.empty()) run.weights_sha256 = weights_sha256;
  run.dataset = session.dataset_name();
  run.split = session.split();
  if (request.limit > 0) run.limit = request.limit;
  run.seed = static_cast<int64_t>(request.run.seed);
  run.batch = request.batch;
  run.images = static_cast<int64_t>(indices.size());
  // Weights clustered at load (--clusters): how many values, and which
  // codebooks (the same dense weights and k give the same bytes anywhere).
  if (request.run.clusters > 0) {
    run.clustering = protocol::EvalClustering{request.run.clusters, session.clustered_sha256(),
                                              static_cast<int64_t>(session.tensor_bytes().first),
                                              static_cast<int64_t>(session.tensor_bytes().second)};
  }
  run.images_per_s =
      static_cast<double>(indices.size() * methods.size()) / std::max(accuracy_s, 1e-9);
  const auto finish = [&](protocol::EvalRun& body) {
    body.provenance.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  };
  if (curve) {
    protocol::AccuracyCurveBody body;
    static_cast<protocol::EvalRun&>(body) = run;
    body.method = "random";
    for (std::size_t m = 0; m < methods.size(); ++m) {
      body.points.push_back({grid[m], to_string(methods[m]),
                             fraction(tallies[m].top1, tallies[m].images),
                             fraction(tallies[m].top5, tallies[m].images), tallies[m].images});
    }
    finish(body);
    return protocol::to_json(body);
  }
  protocol::EvalBody body;
  static_cast<protocol::EvalRun&>(body) = run;
  body.method = to_string(methods.front());
  body.top1 = fraction(tallies.front().top1, tallies.front().images);
  body.top5 = fraction(tallies.front().top5, tallies.front().images);
  body.top1_correct = tallies.front().top1_correct;
  body.images_sha256 = images_sha256(session.dataset_name(), session.split(), indices);
  if (methods.front().hdp) body.hdp = protocol::hdp_body_of(tallies.front().hdp_per_block);
  const auto first = all.first(std::min<std::size_t>(request.batch, all.size()));
  body.latency = measure_latency(session, first, methods.front(), request);
  finish(body);
  return protocol::to_json(body);
}

}  // namespace tailsweep::agent
