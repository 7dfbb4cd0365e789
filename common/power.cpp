#include "common/power.h"

#include "common/sysfs.h"

#include <fmt/format.h>

#include <algorithm>

namespace tailsweep::power {
namespace {

namespace fs = std::filesystem;

using sysfs::children;
using sysfs::read_line;
using sysfs::read_number;
using sysfs::under;

bool is_total_input_rail(const std::string& label) {
  return label == "VDD_IN" || label == "POM_5V_IN";
}

// JetPack 5+: .../hwmon/hwmonN/in<k>_label, in<k>_input (mV), curr<k>_input (mA).
class HwmonRail : public PowerSensor {
 public:
  HwmonRail(fs::path dir, int channel, std::string label)
      : dir_(std::move(dir)), channel_(channel), label_(std::move(label)) {}
  std::string description() const override {
    return fmt::format("INA3221 {} ({})", label_, dir_.string());
  }
  bool is_energy_counter() const override { return false; }
  std::optional<double> read() override {
    const auto millivolts = read_number(dir_ / fmt::format("in{}_input", channel_));
    const auto milliamps = read_number(dir_ / fmt::format("curr{}_input", channel_));
    if (!millivolts || !milliamps) return std::nullopt;
    return *millivolts * *milliamps / 1e6;
  }

 private:
  fs::path dir_;
  int channel_;
  std::string label_;
};

// JetPack 4: .../iio:deviceN/rail_name_<k>, in_power<k>_input (mW).
class IioRail : public PowerSensor {
 public:
  IioRail(fs::path dir, int channel, std::string label)
      : dir_(std::move(dir)), channel_(channel), label_(std::move(label)) {}
  std::string description() const override {
    return fmt::format("INA3221 {} ({})", label_, dir_.string());
  }
  bool is_energy_counter() const override { return false; }
  std::optional<double> read() override {
    const auto milliwatts = read_number(dir_ / fmt::format("in_power{}_input", channel_));
    if (!milliwatts) return std::nullopt;
    return *milliwatts / 1000.0;
  }

 private:
  fs::path dir_;
  int channel_;
  std::string label_;
};

// powercap: energy_uj counts up and wraps at max_energy_range_uj.
class RaplPackage : public PowerSensor {
 public:
  RaplPackage(fs::path dir, double range_uj) : dir_(std::move(dir)), range_uj_(range_uj) {}
  std::string description() const override {
    return fmt::format("RAPL {} ({})", read_line(dir_ / "name").value_or("package"),
                       dir_.string());
  }
  bool is_energy_counter() const override { return true; }
  std::optional<double> read() override {
    const auto microjoules = read_number(dir_ / "energy_uj");
    if (!microjoules) return std::nullopt;
    if (last_uj_ && *microjoules < *last_uj_) wraps_ += 1;
    last_uj_ = microjoules;
    return (*microjoules + wraps_ * range_uj_) / 1e6;
  }

