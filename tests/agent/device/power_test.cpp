#include "agent/device/power.h"

#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/temp_dir.h"

namespace tailsweep::power {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

void write(const std::filesystem::path& root, const std::string& absolute,
           const std::string& text) {
  const auto path = root / std::filesystem::path(absolute).relative_path();
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(JetsonSensor, ReadsVddInFromHwmonOnJetPack5NotASumOfRails) {
  testing::TempDir root("tailsweep-power");
  const std::string hwmon = "/sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/";
  write(root.path(), hwmon + "in1_label", "VDD_IN\n");
  write(root.path(), hwmon + "in1_input", "5000\n");    // mV
  write(root.path(), hwmon + "curr1_input", "1200\n");  // mA
  write(root.path(), hwmon + "in2_label", "VDD_CPU_GPU_CV\n");
  write(root.path(), hwmon + "in2_input", "5000\n");
  write(root.path(), hwmon + "curr2_input", "800\n");
  SensorProbe probe = find_jetson_sensor(root.path());
  ASSERT_TRUE(probe.sensor) << probe.unavailable_reason;
  EXPECT_FALSE(probe.sensor->is_energy_counter());
  EXPECT_THAT(probe.sensor->description(), HasSubstr("VDD_IN"));
  EXPECT_DOUBLE_EQ(probe.sensor->read().value(), 6.0);
  // The sensor follows the file.
  write(root.path(), hwmon + "curr1_input", "1500\n");
  EXPECT_DOUBLE_EQ(probe.sensor->read().value(), 7.5);
}

TEST(JetsonSensor, ReadsPom5vInFromIioOnJetPack4) {
  testing::TempDir root("tailsweep-power");
  const std::string iio = "/sys/bus/i2c/drivers/ina3221x/6-0040/iio:device0/";
  write(root.path(), iio + "rail_name_0", "POM_5V_IN\n");
  write(root.path(), iio + "in_power0_input", "2500\n");  // mW
  write(root.path(), iio + "rail_name_1", "POM_5V_GPU\n");
  write(root.path(), iio + "in_power1_input", "900\n");
  SensorProbe probe = find_power_sensor(root.path());
  ASSERT_TRUE(probe.sensor) << probe.unavailable_reason;
  EXPECT_THAT(probe.sensor->description(), HasSubstr("POM_5V_IN"));
  EXPECT_DOUBLE_EQ(probe.sensor->read().value(), 2.5);
}

TEST(RaplSensor, CountsJoulesAcrossAWrap) {
  testing::TempDir root("tailsweep-power");
  const std::string rapl = "/sys/class/powercap/intel-rapl:0/";
  write(root.path(), rapl + "name", "package-0\n");
  write(root.path(), rapl + "max_energy_range_uj", "10000000\n");
  write(root.path(), rapl + "energy_uj", "9000000\n");
  SensorProbe probe = find_rapl_sensor(root.path());
  ASSERT_TRUE(probe.sensor) << probe.unavailable_reason;
  EXPECT_TRUE(probe.sensor->is_energy_counter());
  EXPECT_DOUBLE_EQ(probe.sensor->read().value(), 9.0);
  write(root.path(), rapl + "energy_uj", "500000\n");  // wrapped past 10 J
  EXPECT_DOUBLE_EQ(probe.sensor->read().value(), 10.5);
}

TEST(PowerSensor, NoSensorGivesEveryReasonAndNoNumber) {
  testing::TempDir root("tailsweep-power");
  const SensorProbe probe = find_power_sensor(root.path());
  EXPECT_FALSE(probe.sensor);
  EXPECT_THAT(probe.unavailable_reason, HasSubstr("INA3221"));
  EXPECT_THAT(probe.unavailable_reason, HasSubstr("RAPL"));
}

Clock::time_point at_s(double seconds) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)));
}

// Readings 2, 4, 6, 2 W at t = 0, 1, 2, 3 s; window [0.5, 2.5]:
// 0.5 s at 2 W + 1 s at 4 W + 0.5 s at 6 W = 8 J over 2 s = 4 W.
TEST(WindowPower, PowerReadingsAreTimeWeighted) {
  const std::vector<Reading> readings = {{at_s(0), 2}, {at_s(1), 4}, {at_s(2), 6}, {at_s(3), 2}};
  const auto window = window_power(readings, false, at_s(0.5), at_s(2.5));
  ASSERT_TRUE(window.has_value());
  EXPECT_DOUBLE_EQ(window->average_w, 4.0);
  EXPECT_DOUBLE_EQ(window->energy_j, 8.0);
  EXPECT_DOUBLE_EQ(window->peak_w, 6.0);
  EXPECT_EQ(window->readings, 3u);
}

