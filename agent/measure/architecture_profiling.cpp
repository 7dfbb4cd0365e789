#include "agent/measure/architecture_profiling.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/device/gpu_sim_encoder.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/encoder_sampler.h"
#include "agent/engine/runtime.h"
#include "agent/measure/measurement_run.h"
#include "agent/measure/provenance.h"
#include "analysis/profile_plan.h"
#include "common/util/errors.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {
namespace {

using Clock = std::chrono::steady_clock;

class ArchitectureLatency : public PointSampler {
 public:
  virtual nlohmann::json device_json(const HostFacts& host) const = 0;
};

// The engine on this machine's CPU or one of its CUDA GPUs.
class EngineArchitectureLatency final : public ArchitectureLatency {
 public:
  EngineArchitectureLatency(const design::Architecture& architecture, const ProfileRequest& request,
                            const std::vector<int64_t>& batches, const ComputeDevice& device)
      : sampler_(architecture, request.run.seed, request.run.threads, batches, device) {}

  double sample(const ProfilePoint& point) override {
    return sampler_.time_forward(point.batch).count();
  }
  void warm_up(const ProfilePoint& point, std::chrono::duration<double> at_least) override {
    const auto until = Clock::now() + at_least;
    do {
      sample(point);
    } while (Clock::now() < until);
  }
  nlohmann::json device_json(const HostFacts& host) const override {
    return sampler_.device_json(host);
  }

 private:
  EncoderSampler sampler_;
};

// The kernel-level model of a simulated GPU (agent/device/gpu_sim_encoder.h):
// latency only, labelled simulated.
class SimArchitectureLatency final : public ArchitectureLatency {
 public:
  SimArchitectureLatency(const design::Architecture& architecture, const ProfileRequest& request,
                         const DeviceSpec& device)
      : gpu_(sim::find_simulated_gpu(device.simulated_gpu), request.run.seed),
        architecture_(architecture) {}

  double sample(const ProfilePoint& point) override {
    return gpu_.sample_ms(sim::encoder_forward_ms(gpu_.spec(), architecture_, point.batch));
  }
  void warm_up(const ProfilePoint&, std::chrono::duration<double>) override {}
  nlohmann::json device_json(const HostFacts& host) const override {
    return simulated_device_json(gpu_.spec(), host);
  }

 private:
  sim::SimulatedGpu gpu_;
  design::Architecture architecture_;
};

void check_architecture_request(const ProfileRequest& request) {
  check_measurement_options(request);
  const auto refuse = [](const char* option) {
    throw InputError(fmt::format(
        "--arch times one architecture with random weights on its full sequence: {} does not "
        "apply",
        option));
  };
  if (!request.tokens.empty()) refuse("--tokens");
  if (!request.methods.empty()) refuse("--methods");
  if (!request.paired_clusters.empty()) refuse("--paired-clusters");
  if (!request.hdp_shares.empty()) refuse("--hdp-shares");
  if (request.mode != "model") refuse("--mode block");
  if (!request.run.weights.empty()) refuse("--weights");
  if (request.run.clusters != 0) refuse("--clusters");
  if (request.run.weight_kernel != WeightKernel::kDense) refuse("--weight-kernel lookup");
  if (request.fixed_time_s > 0) refuse("--fixed-time");
}

// Each batch on the full sequence, in a seeded order; nothing to pair, so
// each point stops on its own CI, and the sentinel is the largest batch.
PointPlan plan_architecture_points(const std::vector<int64_t>& batches, int64_t sequence_length,
                                   uint64_t seed) {
  PointPlan plan;
  MeasurementPlan& m = plan.measurement;
  m.seed = seed;
  const std::vector<int64_t> tokens{sequence_length};
  m.points = shuffled_points(batches, tokens, seed);
  m.reference_of.assign(m.points.size(), std::nullopt);
  m.sentinel =
      static_cast<std::size_t>(std::max_element(m.points.begin(), m.points.end(),
                                                [](const ProfilePoint& a, const ProfilePoint& b) {
                                                  return a.batch < b.batch;
                                                }) -
                               m.points.begin());
  return plan;
}

}  // namespace

nlohmann::json run_architecture_profiling(const ProfileRequest& request,
                                          const design::Architecture& architecture) {
  const DeviceSpec device_spec = parse_device_spec(request.device);
  check_architecture_request(request);
  architecture.validate();
  const std::vector<int64_t> batches = checked_batches(request.batches);
  const auto started = std::chrono::system_clock::now();
  const HostFacts host = read_host_facts();
  const Protocol protocol = protocol_of(request);
  const PointPlan plan =
      plan_architecture_points(batches, architecture.sequence_length, request.run.seed);

  protocol::ArchitectureDocument document;
  Measured measured;
  nlohmann::json device;
  if (device_spec.simulated()) {
    SimArchitectureLatency sampler(architecture, request, device_spec);
    measured = measure_all(sampler, request, protocol, plan, nullptr);
    device = sampler.device_json(host);
    document.power = simulated_power_info();
  } else {
    const ComputeDevice compute_device(device_spec);
    PowerWatch power = watch_power(compute_device, request.power_period_ms);
    document.power = power.info;
    EngineArchitectureLatency sampler(architecture, request, batches, compute_device);
    measured = measure_all(sampler, request, protocol, plan, power.sampler.get());
    device = sampler.device_json(host);
  }
  for (const PointResult* result : in_stable_order(measured.outcome)) {
    document.points.push_back(point_body(*result, plan.measurement, {}, {}));
  }
  const int threads = request.run.threads > 0 ? request.run.threads : host.logical_cpus.value_or(1);
  document.provenance = this_build_provenance("tailsweep-agent profile", started, device);
  document.provenance.elapsed_s = measured.outcome.elapsed.count();
  document.architecture = architecture;
  document.architecture_id = design::architecture_id(architecture);
  document.parameters = architecture.parameter_count();
  document.flops_per_input = architecture.forward_flops(1);
  document.measurement = measurement_body(request, protocol, plan, measured, threads);
  warn_about(document.measurement, document.points.size(), request, threads);
  return protocol::to_json(document);
}

}  // namespace tailsweep::agent