 private:
  fs::path dir_;
  double range_uj_;
  std::optional<double> last_uj_;
  double wraps_ = 0;
};

}  // namespace

SensorProbe find_jetson_sensor(const fs::path& root) {
  for (const auto& device : children(under(root, "/sys/bus/i2c/drivers/ina3221"), "")) {
    for (const auto& hwmon : children(device / "hwmon", "hwmon")) {
      for (int channel = 1; channel <= 4; ++channel) {
        const auto label = read_line(hwmon / fmt::format("in{}_label", channel));
        if (label && is_total_input_rail(*label)) {
          auto sensor = std::make_unique<HwmonRail>(hwmon, channel, *label);
          if (sensor->read()) return {std::move(sensor), ""};
          return {nullptr, fmt::format("{} is not readable", hwmon.string())};
        }
      }
    }
  }
  for (const auto& device : children(under(root, "/sys/bus/i2c/drivers/ina3221x"), "")) {
    for (const auto& iio : children(device, "iio:device")) {
      for (int channel = 0; channel < 4; ++channel) {
        const auto label = read_line(iio / fmt::format("rail_name_{}", channel));
        if (label && is_total_input_rail(*label)) {
          auto sensor = std::make_unique<IioRail>(iio, channel, *label);
          if (sensor->read()) return {std::move(sensor), ""};
          return {nullptr, fmt::format("{} is not readable", iio.string())};
        }
      }
    }
  }
  return {nullptr, "no INA3221 VDD_IN/POM_5V_IN rail under /sys/bus/i2c/drivers (not a Jetson)"};
}

SensorProbe find_rapl_sensor(const fs::path& root) {
  const fs::path package = under(root, "/sys/class/powercap/intel-rapl:0");
  if (!fs::exists(package)) return {nullptr, "no /sys/class/powercap/intel-rapl:0 (no RAPL)"};
  const auto range = read_number(package / "max_energy_range_uj");
  auto sensor = std::make_unique<RaplPackage>(package, range.value_or(0));
  if (!range || !sensor->read()) {
    return {nullptr, fmt::format("{}/energy_uj is not readable (root only since Linux 5.10)",
                                 package.string())};
  }
  return {std::move(sensor), ""};
}

SensorProbe find_power_sensor(const fs::path& root) {
  SensorProbe jetson = find_jetson_sensor(root);
  if (jetson.sensor) return jetson;
  SensorProbe rapl = find_rapl_sensor(root);
  if (rapl.sensor) return rapl;
  return {nullptr, jetson.unavailable_reason + "; " + rapl.unavailable_reason};
}

std::optional<WindowPower> window_power(std::span<const Reading> readings, bool energy_counter,
                                        Clock::time_point begin, Clock::time_point end) {
  using Seconds = std::chrono::duration<double>;
  const double duration_s = Seconds(end - begin).count();
  if (!(duration_s > 0)) return std::nullopt;
  WindowPower result;
  if (energy_counter) {
    // Interpolate the counter at begin and end from the readings around them.
    auto counter_at = [&](Clock::time_point t) -> std::optional<double> {
      for (std::size_t i = 1; i < readings.size(); ++i) {
        if (readings[i - 1].at <= t && t <= readings[i].at) {
          const double span = Seconds(readings[i].at - readings[i - 1].at).count();
          const double f = span > 0 ? Seconds(t - readings[i - 1].at).count() / span : 0.0;
          return readings[i - 1].value + f * (readings[i].value - readings[i - 1].value);
        }
      }
      return std::nullopt;
    };
    const auto first = counter_at(begin);
    const auto last = counter_at(end);
    if (!first || !last) return std::nullopt;
    result.energy_j = *last - *first;
    result.average_w = result.energy_j / duration_s;
    for (std::size_t i = 1; i < readings.size(); ++i) {
      if (readings[i].at < begin || readings[i - 1].at > end) continue;
      const double span = Seconds(readings[i].at - readings[i - 1].at).count();
      if (span > 0) {
        result.peak_w = std::max(result.peak_w, (readings[i].value - readings[i - 1].value) / span);
      }
      ++result.readings;
    }
    return result;
  }
  // Instantaneous power: each reading holds until the next one.
  double weighted = 0;
  double covered = 0;
  for (std::size_t i = 0; i < readings.size(); ++i) {
    const auto from = std::max(readings[i].at, begin);
    const auto to = std::min(i + 1 < readings.size() ? readings[i + 1].at : end, end);
    if (readings[i].at > end || to <= from) continue;
    const double span = Seconds(to - from).count();
    weighted += readings[i].value * span;
    covered += span;
    result.peak_w = std::max(result.peak_w, readings[i].value);
    ++result.readings;
  }
  if (result.readings < 2 || !(covered > 0)) return std::nullopt;
  result.average_w = weighted / covered;
  result.energy_j = result.average_w * duration_s;
  return result;
}

Sampler::Sampler(std::unique_ptr<PowerSensor> sensor, std::chrono::milliseconds period)
    : sensor_(std::move(sensor)), period_(period), thread_([this] { run(); }) {}

Sampler::~Sampler() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Sampler::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto value = sensor_->read();
    const auto at = Clock::now();
    lock.lock();
    if (value) readings_.push_back({at, *value});
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

std::optional<WindowPower> Sampler::window(Clock::time_point begin, Clock::time_point end) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return window_power(readings_, sensor_->is_energy_counter(), begin, end);
}

}  // namespace tailsweep::power
