#include "agent/measure/job_runner.h"

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agent/device/device_spec.h"
#include "agent/device/gpu_sim.h"
#include "agent/engine/compute_device.h"
#include "agent/engine/runtime.h"
#include "agent/measure/architecture_profiling.h"
#include "analysis/profile_plan.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using nlohmann::json;

ModelRunOptions model_run_for(const std::string& model, const std::optional<std::string>& weights,
                              uint64_t seed, const AgentDevice& device) {
  ModelRunOptions run;
  run.model = model;
  run.weights = weights ? resolve_job_path(*weights, device.data_dir) : std::string();
  run.threads = device.threads;
  run.seed = seed;
  return run;
}

}  // namespace

std::string resolve_job_path(const std::string& path, const std::string& data_dir) {
  namespace fs = std::filesystem;
  const fs::path given(path);
  if (given.is_absolute()) return given.lexically_normal().string();
  const fs::path inside = given.lexically_normal();
  if (inside.empty() || *inside.begin() == "..") {
    throw InputError(fmt::format(
        "'{}': a relative path in a job is read from the agent's data directory and may not "
        "leave it; give a path inside it, or an absolute one",
        path));
  }
  return (fs::path(data_dir.empty() ? "." : data_dir) / inside).lexically_normal().string();
}

bool AgentDevice::simulated() const { return parse_device_spec(device).simulated(); }

std::string AgentDevice::simulated_gpu_name() const {
  return parse_device_spec(device).simulated_gpu;
}

void check_agent_device(const AgentDevice& device) {
  parse_device_spec(device.device);  // InputError naming every accepted form
  if (device.threads < 0) throw InputError("--threads must be 0 (one per core) or more");
}

ProfileRequest profile_request_for(const protocol::ProfileJobSpec& spec,
                                   const AgentDevice& device) {
  ProfileRequest request;
  request.run = model_run_for(spec.model, spec.weights, spec.seed, device);
  request.device = device.device;
  request.batches = spec.batches;
  if (!spec.tokens.empty()) {
    request.tokens = parse_token_grid(spec.tokens, parse_model_spec(spec.model).total_tokens());
  }
  request.methods = spec.methods;
  request.paired_clusters = spec.paired_clusters;
  request.hdp_shares = spec.hdp_shares;
  request.run.weight_kernel = parse_weight_kernel(spec.weight_kernel);
  request.precision = spec.precision;
  request.mode = spec.mode;
  request.protocol = spec.protocol;
  request.warmup_s = spec.warmup_s;
  request.time_cap_s = spec.time_cap_s;
  return request;
}

EvalRequest eval_request_for(const std::string& kind, const protocol::EvalJobSpec& spec,
                             const AgentDevice& device) {
  if (device.simulated()) {
    // The simulator models latency only; an accuracy from this agent would
    // be the host CPU's run labelled as the simulated device.
    throw InputError(fmt::format(
        "{} job refused: accuracy never comes from a simulated device, and this agent runs "
        "--device {} (send {} jobs to a cpu, cuda or jetson agent)",
        kind, device.device, kind));
  }
  if (kind == "accuracy_curve" && !spec.tokens) {
    throw InputError("accuracy_curve job: spec.tokens is missing (the token grid of the curve)");
  }
  if (kind == "eval" && spec.tokens) {
    throw InputError("eval job: spec.tokens belongs to accuracy_curve jobs");
  }
  if (kind == "accuracy_curve" && spec.clusters != 0) {
    throw InputError("accuracy_curve job: spec.clusters belongs to eval jobs (an accuracy curve "
                     "is of the weights as given)");
  }
  EvalRequest request;
  request.run = model_run_for(spec.model, spec.weights, spec.seed, device);
  request.run.clusters = spec.clusters;
  request.device = device.device;
  request.dataset = spec.dataset;
  request.split = spec.split;
  request.limit = spec.limit;
  request.method = spec.method;
  if (spec.tokens) {
    request.tokens = parse_token_grid(*spec.tokens, parse_model_spec(spec.model).total_tokens());
  }
  request.batch = spec.batch;
  return request;
}

json run_job(const protocol::JobAssignment& job, const AgentDevice& device,
             const std::atomic<bool>* cancel) {
  if (job.kind == "profile" || job.kind == "latency") {
    const protocol::ProfileJobSpec spec = protocol::parse_profile_job_spec(job.spec);
    if ((job.kind == "latency") == spec.methods.empty()) {
      throw InputError(
          fmt::format("{} job: a profile job takes \"tokens\", a latency job "
                      "\"methods\"",
                      job.kind));
    }
    ProfileRequest request = profile_request_for(spec, device);
    request.interrupt = cancel;
    return run_profiling(request);
  }
  if (job.kind == "architecture") {
    const protocol::ArchitectureJobSpec spec = protocol::parse_architecture_job_spec(job.spec);
    ProfileRequest request;
    request.device = device.device;
    request.run.seed = spec.seed;
    request.run.threads = device.threads;
    request.batches = spec.batches;
    request.precision = spec.precision;
    request.time_cap_s = spec.time_cap_s;
    request.warmup_s = spec.warmup_s;
    request.interrupt = cancel;
    return run_architecture_profiling(request, spec.architecture);
  }
  if (job.kind == "eval" || job.kind == "accuracy_curve") {
    EvalRequest request = eval_request_for(job.kind, protocol::parse_eval_job_spec(job.spec), device);
    request.interrupt = cancel;
    return run_evaluation(request);
  }
  throw InputError(fmt::format(
      "unknown job kind '{}' (this agent runs profile, latency, eval, accuracy_curve and "
      "architecture)",
      job.kind));
}

JobOutcome run_job_reporting_errors(const protocol::JobAssignment& job, const AgentDevice& device,
                                    const std::atomic<bool>* cancel) {
  // Whatever goes wrong in a job becomes its failure report: the agent
  // itself must go on to the next job.
  try {
    return {run_job(job, device, cancel), ""};
  } catch (const std::exception& error) {
    return {std::nullopt, error_message(error)};
  } catch (...) {
    return {std::nullopt, "unknown error"};
  }
}

std::string device_kind(const AgentDevice& device, const HostFacts& host) {
  const DeviceSpec spec = parse_device_spec(device.device);
  if (spec.simulated()) return "sim";
  if (host.is_jetson()) return "jetson";
  return spec.kind == DeviceKind::kCuda ? "cuda" : "cpu";
}

json device_facts(const AgentDevice& device, const HostFacts& host) {
  const DeviceSpec spec = parse_device_spec(device.device);
  if (spec.simulated()) return simulated_device_json(spec.simulated_gpu, host);
  return ComputeDevice(spec).describe(configure_runtime(device.threads), host);
}

json simulated_device_json(const std::string& gpu_name, const HostFacts& host) {
  return simulated_device_json(sim::find_simulated_gpu(gpu_name), host);
}

}  // namespace tailsweep::agent
