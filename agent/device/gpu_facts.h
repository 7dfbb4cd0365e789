#pragma once
// Facts about a CUDA GPU, recorded with every result measured on it, read
// from the vendor's own libraries at run time (never linked, so the binary
// runs on machines without them):
//  - the CUDA driver API (libcuda.so.1, also on a Jetson): name, UUID, PCI
//    bus, compute capability, SM count, clocks, memory, L2, the driver's CUDA
//    version;
//  - NVML (libnvidia-ml.so.1; discrete GPUs, not Jetsons): the driver
//    version, current and maximum clocks, temperature, performance state,
//    power limit and draw, and why the clocks are held down, if they are.
// The CUDA ordinal is the one LibTorch's cuda:N uses (CUDA_VISIBLE_DEVICES
// applies); NVML numbers GPUs its own way, so its device is found by UUID.
// A fact that cannot be read is absent with the reason, never guessed.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tailsweep {

inline constexpr const char* kCudaDriverLibrary = "libcuda.so.1";
inline constexpr const char* kNvmlLibrary = "libnvidia-ml.so.1";

struct GpuFacts {
  int ordinal = 0;
  // CUDA driver API
  std::optional<std::string> name;
  std::optional<std::string> uuid;        // "GPU-xxxxxxxx-xxxx-...", as nvidia-smi prints it
  std::optional<std::string> pci_bus_id;  // "0000:00:1E.0"
  std::optional<std::string> compute_capability;  // "9.0"
  std::optional<int> sm_count;
  std::optional<int> max_threads_per_sm;
  std::optional<int> sm_clock_max_mhz;
  std::optional<int> memory_clock_max_mhz;
  std::optional<int> memory_bus_width_bits;
  std::optional<int64_t> l2_cache_bytes;
  std::optional<int64_t> memory_bytes;
  std::optional<std::string> driver_cuda_version;  // "13.0": the newest CUDA the driver runs
  // NVML
  std::optional<std::string> driver_version;  // "580.159.04"
  std::optional<int> sm_clock_mhz;            // now, at rest before measuring
  std::optional<int> memory_clock_mhz;
  std::optional<int> temperature_c;
  std::optional<std::string> performance_state;  // "P0" .. "P15"
  std::optional<double> power_limit_w;           // the enforced limit
  std::optional<double> power_draw_w;
  // Why the clocks are below their maximum now ("gpu_idle", "sw_power_cap",
  // "hw_thermal_slowdown", ...): empty when nothing holds them down.
  std::optional<std::vector<std::string>> clock_event_reasons;
  // fact name -> why it is absent
  std::map<std::string, std::string> unavailable;
};

struct GpuLibraries {
  std::string cuda_driver = kCudaDriverLibrary;
  std::string nvml = kNvmlLibrary;
};

// Every fact that can be read about CUDA device `ordinal`. Never throws.
GpuFacts read_gpu_facts(int ordinal, const GpuLibraries& libraries = {});

// NVML's names of the clock event (throttle) reason bits, in bit order.
std::vector<std::string> clock_event_reason_names(uint64_t bits);

void to_json(nlohmann::json& out, const GpuFacts& facts);

}  // namespace tailsweep
