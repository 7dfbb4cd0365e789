#include "agent/device/gpu_facts.h"

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/device/nvml.h"
#include "agent/device/shared_library.h"

namespace tailsweep {
namespace {

// CUdevice_attribute values, from the CUDA driver API's cuda.h (stable ABI).
enum CudaAttribute : int {
  kClockRateKhz = 13,
  kMultiprocessorCount = 16,
  kMemoryClockRateKhz = 36,
  kMemoryBusWidthBits = 37,
  kL2CacheBytes = 38,
  kMaxThreadsPerMultiprocessor = 39,
  kComputeCapabilityMajor = 75,
  kComputeCapabilityMinor = 76,
};

std::string format_uuid(const std::array<unsigned char, 16>& bytes) {
  // nvidia-smi's and NVML's form: GPU-8-4-4-4-12 lower-case hex digits.
  std::string text = "GPU-";
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += fmt::format("{:02x}", bytes[i]);
  }
  return text;
}

// The CUDA driver API as loaded; every call says why it failed.
class CudaDriver {
 public:
  explicit CudaDriver(std::shared_ptr<const SharedLibrary> library)
      : library_(std::move(library)) {}

  // Calls `int symbol(out*, args...)`; nullopt and *error on failure.
  template <typename T, typename... Args>
  std::optional<T> call(const char* symbol, std::string* error, Args... args) const {
    const auto function = library_->function<int (*)(T*, Args...)>(symbol);
    if (function == nullptr) {
      *error = fmt::format("{} has no {}", library_->name(), symbol);
      return std::nullopt;
    }
    T out{};
    if (const int status = function(&out, args...); status != 0) {
      *error = fmt::format("{}: {}", symbol, describe(status));
      return std::nullopt;
    }
    return out;
  }

  std::optional<std::string> text(const char* symbol, int device, std::string* error) const {
    const auto function = library_->function<int (*)(char*, int, int)>(symbol);
    if (function == nullptr) {
      *error = fmt::format("{} has no {}", library_->name(), symbol);
      return std::nullopt;
    }
    char buffer[256] = {};
    if (const int status = function(buffer, sizeof buffer - 1, device); status != 0) {
      *error = fmt::format("{}: {}", symbol, describe(status));
      return std::nullopt;
    }
    return std::string(buffer);
  }

  // cuInit(0): needed once per process before any other call.
  bool init(std::string* error) const {
    const auto function = library_->function<int (*)(unsigned)>("cuInit");
    if (function == nullptr) {
      *error = fmt::format("{} has no cuInit", library_->name());
      return false;
    }
    if (const int status = function(0); status != 0) {
      *error = fmt::format("cuInit: {}", describe(status));
      return false;
    }
    return true;
  }

  std::string describe(int status) const {
    const auto text = library_->function<int (*)(int, const char**)>("cuGetErrorString");
    const char* message = nullptr;
    if (text != nullptr && text(status, &message) == 0 && message != nullptr) {
      return fmt::format("{} (CUDA error {})", message, status);
    }
    return fmt::format("CUDA error {}", status);
  }

