#include "agent/device/power.h"

#include <algorithm>

#include <fmt/format.h>

#include "agent/device/sysfs.h"

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

// One INA3221 rail: its power is the product of its value files times a
// scale (JetPack 5+ hwmon: mV x mA x 1e-6; JetPack 4 iio: mW x 1e-3).
class Ina3221Rail : public PowerSensor {
 public:
  Ina3221Rail(fs::path node, std::string label, std::vector<fs::path> value_files, double scale)
      : node_(std::move(node)),
        label_(std::move(label)),
        value_files_(std::move(value_files)),
        scale_(scale) {}
  std::string description() const override {
    return fmt::format("INA3221 {} ({})", label_, node_.string());
  }
  bool is_energy_counter() const override { return false; }
  std::optional<double> read() override {
    double watts = scale_;
    for (const auto& file : value_files_) {
      const auto value = read_number(file);
      if (!value) return std::nullopt;
      watts *= *value;
    }
    return watts;
  }

 private:
  fs::path node_;
  std::string label_;
  std::vector<fs::path> value_files_;
  double scale_;
};

// Where each JetPack puts the rails: driver/<device>/<node_dir>/<node*>/,
// a label file per channel, and the files whose product is the power.
struct RailLayout {
  const char* driver;
  const char* node_dir;  // "" when the nodes sit in the device folder
  const char* node_prefix;
  int first_channel, last_channel;
  const char* label_file;                // fmt pattern of the channel
  std::vector<const char*> value_files;  // fmt patterns of the channel
  double scale;
};

const std::vector<RailLayout>& rail_layouts() {
  static const std::vector<RailLayout> layouts = {
      {"/sys/bus/i2c/drivers/ina3221",
       "hwmon",
       "hwmon",
       1,
       4,
       "in{}_label",
       {"in{}_input", "curr{}_input"},
       1e-6},
      {"/sys/bus/i2c/drivers/ina3221x",
       "",
       "iio:device",
       0,
       3,
       "rail_name_{}",
       {"in_power{}_input"},
       1e-3},
  };
  return layouts;
}

// powercap: energy_uj counts up and wraps at max_energy_range_uj.
class RaplPackage : public PowerSensor {
 public:
  RaplPackage(fs::path dir, double range_uj) : dir_(std::move(dir)), range_uj_(range_uj) {}
  std::string description() const override {
    return fmt::format("RAPL {} ({})", read_line(dir_ / "name").value_or("package"), dir_.string());
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
  for (const RailLayout& layout : rail_layouts()) {
    for (const auto& device : children(under(root, layout.driver), "")) {
      for (const auto& node : children(device / layout.node_dir, layout.node_prefix)) {
        for (int channel = layout.first_channel; channel <= layout.last_channel; ++channel) {
          const auto label =
              read_line(node / fmt::format(fmt::runtime(layout.label_file), channel));
          if (!label || !is_total_input_rail(*label)) continue;
          std::vector<fs::path> files;
          for (const char* pattern : layout.value_files) {
            files.push_back(node / fmt::format(fmt::runtime(pattern), channel));
          }
          auto sensor = std::make_unique<Ina3221Rail>(node, *label, std::move(files), layout.scale);
          if (sensor->read()) return {std::move(sensor), ""};
          return {nullptr, fmt::format("{} is not readable", node.string())};
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

constexpr std::chrono::milliseconds kPeakSpan{250};

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
    // Peak: the fastest rate between two readings at least kPeakSpan apart,
    // over spans that overlap the window. Rates between neighbours 10 ms
    // apart are several times the truth for a counter that its sensor
    // updates in steps (NVML's on an H100: 4.1 kW "peaks" on a 700 W board).
    result.peak_w = result.average_w;
    std::size_t j = 0;
    for (std::size_t i = 0; i < readings.size() && readings[i].at <= end; ++i) {
      j = std::max(j, i + 1);
      while (j < readings.size() && readings[j].at - readings[i].at < kPeakSpan) ++j;
      if (j == readings.size()) break;
      if (readings[j].at < begin) continue;
      const double span = Seconds(readings[j].at - readings[i].at).count();
      result.peak_w = std::max(result.peak_w, (readings[j].value - readings[i].value) / span);
    }
    for (const Reading& reading : readings) {
      result.readings += begin <= reading.at && reading.at <= end;
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
    : sensor_(std::move(sensor)), period_(period) {
  // One reading before the constructor returns: a window that starts right
  // after it (the idle baseline) has a reading at or before its start.
  if (const auto value = sensor_->read()) readings_.push_back({Clock::now(), *value});
  thread_ = std::thread([this] { run(); });
}

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
    read_.notify_all();
    wake_.wait_for(lock, period_, [this] { return stopping_; });
  }
}

std::optional<WindowPower> Sampler::window(Clock::time_point begin, Clock::time_point end) const {
  std::unique_lock<std::mutex> lock(mutex_);
  // A window that has just ended has no reading after it yet, and an energy
  // counter needs one on each side to be interpolated: wait for the next
  // reading (a few periods at most, in case the sensor stops answering).
  read_.wait_for(lock, 3 * period_ + std::chrono::milliseconds(100),
                 [&] { return stopping_ || (!readings_.empty() && readings_.back().at >= end); });
  return window_power(readings_, sensor_->is_energy_counter(), begin, end);
}

}  // namespace tailsweep::power
