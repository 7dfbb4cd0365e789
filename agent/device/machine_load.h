#pragma once
// What else the machine was doing while a point was measured: the load
// average (/proc/loadavg) and the CPU time stolen by the hypervisor
// (/proc/stat's "steal" column, which virtual machines report and bare
// metal leaves at 0). Reads fail soft: nullopt, never an exception.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace tailsweep::machine_load {

// The whole machine's CPU time so far, in the kernel's ticks (USER_HZ).
struct CpuTicks {
  uint64_t total = 0;  // every column of the "cpu" line except guest time (already in user)
  uint64_t steal = 0;
};

// Parses /proc/stat's text; nullopt when its first line is not "cpu ..."
// with at least the eight columns up to steal (Linux 2.6.11 and later).
std::optional<CpuTicks> parse_proc_stat(std::string_view text);
// Parses /proc/loadavg's text: the 1-minute load average.
std::optional<double> parse_load_average(std::string_view text);

std::optional<CpuTicks> read_cpu_ticks(const std::filesystem::path& root = "/");
std::optional<double> read_load_average(const std::filesystem::path& root = "/");

// Share of the CPU time between two readings that was stolen: 0..1;
// nullopt when no tick passed (readings too close together).
std::optional<double> steal_fraction(const CpuTicks& before, const CpuTicks& after);

// Accumulates steal over the windows of one point (its slices), and the
// mean of the load averages read at their starts.
class LoadTally {
 public:
  void add_window(const std::optional<CpuTicks>& before, const std::optional<CpuTicks>& after,
                  std::optional<double> load_average);
  std::optional<double> steal_fraction() const;
  std::optional<double> mean_load_average() const;

 private:
  uint64_t total_ticks_ = 0, steal_ticks_ = 0;
  double load_sum_ = 0;
  std::size_t load_count_ = 0;
};

}  // namespace tailsweep::machine_load