 private:
  std::shared_ptr<const SharedLibrary> library_;
};

constexpr const char* kCudaFactNames[] = {"name",
                                          "uuid",
                                          "pci_bus_id",
                                          "compute_capability",
                                          "sm_count",
                                          "max_threads_per_sm",
                                          "sm_clock_max_mhz",
                                          "memory_clock_max_mhz",
                                          "memory_bus_width_bits",
                                          "l2_cache_bytes",
                                          "memory_bytes",
                                          "driver_cuda_version"};

constexpr const char* kNvmlFactNames[] = {
    "driver_version",    "sm_clock_mhz",  "memory_clock_mhz", "temperature_c",
    "performance_state", "power_limit_w", "power_draw_w",     "clock_event_reasons"};

template <std::size_t N>
void all_unavailable(GpuFacts& facts, const char* const (&names)[N], const std::string& reason) {
  for (const char* name : names) facts.unavailable[name] = reason;
}

template <typename T, typename From>
void keep(GpuFacts& facts, std::optional<T>& fact, const char* name, std::optional<From> value,
          const std::string& error) {
  if (value) {
    fact = static_cast<T>(*value);
  } else {
    facts.unavailable[name] = error;
  }
}

// The CUDA driver's facts; every one unavailable, with the reason, when there is no such device.
void read_cuda_facts(const GpuLibraries& libraries, GpuFacts& facts) {
  std::string error;
  auto library = SharedLibrary::open(libraries.cuda_driver, &error);
  if (!library) {
    return all_unavailable(
        facts, kCudaFactNames,
        fmt::format("{} cannot be loaded (no NVIDIA driver): {}", libraries.cuda_driver, error));
  }
  const CudaDriver driver(std::move(library));
  if (!driver.init(&error)) return all_unavailable(facts, kCudaFactNames, error);
  if (const auto version = driver.call<int>("cuDriverGetVersion", &error)) {
    facts.driver_cuda_version = fmt::format("{}.{}", *version / 1000, *version % 1000 / 10);
  } else {
    facts.unavailable["driver_cuda_version"] = error;
  }
  const auto count = driver.call<int>("cuDeviceGetCount", &error);
  if (count && facts.ordinal >= *count) {
    error = fmt::format("CUDA device {} does not exist: the driver sees {}", facts.ordinal, *count);
  }
  const auto device = count && facts.ordinal < *count
                          ? driver.call<int>("cuDeviceGet", &error, facts.ordinal)
                          : std::nullopt;
  if (!device) {
    const auto version = facts.driver_cuda_version;
    all_unavailable(facts, kCudaFactNames, error);
    if (version) facts.unavailable.erase("driver_cuda_version");
    return;
  }
  keep(facts, facts.name, "name", driver.text("cuDeviceGetName", *device, &error), error);
  keep(facts, facts.pci_bus_id, "pci_bus_id", driver.text("cuDeviceGetPCIBusId", *device, &error),
       error);
  auto uuid = driver.call<std::array<unsigned char, 16>>("cuDeviceGetUuid_v2", &error, *device);
  if (!uuid) uuid = driver.call<std::array<unsigned char, 16>>("cuDeviceGetUuid", &error, *device);
  if (uuid) {
    facts.uuid = format_uuid(*uuid);
  } else {
    facts.unavailable["uuid"] = error;
  }
  auto attribute = [&](CudaAttribute which) {
    return driver.call<int>("cuDeviceGetAttribute", &error, static_cast<int>(which), *device);
  };
  const auto major = attribute(kComputeCapabilityMajor);
  const auto minor = major ? attribute(kComputeCapabilityMinor) : std::nullopt;
  if (major && minor) {
    facts.compute_capability = fmt::format("{}.{}", *major, *minor);
  } else {
    facts.unavailable["compute_capability"] = error;
  }
  keep(facts, facts.sm_count, "sm_count", attribute(kMultiprocessorCount), error);
  keep(facts, facts.max_threads_per_sm, "max_threads_per_sm",
       attribute(kMaxThreadsPerMultiprocessor), error);
  auto mhz = [](std::optional<int> khz) {
    return khz && *khz > 0 ? std::optional<int>(*khz / 1000) : std::nullopt;
  };
  keep(facts, facts.sm_clock_max_mhz, "sm_clock_max_mhz", mhz(attribute(kClockRateKhz)),
       "cuDeviceGetAttribute(CLOCK_RATE) gave nothing: " + error);
  keep(facts, facts.memory_clock_max_mhz, "memory_clock_max_mhz",
       mhz(attribute(kMemoryClockRateKhz)),
       "cuDeviceGetAttribute(MEMORY_CLOCK_RATE) gave nothing: " + error);
  keep(facts, facts.memory_bus_width_bits, "memory_bus_width_bits", attribute(kMemoryBusWidthBits),
       error);
  keep(facts, facts.l2_cache_bytes, "l2_cache_bytes", attribute(kL2CacheBytes), error);
  keep(facts, facts.memory_bytes, "memory_bytes",
       driver.call<std::size_t>("cuDeviceTotalMem_v2", &error, *device), error);
}

void read_nvml_facts(const GpuLibraries& libraries, GpuFacts& facts) {
  if (!facts.uuid) {
    return all_unavailable(facts, kNvmlFactNames,
                           "NVML finds a GPU by its UUID, and the CUDA driver gave none");
  }
  std::string reason;
  const std::shared_ptr<const nvml::Nvml> nvml = nvml::Nvml::open(libraries.nvml, &reason);
  if (!nvml) return all_unavailable(facts, kNvmlFactNames, reason);
  const auto version = nvml->driver_version();
  keep(facts, facts.driver_version, "driver_version", version.value, version.error);
  const auto device = nvml->device_by_uuid(*facts.uuid);
  if (!device.value) {
    const auto driver_version = facts.driver_version;
    all_unavailable(facts, kNvmlFactNames, device.error);
    if (driver_version) facts.unavailable.erase("driver_version");
    return;
  }
  const nvml::Nvml::Device gpu = *device.value;
  auto take = [&](auto& fact, const char* name, const auto& reading) {
    keep(facts, fact, name, reading.value, reading.error);
  };
  take(facts.sm_clock_mhz, "sm_clock_mhz", nvml->clock_mhz(gpu, nvml::Clock::kSm));
  take(facts.memory_clock_mhz, "memory_clock_mhz", nvml->clock_mhz(gpu, nvml::Clock::kMemory));
  take(facts.temperature_c, "temperature_c", nvml->temperature_c(gpu));
  if (const auto state = nvml->performance_state(gpu); state.value) {
    facts.performance_state = fmt::format("P{}", *state.value);
  } else {
    facts.unavailable["performance_state"] = state.error;
  }
  auto watts = [](const nvml::Reading<unsigned>& milliwatts) {
    return milliwatts.value ? std::optional<double>(*milliwatts.value / 1e3) : std::nullopt;
  };
  const auto limit = nvml->power_limit_mw(gpu);
  keep(facts, facts.power_limit_w, "power_limit_w", watts(limit), limit.error);
  const auto draw = nvml->power_mw(gpu);
  keep(facts, facts.power_draw_w, "power_draw_w", watts(draw), draw.error);
  if (const auto reasons = nvml->clock_event_reasons(gpu); reasons.value) {
    facts.clock_event_reasons = clock_event_reason_names(*reasons.value);
  } else {
    facts.unavailable["clock_event_reasons"] = reasons.error;
  }
  // NVML's maximum clocks are the ones nvidia-smi shows; prefer them.
  if (const auto sm = nvml->max_clock_mhz(gpu, nvml::Clock::kSm); sm.value) {
    facts.sm_clock_max_mhz = static_cast<int>(*sm.value);
    facts.unavailable.erase("sm_clock_max_mhz");
  }
  if (const auto memory = nvml->max_clock_mhz(gpu, nvml::Clock::kMemory); memory.value) {
    facts.memory_clock_max_mhz = static_cast<int>(*memory.value);
    facts.unavailable.erase("memory_clock_max_mhz");
  }
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

std::vector<std::string> clock_event_reason_names(uint64_t bits) {
  // nvmlClocksEventReason* bits 0..8, from nvml.h.
  static constexpr const char* kNames[] = {"gpu_idle",
                                           "applications_clocks_setting",
                                           "sw_power_cap",
                                           "hw_slowdown",
                                           "sync_boost",
                                           "sw_thermal_slowdown",
                                           "hw_thermal_slowdown",
                                           "hw_power_brake_slowdown",
                                           "display_clock_setting"};
  std::vector<std::string> names;
  for (std::size_t bit = 0; bit < 64; ++bit) {
    if ((bits >> bit & 1U) == 0) continue;
    names.push_back(bit < std::size(kNames) ? kNames[bit] : fmt::format("bit_{}", bit));
  }
  return names;
}

GpuFacts read_gpu_facts(int ordinal, const GpuLibraries& libraries) {
  GpuFacts facts;
  facts.ordinal = ordinal;
  read_cuda_facts(libraries, facts);
  read_nvml_facts(libraries, facts);
  return facts;
}

void to_json(nlohmann::json& out, const GpuFacts& facts) {
  out = {{"ordinal", facts.ordinal},
         {"name", or_null(facts.name)},
         {"uuid", or_null(facts.uuid)},
         {"pci_bus_id", or_null(facts.pci_bus_id)},
         {"compute_capability", or_null(facts.compute_capability)},
         {"sm_count", or_null(facts.sm_count)},
         {"max_threads_per_sm", or_null(facts.max_threads_per_sm)},
         {"sm_clock_max_mhz", or_null(facts.sm_clock_max_mhz)},
         {"memory_clock_max_mhz", or_null(facts.memory_clock_max_mhz)},
         {"memory_bus_width_bits", or_null(facts.memory_bus_width_bits)},
         {"l2_cache_bytes", or_null(facts.l2_cache_bytes)},
         {"memory_bytes", or_null(facts.memory_bytes)},
         {"driver_cuda_version", or_null(facts.driver_cuda_version)},
         {"driver_version", or_null(facts.driver_version)},
         {"sm_clock_mhz", or_null(facts.sm_clock_mhz)},
         {"memory_clock_mhz", or_null(facts.memory_clock_mhz)},
         {"temperature_c", or_null(facts.temperature_c)},
         {"performance_state", or_null(facts.performance_state)},
         {"power_limit_w", or_null(facts.power_limit_w)},
         {"power_draw_w", or_null(facts.power_draw_w)},
         {"clock_event_reasons", or_null(facts.clock_event_reasons)},
         {"unavailable", facts.unavailable}};
}

}  // namespace tailsweep
