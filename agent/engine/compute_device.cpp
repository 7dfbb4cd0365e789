#include "agent/engine/compute_device.h"

#include <c10/core/Device.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/api/include/torch/cuda.h>
#include <torch/csrc/api/include/torch/version.h>

#include "agent/device/nvml.h"
#include "common/util/errors.h"

namespace tailsweep::agent {

ComputeDevice::ComputeDevice(const DeviceSpec& spec) : spec_(spec) {
  if (spec_.simulated()) {
    throw InputError(
        fmt::format("{} is a simulated device: the engine does not run there", spec_.text()));
  }
  if (!is_cuda()) return;
  GpuFacts facts = read_gpu_facts(spec_.cuda_index);
  if (!torch::cuda::is_available()) {
    // Tell the two causes apart: the driver sees a GPU (LibTorch lacks
    // CUDA) or it does not (then its reason is the useful one).
    throw InputError(
        facts.name
            ? fmt::format("--device {}: the driver sees {}, but this tailsweep-agent's LibTorch "
                          "{} cannot use it: it was built without CUDA (Debian's libtorch is "
                          "CPU-only; docs/cuda.md builds against a CUDA LibTorch), or its CUDA "
                          "is newer than the driver's ({})",
                          spec_.text(), *facts.name, TORCH_VERSION,
                          facts.driver_cuda_version.value_or("unknown"))
            : fmt::format("--device {}: no usable CUDA GPU ({})", spec_.text(),
                          facts.unavailable.count("name") ? facts.unavailable.at("name")
                                                          : "LibTorch sees none"));
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (spec_.cuda_index >= count) {
    throw InputError(fmt::format("--device {}: this machine has {} CUDA GPU{} (cuda:0..{})",
                                 spec_.text(), count, count == 1 ? "" : "s", count - 1));
  }
  gpu_before_ = std::move(facts);
}

c10::Device ComputeDevice::torch_device() const {
  return is_cuda()
             ? c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(spec_.cuda_index))
             : c10::Device(c10::DeviceType::CPU);
}

void ComputeDevice::synchronize() const {
  if (is_cuda()) torch::cuda::synchronize(spec_.cuda_index);
}

nlohmann::json ComputeDevice::describe(const RuntimeInfo& runtime, const HostFacts& host) const {
  if (!is_cuda()) return cpu_device_json(runtime, host);
  RuntimeInfo on_gpu = runtime;
  on_gpu.gemm_backend = "aten (cuBLAS)";
  const GpuFacts& gpu = *gpu_before_;
  return {{"kind", "cuda"},
          {"name", gpu.name.value_or(fmt::format("CUDA device {}", spec_.cuda_index))},
          {"simulated", false},
          {"ordinal", spec_.cuda_index},
          {"gpu", gpu},
          {"cudnn_available", torch::cuda::cudnn_is_available()},
          {"timing", "host steady clock around each forward pass, after torch::cuda::synchronize"},
          {"host", host},
          {"runtime", on_gpu}};
}

nlohmann::json ComputeDevice::gpu_now() const {
  if (!is_cuda()) return nullptr;
  return read_gpu_facts(spec_.cuda_index);
}

power::SensorProbe ComputeDevice::find_power_sensor() const {
  if (!is_cuda()) return power::find_power_sensor();
  // A discrete GPU's board power is NVML's to tell; a host sensor (RAPL)
  // would measure the CPU package instead. A Jetson's GPU shares the board,
  // whose total input the INA3221 reads.
  power::SensorProbe nvml = gpu_before_->uuid
                                ? nvml::find_nvml_power_sensor(*gpu_before_->uuid)
                                : power::SensorProbe{nullptr,
                                                     "NVML needs the GPU's UUID, and the CUDA "
                                                     "driver gave none"};
  if (nvml.sensor) return nvml;
  power::SensorProbe jetson = power::find_jetson_sensor("/");
  if (jetson.sensor) return jetson;
  return {nullptr, nvml.unavailable_reason + "; " + jetson.unavailable_reason};
}

}  // namespace tailsweep::agent
