// GPU facts and NVML power against a fake driver library that the tests build
// (fake_gpu_library.cpp), and against libraries that are not there.
#include "agent/device/gpu_facts.h"

#include <cstdlib>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent/device/nvml.h"

namespace tailsweep {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const GpuLibraries kFake{TAILSWEEP_FAKE_GPU_LIBRARY, TAILSWEEP_FAKE_GPU_LIBRARY};
constexpr const char* kFakeUuid = "GPU-00010203-0405-0607-0809-0a0b0c0d0e0f";

// Sets FAKE_GPU_MODE for one test.
class FakeGpuMode {
 public:
  explicit FakeGpuMode(const char* mode) { ::setenv("FAKE_GPU_MODE", mode, 1); }
  ~FakeGpuMode() { ::unsetenv("FAKE_GPU_MODE"); }
};

TEST(GpuFacts, ReadsTheDriverAndNvmlFindsTheSameGpuByUuid) {
  const GpuFacts facts = read_gpu_facts(0, kFake);
  EXPECT_TRUE(facts.unavailable.empty()) << nlohmann::json(facts).dump(2);
  EXPECT_EQ(facts.name, "Fake GPU H100");
  EXPECT_EQ(facts.uuid, kFakeUuid);
  EXPECT_EQ(facts.pci_bus_id, "00000000:65:00.0");
  EXPECT_EQ(facts.compute_capability, "9.0");
  EXPECT_EQ(facts.sm_count, 132);
  EXPECT_EQ(facts.max_threads_per_sm, 2048);
  EXPECT_EQ(facts.sm_clock_max_mhz, 1980);
  EXPECT_EQ(facts.memory_clock_max_mhz, 2619);
  EXPECT_EQ(facts.memory_bus_width_bits, 5120);
  EXPECT_EQ(facts.l2_cache_bytes, 52428800);
  EXPECT_EQ(facts.memory_bytes, 85520809984LL);
  EXPECT_EQ(facts.driver_cuda_version, "13.0");
  EXPECT_EQ(facts.driver_version, "580.159.04");
  EXPECT_EQ(facts.sm_clock_mhz, 345);
  EXPECT_EQ(facts.memory_clock_mhz, 2619);
  EXPECT_EQ(facts.temperature_c, 31);
  EXPECT_EQ(facts.performance_state, "P0");
  EXPECT_DOUBLE_EQ(facts.power_limit_w.value(), 700.0);
  EXPECT_DOUBLE_EQ(facts.power_draw_w.value(), 70.5);
  EXPECT_THAT(facts.clock_event_reasons.value(), ElementsAre("gpu_idle", "sw_power_cap"));
}

TEST(GpuFacts, NoDriverLibraryGivesEveryReasonAndNoNumber) {
  const GpuFacts facts =
      read_gpu_facts(0, {"/nonexistent/libcuda.so.1", "/nonexistent/libnvml.so"});
  EXPECT_FALSE(facts.name);
  EXPECT_FALSE(facts.sm_count);
  EXPECT_FALSE(facts.driver_version);
  EXPECT_THAT(facts.unavailable.at("sm_count"), HasSubstr("cannot be loaded"));
  EXPECT_THAT(facts.unavailable.at("sm_count"), HasSubstr("/nonexistent/libcuda.so.1"));
  EXPECT_THAT(facts.unavailable.at("temperature_c"), HasSubstr("UUID"));
  const nlohmann::json json = facts;
  EXPECT_TRUE(json.at("sm_count").is_null());
  EXPECT_EQ(json.at("unavailable").size(), 20u);
}

TEST(GpuFacts, DriverWithoutAUsableGpuSaysSo) {
  const FakeGpuMode mode("no_device");
  const GpuFacts facts = read_gpu_facts(0, kFake);
  EXPECT_FALSE(facts.name);
  EXPECT_THAT(facts.unavailable.at("name"), HasSubstr("no CUDA-capable device"));
}

TEST(GpuFacts, AnOrdinalBeyondTheDevicesKeepsTheDriverVersion) {
  const GpuFacts facts = read_gpu_facts(3, kFake);
  EXPECT_EQ(facts.ordinal, 3);
  EXPECT_FALSE(facts.name);
  EXPECT_EQ(facts.driver_cuda_version, "13.0");
  EXPECT_THAT(facts.unavailable.at("name"), HasSubstr("CUDA device 3 does not exist"));
  EXPECT_EQ(facts.unavailable.count("driver_cuda_version"), 0u);
}

TEST(GpuFacts, ClockEventReasonBitsAreNamedInOrder) {
  EXPECT_TRUE(clock_event_reason_names(0).empty());
  EXPECT_THAT(clock_event_reason_names(0x40 | 0x8 | 0x100),
              ElementsAre("hw_slowdown", "hw_thermal_slowdown", "display_clock_setting"));
  EXPECT_THAT(clock_event_reason_names(1ULL << 40), ElementsAre("bit_40"));
}

TEST(NvmlPower, TheEnergyCounterGivesWattsOverAWindow) {
  power::SensorProbe probe = nvml::find_nvml_power_sensor(kFakeUuid, TAILSWEEP_FAKE_GPU_LIBRARY);
  ASSERT_TRUE(probe.sensor) << probe.unavailable_reason;
  EXPECT_TRUE(probe.sensor->is_energy_counter());
  EXPECT_THAT(probe.sensor->description(), HasSubstr("energy counter"));
  power::Sampler sampler(std::move(probe.sensor), std::chrono::milliseconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto begin = power::Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto end = power::Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const auto window = sampler.window(begin, end);
  ASSERT_TRUE(window);
  // The fake draws a steady 250 W on the same steady clock.
  EXPECT_NEAR(window->average_w, 250.0, 2.5);
  EXPECT_NEAR(window->energy_j, 250.0 * std::chrono::duration<double>(end - begin).count(), 0.5);
}

TEST(NvmlPower, WithoutAnEnergyCounterItReadsPower) {
  const FakeGpuMode mode("no_energy");
  power::SensorProbe probe = nvml::find_nvml_power_sensor(kFakeUuid, TAILSWEEP_FAKE_GPU_LIBRARY);
  ASSERT_TRUE(probe.sensor) << probe.unavailable_reason;
  EXPECT_FALSE(probe.sensor->is_energy_counter());
  EXPECT_DOUBLE_EQ(probe.sensor->read().value(), 70.5);
}

TEST(NvmlPower, NoReadingsGiveTheReasonsAndNoSensor) {
  {
    const FakeGpuMode mode("no_power");
    const power::SensorProbe probe =
        nvml::find_nvml_power_sensor(kFakeUuid, TAILSWEEP_FAKE_GPU_LIBRARY);
    EXPECT_FALSE(probe.sensor);
    EXPECT_THAT(probe.unavailable_reason, HasSubstr("Not Supported"));
  }
  const power::SensorProbe other_gpu = nvml::find_nvml_power_sensor(
      "GPU-ffffffff-0000-0000-0000-000000000000", TAILSWEEP_FAKE_GPU_LIBRARY);
  EXPECT_FALSE(other_gpu.sensor);
  EXPECT_THAT(other_gpu.unavailable_reason, HasSubstr("Not Found"));
  const power::SensorProbe no_library =
      nvml::find_nvml_power_sensor(kFakeUuid, "/nonexistent/libnvidia-ml.so.1");
  EXPECT_FALSE(no_library.sensor);
  EXPECT_THAT(no_library.unavailable_reason, HasSubstr("cannot be loaded"));
}

}  // namespace
}  // namespace tailsweep
