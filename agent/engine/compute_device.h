#pragma once
// The device the engine computes on, the CPU or a CUDA GPU, with what
// measuring on it needs: its LibTorch device, a wait for its queued work
// before a clock is read, its facts, and its power sensor. No LibTorch in
// this header (agent/measure includes it): c10::Device is only declared,
// for the engine's own files.
#include <optional>

#include <nlohmann/json_fwd.hpp>

#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/device/gpu_facts.h"
#include "agent/device/power.h"
#include "agent/engine/runtime.h"

namespace c10 {
struct Device;
}  // namespace c10

namespace tailsweep::agent {

class ComputeDevice {
 public:
  // Throws InputError for a simulated device (the engine does not run
  // there), for CUDA with a LibTorch built without it, and for a GPU index
  // this machine lacks. A GPU's facts are read here, before any work.
  explicit ComputeDevice(const DeviceSpec& spec);

  c10::Device torch_device() const;  // engine code only (include <c10/core/Device.h>)
  bool is_cuda() const { return spec_.kind == DeviceKind::kCuda; }

  // Waits until the device has done all the work queued on it. CUDA kernels
  // run asynchronously: a clock read without this times their launch, not
  // their work. A no-op on the CPU.
  void synchronize() const;

  // The `device` object of results: kind "cpu" (cpu_device_json) or "cuda"
  // with the GPU's facts as they were before any work.
  nlohmann::json describe(const RuntimeInfo& runtime, const HostFacts& host) const;
  // The GPU's facts read now (clocks, temperature, clock event reasons: how
  // a run left it); null on the CPU.
  nlohmann::json gpu_now() const;

  // The sensor for this device's power: NVML for a discrete GPU; otherwise
  // (CPU, Jetson GPU) the board's INA3221 or the package's RAPL counter.
  power::SensorProbe find_power_sensor() const;

 private:
  DeviceSpec spec_;
  std::optional<GpuFacts> gpu_before_;
};

}  // namespace tailsweep::agent
