#include "agent/device/device_facts.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/device/sysfs.h"

namespace tailsweep {
namespace {

namespace fs = std::filesystem;

using sysfs::read_integer;
using sysfs::read_text;
using sysfs::under;

// "key : value" lines of /proc/cpuinfo and /proc/meminfo.
std::optional<std::string> field(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    name.erase(name.find_last_not_of(" \t") + 1);
    if (name != key) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    return value;
  }
  return std::nullopt;
}

template <typename T>
void note(HostFacts& facts, const std::string& name, const std::optional<T>& value,
          const std::string& reason) {
  if (!value) facts.unavailable[name] = reason;
}

void read_cpu(const fs::path& root, HostFacts& facts) {
  const auto cpuinfo = read_text(under(root, "/proc/cpuinfo"));
  if (cpuinfo) {
    facts.cpu_model = field(*cpuinfo, "model name");
    if (!facts.cpu_model) facts.cpu_model = field(*cpuinfo, "Hardware");
    int processors = 0;
    std::istringstream lines(*cpuinfo);
    for (std::string line; std::getline(lines, line);) {
      processors += line.rfind("processor", 0) == 0;
    }
    if (processors > 0) facts.logical_cpus = processors;
  }
  note(facts, "cpu_model", facts.cpu_model, "no model name in /proc/cpuinfo");
  note(facts, "logical_cpus", facts.logical_cpus, "no processor lines in /proc/cpuinfo");

  const std::string cpufreq = "/sys/devices/system/cpu/cpu0/cpufreq/";
  facts.governor = read_text(under(root, cpufreq + "scaling_governor"));
  facts.cpu_cur_khz = read_integer(under(root, cpufreq + "scaling_cur_freq"));
  facts.cpu_max_khz = read_integer(under(root, cpufreq + "cpuinfo_max_freq"));
  const std::string no_cpufreq = "no cpufreq for cpu0 (a VM, or the driver is not loaded)";
  note(facts, "governor", facts.governor, no_cpufreq);
  note(facts, "cpu_cur_khz", facts.cpu_cur_khz, no_cpufreq);
  note(facts, "cpu_max_khz", facts.cpu_max_khz, no_cpufreq);
  const auto min_khz = read_integer(under(root, cpufreq + "scaling_min_freq"));
  const auto max_khz = read_integer(under(root, cpufreq + "scaling_max_freq"));
  if (min_khz && max_khz) facts.clocks_pinned = *min_khz == *max_khz;
  note(facts, "clocks_pinned", facts.clocks_pinned, no_cpufreq);
}

void read_memory_and_kernel(const fs::path& root, HostFacts& facts) {
  if (const auto meminfo = read_text(under(root, "/proc/meminfo"))) {
    if (const auto total = field(*meminfo, "MemTotal")) {
      try {
        facts.memory_bytes = std::stoll(*total) * 1024;  // "16318480 kB"
      } catch (const std::exception&) {
      }
    }
  }
  note(facts, "memory_bytes", facts.memory_bytes, "no MemTotal in /proc/meminfo");
  facts.kernel = read_text(under(root, "/proc/sys/kernel/osrelease"));
  note(facts, "kernel", facts.kernel, "cannot read /proc/sys/kernel/osrelease");
}

void read_jetson(const fs::path& root, HostFacts& facts) {
  facts.device_model = read_text(under(root, "/proc/device-tree/model"));
  note(facts, "device_model", facts.device_model, "no /proc/device-tree/model (not an SoC board)");
  if (const auto release = read_text(under(root, "/etc/nv_tegra_release"))) {
    facts.l4t_release = release->substr(0, release->find('\n'));
  }
  note(facts, "l4t_release", facts.l4t_release, "no /etc/nv_tegra_release (not L4T)");
  // nvpmodel keeps its current mode here ("pmode:0002 fmode:...").
  if (const auto status = read_text(under(root, "/var/lib/nvpmodel/status"))) {
    const auto at = status->find("pmode:");
    if (at != std::string::npos) {
      facts.nvpmodel_mode = status->substr(at + 6, status->find_first_of(" \n", at) - at - 6);
    }
  }
  note(facts, "nvpmodel_mode", facts.nvpmodel_mode, "no /var/lib/nvpmodel/status");
}

void read_temperatures(const fs::path& root, HostFacts& facts) {
  for (const auto& zone : sysfs::children(under(root, "/sys/class/thermal"), "thermal_zone")) {
    const auto type = read_text(zone / "type");
    const auto millidegrees = read_integer(zone / "temp");
    if (type && millidegrees) {
      facts.temperatures.push_back({*type, static_cast<double>(*millidegrees) / 1000.0});
    }
  }
  std::sort(facts.temperatures.begin(), facts.temperatures.end(),
            [](const Temperature& a, const Temperature& b) { return a.zone < b.zone; });
  if (facts.temperatures.empty()) {
    facts.unavailable["temperatures"] = "no readable /sys/class/thermal/thermal_zone*";
  }
}

template <typename T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

bool HostFacts::is_jetson() const {
  return l4t_release.has_value() ||
         (device_model && device_model->find("Jetson") != std::string::npos);
}

HostFacts read_host_facts(const std::filesystem::path& root) {
  HostFacts facts;
  read_cpu(root, facts);
  read_memory_and_kernel(root, facts);
  read_jetson(root, facts);
  read_temperatures(root, facts);
  return facts;
}

void to_json(nlohmann::json& out, const HostFacts& facts) {
  nlohmann::json temperatures = nlohmann::json::array();
  for (const auto& t : facts.temperatures) {
    temperatures.push_back({{"zone", t.zone}, {"celsius", t.celsius}});
  }
  out = {{"cpu_model", or_null(facts.cpu_model)},
         {"logical_cpus", or_null(facts.logical_cpus)},
         {"governor", or_null(facts.governor)},
         {"cpu_cur_khz", or_null(facts.cpu_cur_khz)},
         {"cpu_max_khz", or_null(facts.cpu_max_khz)},
         {"clocks_pinned", or_null(facts.clocks_pinned)},
         {"memory_bytes", or_null(facts.memory_bytes)},
         {"kernel", or_null(facts.kernel)},
         {"jetson", facts.is_jetson()},
         {"device_model", or_null(facts.device_model)},
         {"l4t_release", or_null(facts.l4t_release)},
         {"nvpmodel_mode", or_null(facts.nvpmodel_mode)},
         {"temperatures", temperatures},
         {"unavailable", facts.unavailable}};
}

}  // namespace tailsweep
