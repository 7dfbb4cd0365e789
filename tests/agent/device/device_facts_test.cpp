#include "agent/device/device_facts.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/temp_dir.h"

namespace tailsweep {
namespace {

void write(const std::filesystem::path& root, const std::string& absolute,
           const std::string& text) {
  const auto path = root / std::filesystem::path(absolute).relative_path();
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

TEST(DeviceFacts, ReadsAJetsonOrinNanoTree) {
  testing::TempDir root("tailsweep-facts");
  const auto& r = root.path();
  write(r, "/proc/cpuinfo",
        "processor\t: 0\nBogoMIPS\t: 62.50\nCPU part\t: 0xd42\n\n"
        "processor\t: 1\nCPU part\t: 0xd42\n\nHardware\t: NVIDIA Orin\n");
  write(r, "/proc/meminfo", "MemTotal:        7620324 kB\nMemFree:  100 kB\n");
  write(r, "/proc/sys/kernel/osrelease", "5.10.120-tegra\n");
  write(r, "/proc/device-tree/model", std::string("NVIDIA Jetson Orin Nano Developer Kit") + '\0');
  write(r, "/etc/nv_tegra_release",
        "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64\n"
        "# KERNEL_VARIANT: oot\n");
  write(r, "/var/lib/nvpmodel/status", "pmode:0001 fmode:fanNull\n");
  const std::string cpufreq = "/sys/devices/system/cpu/cpu0/cpufreq/";
  write(r, cpufreq + "scaling_governor", "schedutil\n");
  write(r, cpufreq + "scaling_cur_freq", "1510400\n");
  write(r, cpufreq + "cpuinfo_max_freq", "1510400\n");
  write(r, cpufreq + "scaling_min_freq", "1510400\n");
  write(r, cpufreq + "scaling_max_freq", "1510400\n");
  write(r, "/sys/class/thermal/thermal_zone0/type", "CPU-therm\n");
  write(r, "/sys/class/thermal/thermal_zone0/temp", "47500\n");
  write(r, "/sys/class/thermal/thermal_zone1/type", "GPU-therm\n");
  write(r, "/sys/class/thermal/thermal_zone1/temp", "46218\n");

  const HostFacts facts = read_host_facts(r);
  EXPECT_EQ(facts.cpu_model, "NVIDIA Orin");
  EXPECT_EQ(facts.logical_cpus, 2);
  EXPECT_EQ(facts.memory_bytes, 7620324LL * 1024);
  EXPECT_EQ(facts.kernel, "5.10.120-tegra");
  EXPECT_EQ(facts.device_model, "NVIDIA Jetson Orin Nano Developer Kit");
  EXPECT_EQ(facts.l4t_release,
            "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64");
  EXPECT_EQ(facts.nvpmodel_mode, "0001");
  EXPECT_EQ(facts.governor, "schedutil");
  EXPECT_EQ(facts.cpu_max_khz, 1510400);
  EXPECT_EQ(facts.clocks_pinned, true);
  ASSERT_EQ(facts.temperatures.size(), 2u);
  EXPECT_EQ(facts.temperatures[0].zone, "CPU-therm");
  EXPECT_DOUBLE_EQ(facts.temperatures[0].celsius, 47.5);
  EXPECT_TRUE(facts.is_jetson());
  EXPECT_TRUE(facts.unavailable.empty());
}

TEST(DeviceFacts, AnX86VmWithoutCpufreqSaysWhy) {
  testing::TempDir root("tailsweep-facts");
  write(root.path(), "/proc/cpuinfo",
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n\n"
        "processor\t: 1\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\n");
  const HostFacts facts = read_host_facts(root.path());
  EXPECT_EQ(facts.cpu_model, "Intel(R) Xeon(R) CPU @ 2.20GHz");
  EXPECT_EQ(facts.logical_cpus, 2);
  EXPECT_FALSE(facts.governor.has_value());
  EXPECT_FALSE(facts.is_jetson());
  EXPECT_NE(facts.unavailable.at("governor").find("cpufreq"), std::string::npos);
  EXPECT_TRUE(facts.unavailable.contains("l4t_release"));
  EXPECT_TRUE(facts.unavailable.contains("temperatures"));

  nlohmann::json json = facts;
  EXPECT_TRUE(json.at("governor").is_null());
  EXPECT_EQ(json.at("jetson"), false);
  EXPECT_EQ(json.at("unavailable").at("memory_bytes"), "no MemTotal in /proc/meminfo");
}

TEST(DeviceFacts, AnEmptyRootGivesOnlyReasons) {
  testing::TempDir root("tailsweep-facts");
  const HostFacts facts = read_host_facts(root.path());
  EXPECT_FALSE(facts.cpu_model.has_value());
  EXPECT_FALSE(facts.kernel.has_value());
  EXPECT_GE(facts.unavailable.size(), 10u);
}

TEST(DeviceFacts, ThisMachineHasAtLeastACpuAndAKernel) {
  const HostFacts facts = read_host_facts();
  EXPECT_TRUE(facts.logical_cpus.has_value());
  EXPECT_TRUE(facts.kernel.has_value());
  EXPECT_TRUE(facts.memory_bytes.has_value());
}

}  // namespace
}  // namespace tailsweep
