#pragma once
// Power from the device's own sensors, never estimated:
//  - Jetson INA3221 rails under sysfs: the board's total input, VDD_IN
//    (Orin, TX2) or POM_5V_IN (Nano), not a sum of rails; JetPack 5+ puts it
//    under hwmon (in<k>_label/_input mV, curr<k>_input mA), JetPack 4 under
//    iio (rail_name_<k>, in_power<k>_input mW);
//  - Intel RAPL package energy counters under powercap (energy_uj, wrapping
//    at max_energy_range_uj).
// A sampler thread reads on the steady clock, the clock the inference
// window is timed on; window_power() turns readings into average and peak
// watts and joules over that window. No sensor, or one that cannot be read:
// no number, and the reason.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace tailsweep::power {

using Clock = std::chrono::steady_clock;

class PowerSensor {
 public:
  virtual ~PowerSensor() = default;
  virtual std::string description() const = 0;
  // true: read() is cumulative joules (monotonic, wraps handled inside);
  // false: read() is instantaneous watts.
  virtual bool is_energy_counter() const = 0;
  // nullopt when a read fails (the sampler records the gap).
  virtual std::optional<double> read() = 0;
};

struct SensorProbe {
  std::unique_ptr<PowerSensor> sensor;  // null when none is usable
  std::string unavailable_reason;       // why, when sensor is null
};

SensorProbe find_jetson_sensor(const std::filesystem::path& root);
SensorProbe find_rapl_sensor(const std::filesystem::path& root);
// The first usable of Jetson and RAPL; otherwise every reason, joined.
SensorProbe find_power_sensor(const std::filesystem::path& root = "/");

struct Reading {
  Clock::time_point at;
  double value = 0;  // watts or cumulative joules, as the sensor says
};

struct WindowPower {
  double average_w = 0;
  double peak_w = 0;
  double energy_j = 0;
  std::size_t readings = 0;
};

// Average, peak and energy over [begin, end], from readings taken around it.
// Power readings: the time-weighted mean of the readings inside the window
// (each holding until the next), peak the largest. Energy counters: the
// counter interpolated at both ends, peak the largest rate between two
// readings at least 250 ms apart (or the average, in a shorter window);
// `readings` counts those inside the window.
// nullopt when the window holds fewer than two readings.
std::optional<WindowPower> window_power(std::span<const Reading> readings, bool energy_counter,
                                        Clock::time_point begin, Clock::time_point end);

// Reads a sensor every `period` in its own thread until destroyed (RAII).
class Sampler {
 public:
  Sampler(std::unique_ptr<PowerSensor> sensor, std::chrono::milliseconds period);
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  const PowerSensor& sensor() const { return *sensor_; }
  // Waits for the first reading after `end` (one period, usually) when the
  // window has only just ended.
  std::optional<WindowPower> window(Clock::time_point begin, Clock::time_point end) const;

 private:
  void run();

  std::unique_ptr<PowerSensor> sensor_;
  std::chrono::milliseconds period_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  mutable std::condition_variable read_;  // after each reading
  bool stopping_ = false;
  std::vector<Reading> readings_;
  std::thread thread_;
};

}  // namespace tailsweep::power