// Counter 0, 5, 15, 18 J at t = 0..3 s; at 0.5 s it reads 2.5 J, at 2.5 s
// 16.5 J: 14 J over 2 s = 7 W; the fastest interval is 10 W.
TEST(WindowPower, EnergyCountersAreInterpolatedAtTheEdges) {
  const std::vector<Reading> readings = {{at_s(0), 0}, {at_s(1), 5}, {at_s(2), 15}, {at_s(3), 18}};
  const auto window = window_power(readings, true, at_s(0.5), at_s(2.5));
  ASSERT_TRUE(window.has_value());
  EXPECT_DOUBLE_EQ(window->energy_j, 14.0);
  EXPECT_DOUBLE_EQ(window->average_w, 7.0);
  EXPECT_DOUBLE_EQ(window->peak_w, 10.0);
}

// NVML's counter moves every 25 ms; read every 10 ms, neighbours differ by
// 0 or one whole step. A steady 400 W must not show a 1000 W peak.
TEST(WindowPower, ACounterThatMovesInStepsHasNoFalsePeak) {
  std::vector<Reading> readings;
  for (int ms = 0; ms <= 1000; ms += 10) {
    readings.push_back({at_s(ms / 1000.0), 0.4 * 25 * (ms / 25)});  // J, in 25 ms steps
  }
  const auto window = window_power(readings, true, at_s(0.2), at_s(0.8));
  ASSERT_TRUE(window.has_value());
  EXPECT_NEAR(window->average_w, 400.0, 400.0 * 0.05);
  EXPECT_LE(window->peak_w, 400.0 * 1.15);
  EXPECT_GE(window->peak_w, window->average_w);
  EXPECT_EQ(window->readings, 61u);
}

TEST(WindowPower, TooFewReadingsGiveNothing) {
  const std::vector<Reading> one = {{at_s(0), 3}};
  EXPECT_FALSE(window_power(one, false, at_s(0), at_s(1)).has_value());
  const std::vector<Reading> outside = {{at_s(5), 3}, {at_s(6), 3}};
  EXPECT_FALSE(window_power(outside, true, at_s(0), at_s(1)).has_value());
  EXPECT_FALSE(window_power(outside, false, at_s(1), at_s(1)).has_value());
}

class ConstantSensor : public PowerSensor {
 public:
  std::string description() const override { return "constant 3 W"; }
  bool is_energy_counter() const override { return false; }
  std::optional<double> read() override { return 3.0; }
};

TEST(Sampler, ReadsInItsOwnThreadUntilDestroyed) {
  const Sampler sampler(std::make_unique<ConstantSensor>(), milliseconds(1));
  const auto begin = Clock::now();
  std::this_thread::sleep_for(milliseconds(30));
  const auto window = sampler.window(begin, Clock::now());
  ASSERT_TRUE(window.has_value());
  EXPECT_NEAR(window->average_w, 3.0, 1e-12);  // a time-weighted sum: rounding only
  EXPECT_GE(window->readings, 2u);
}

// Counts up 1 J per millisecond of the steady clock: 1000 W.
class SteadyCounter : public PowerSensor {
 public:
  std::string description() const override { return "steady counter"; }
  bool is_energy_counter() const override { return true; }
  std::optional<double> read() override {
    return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
  }
};

TEST(Sampler, AnEnergyWindowAskedForTheMomentItEndsWaitsForTheNextReading) {
  // The counter must be read after the window's end to be interpolated
  // there; asking right at the end used to give nothing.
  const Sampler sampler(std::make_unique<SteadyCounter>(), milliseconds(20));
  // A window that starts as the sampler does (the idle baseline) has the
  // reading taken at construction before it.
  const auto idle_begin = Clock::now();
  std::this_thread::sleep_for(milliseconds(45));
  const auto idle = sampler.window(idle_begin, Clock::now());
  ASSERT_TRUE(idle.has_value());
  EXPECT_NEAR(idle->average_w, 1000.0, 1.0);
  for (int i = 0; i < 5; ++i) {
    const auto begin = Clock::now();
    std::this_thread::sleep_for(milliseconds(45));
    const auto window = sampler.window(begin, Clock::now());
    ASSERT_TRUE(window.has_value()) << "window " << i;
    EXPECT_NEAR(window->average_w, 1000.0, 1.0);
  }
}

}  // namespace
}  // namespace tailsweep::power
