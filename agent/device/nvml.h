#pragma once
// NVML, NVIDIA's management library (libnvidia-ml.so.1), loaded at run time:
// the GPU's clocks, temperature and power for device facts, and its energy
// counter as a power sensor. Discrete GPUs only: a Jetson has no NVML, and
// its board power comes from the INA3221 (common/power.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "agent/device/power.h"
#include "agent/device/shared_library.h"

namespace tailsweep::nvml {

// A value NVML gave, or why it gave none.
template <typename T>
struct Reading {
  std::optional<T> value;
  std::string error;  // set when value is empty
};

enum class Clock { kSm = 1, kMemory = 2 };  // nvmlClockType_t

// An initialised NVML (nvmlInit_v2 on open, nvmlShutdown with the last
// owner). Thread-safe, as NVML is.
class Nvml {
 public:
  using Device = void*;  // nvmlDevice_t

  // nullptr when the library cannot be loaded or initialised; *reason says why.
  static std::shared_ptr<const Nvml> open(const std::string& library, std::string* reason);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  // The device with this UUID ("GPU-..."), as the CUDA driver names it.
  Reading<Device> device_by_uuid(const std::string& uuid) const;

  Reading<std::string> driver_version() const;
  Reading<unsigned> clock_mhz(Device device, Clock clock) const;
  Reading<unsigned> max_clock_mhz(Device device, Clock clock) const;
  Reading<unsigned> temperature_c(Device device) const;
  Reading<unsigned> performance_state(Device device) const;  // 0 = P0 (fastest)
  Reading<unsigned> power_limit_mw(Device device) const;     // enforced limit
  Reading<unsigned> power_mw(Device device) const;
  // Since the driver was loaded; Volta and newer.
  Reading<unsigned long long> energy_mj(Device device) const;
  // Bit mask of nvmlClocksEventReason* (formerly "throttle reasons").
  Reading<unsigned long long> clock_event_reasons(Device device) const;

 private:
  explicit Nvml(std::shared_ptr<const SharedLibrary> library) : library_(std::move(library)) {}
  template <typename T, typename... Args>
  Reading<T> call(const char* symbol, Args... args) const;
  std::string error_text(int status) const;

  std::shared_ptr<const SharedLibrary> library_;
};

// The GPU's board power as a sensor: NVML's energy counter where the GPU has
// one (exact joules over any window), else its power reading (which recent
// GPUs average over about a second: coarse for short windows).
power::SensorProbe find_nvml_power_sensor(const std::string& uuid,
                                          const std::string& library = "libnvidia-ml.so.1");

}  // namespace tailsweep::nvml
