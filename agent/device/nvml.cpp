#include "agent/device/nvml.h"

#include <fmt/format.h>

namespace tailsweep::nvml {
namespace {

constexpr int kSuccess = 0;           // NVML_SUCCESS
constexpr unsigned kTextLength = 96;  // > NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE (80)
constexpr int kTemperatureGpu = 0;    // NVML_TEMPERATURE_GPU

std::string describe_status(const SharedLibrary& library, int status) {
  const auto text = library.function<const char* (*)(int)>("nvmlErrorString");
  const char* message = text != nullptr ? text(status) : nullptr;
  return message != nullptr ? fmt::format("{} (NVML error {})", message, status)
                            : fmt::format("NVML error {}", status);
}

}  // namespace

std::shared_ptr<const Nvml> Nvml::open(const std::string& library, std::string* reason) {
  std::string error;
  auto loaded = SharedLibrary::open(library, &error);
  if (!loaded) {
    *reason =
        fmt::format("{} cannot be loaded (no NVIDIA driver, or a Jetson): {}", library, error);
    return nullptr;
  }
  const auto init = loaded->function<int (*)()>("nvmlInit_v2");
  if (init == nullptr) {
    *reason = fmt::format("{} has no nvmlInit_v2", library);
    return nullptr;
  }
  if (const int status = init(); status != kSuccess) {
    *reason = fmt::format("nvmlInit_v2 failed: {}", describe_status(*loaded, status));
    return nullptr;
  }
  return std::shared_ptr<const Nvml>(new Nvml(std::move(loaded)));
}

Nvml::~Nvml() {
  if (const auto shutdown = library_->function<int (*)()>("nvmlShutdown")) shutdown();
}

std::string Nvml::error_text(int status) const { return describe_status(*library_, status); }

// Calls `int symbol(args..., T* out)`.
template <typename T, typename... Args>
Reading<T> Nvml::call(const char* symbol, Args... args) const {
  const auto function = library_->function<int (*)(Args..., T*)>(symbol);
  if (function == nullptr)
    return {std::nullopt, fmt::format("{} has no {}", library_->name(), symbol)};
  T out{};
  if (const int status = function(args..., &out); status != kSuccess) {
    return {std::nullopt, fmt::format("{}: {}", symbol, error_text(status))};
  }
  return {out, ""};
}

Reading<Nvml::Device> Nvml::device_by_uuid(const std::string& uuid) const {
  return call<Device>("nvmlDeviceGetHandleByUUID", uuid.c_str());
}

Reading<std::string> Nvml::driver_version() const {
  const auto function = library_->function<int (*)(char*, unsigned)>("nvmlSystemGetDriverVersion");
  if (function == nullptr) {
    return {std::nullopt, fmt::format("{} has no nvmlSystemGetDriverVersion", library_->name())};
  }
  char text[kTextLength] = {};
  if (const int status = function(text, kTextLength - 1); status != kSuccess) {
    return {std::nullopt, "nvmlSystemGetDriverVersion: " + error_text(status)};
  }
  return {std::string(text), ""};
}

Reading<unsigned> Nvml::clock_mhz(Device device, Clock clock) const {
  return call<unsigned>("nvmlDeviceGetClockInfo", device, static_cast<int>(clock));
}

Reading<unsigned> Nvml::max_clock_mhz(Device device, Clock clock) const {
  return call<unsigned>("nvmlDeviceGetMaxClockInfo", device, static_cast<int>(clock));
}

Reading<unsigned> Nvml::temperature_c(Device device) const {
  return call<unsigned>("nvmlDeviceGetTemperature", device, kTemperatureGpu);
}

Reading<unsigned> Nvml::performance_state(Device device) const {
  return call<unsigned>("nvmlDeviceGetPerformanceState", device);
}

Reading<unsigned> Nvml::power_limit_mw(Device device) const {
  return call<unsigned>("nvmlDeviceGetEnforcedPowerLimit", device);
}

Reading<unsigned> Nvml::power_mw(Device device) const {
  return call<unsigned>("nvmlDeviceGetPowerUsage", device);
}

Reading<unsigned long long> Nvml::energy_mj(Device device) const {
  return call<unsigned long long>("nvmlDeviceGetTotalEnergyConsumption", device);
}

Reading<unsigned long long> Nvml::clock_event_reasons(Device device) const {
  // Renamed in driver 535; older drivers have only the old name.
  Reading<unsigned long long> reasons =
      call<unsigned long long>("nvmlDeviceGetCurrentClocksEventReasons", device);
  if (reasons.value) return reasons;
  return call<unsigned long long>("nvmlDeviceGetCurrentClocksThrottleReasons", device);
}

namespace {

// The GPU board's energy counter (joules) or, without one, its power (watts).
class NvmlSensor final : public power::PowerSensor {
 public:
  NvmlSensor(std::shared_ptr<const Nvml> nvml, Nvml::Device device, std::string uuid,
             bool energy_counter)
      : nvml_(std::move(nvml)),
        device_(device),
        uuid_(std::move(uuid)),
        energy_counter_(energy_counter) {}
  std::string description() const override {
    return fmt::format("NVML {} ({})", energy_counter_ ? "total energy counter" : "power reading",
                       uuid_);
  }
  bool is_energy_counter() const override { return energy_counter_; }
  std::optional<double> read() override {
    if (energy_counter_) {
      const auto millijoules = nvml_->energy_mj(device_).value;
      if (millijoules) return static_cast<double>(*millijoules) / 1e3;
    } else {
      const auto milliwatts = nvml_->power_mw(device_).value;
      if (milliwatts) return static_cast<double>(*milliwatts) / 1e3;
    }
    return std::nullopt;
  }

 private:
  std::shared_ptr<const Nvml> nvml_;
  Nvml::Device device_;
  std::string uuid_;
  bool energy_counter_;
};

}  // namespace

power::SensorProbe find_nvml_power_sensor(const std::string& uuid, const std::string& library) {
  std::string reason;
  std::shared_ptr<const Nvml> nvml = Nvml::open(library, &reason);
  if (!nvml) return {nullptr, reason};
  const Reading<Nvml::Device> device = nvml->device_by_uuid(uuid);
  if (!device.value) return {nullptr, device.error};
  const Reading<unsigned long long> energy = nvml->energy_mj(*device.value);
  if (energy.value) return {std::make_unique<NvmlSensor>(nvml, *device.value, uuid, true), ""};
  const Reading<unsigned> power = nvml->power_mw(*device.value);
  if (power.value) return {std::make_unique<NvmlSensor>(nvml, *device.value, uuid, false), ""};
  return {nullptr, fmt::format("{} reads neither energy ({}) nor power ({})", uuid, energy.error,
                               power.error)};
}

}  // namespace tailsweep::nvml
