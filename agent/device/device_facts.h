#pragma once
// Facts about the machine a result was measured on, read from procfs and
// sysfs under a root folder (so tests run against fake trees they build).
// A fact that cannot be read is absent with the reason, never guessed.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tailsweep {

struct Temperature {
  std::string zone;  // thermal_zone type, e.g. "CPU-therm", "x86_pkg_temp"
  double celsius = 0;
};

struct HostFacts {
  std::optional<std::string> cpu_model;
  std::optional<int> logical_cpus;
  std::optional<std::string> governor;  // cpu0's cpufreq governor
  std::optional<int64_t> cpu_cur_khz, cpu_max_khz;
  std::optional<int64_t> memory_bytes;
  std::optional<std::string> kernel;
  // Jetson only: /proc/device-tree/model, the L4T release line, the
  // nvpmodel power mode, and whether jetson_clocks pinned the CPU clocks
  // (scaling_min_freq == scaling_max_freq).
  std::optional<std::string> device_model;
  std::optional<std::string> l4t_release;
  std::optional<std::string> nvpmodel_mode;
  std::optional<bool> clocks_pinned;
  std::vector<Temperature> temperatures;
  // fact name -> why it is absent
  std::map<std::string, std::string> unavailable;

  bool is_jetson() const;
};

// root is "/" on a real machine.
HostFacts read_host_facts(const std::filesystem::path& root = "/");

void to_json(nlohmann::json& out, const HostFacts& facts);

}  // namespace tailsweep
