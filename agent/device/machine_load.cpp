#include "agent/device/machine_load.h"

#include <algorithm>
#include <vector>

#include "agent/device/sysfs.h"
#include "common/util/parse.h"

namespace tailsweep::machine_load {
namespace {

// The whitespace-separated fields of the first line.
std::vector<std::string_view> first_line_fields(std::string_view text) {
  const std::size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const std::size_t stop = std::min(line.find_first_of(" \t"), line.size());
    fields.push_back(line.substr(0, stop));
    line.remove_prefix(stop);
  }
  return fields;
}

}  // namespace

std::optional<CpuTicks> parse_proc_stat(std::string_view text) {
  const std::vector<std::string_view> fields = first_line_fields(text);
  // cpu user nice system idle iowait irq softirq steal [guest guest_nice]
  constexpr std::size_t kStealColumn = 8;
  if (fields.size() <= kStealColumn || fields[0] != "cpu") return std::nullopt;
  CpuTicks ticks;
  for (std::size_t i = 1; i <= kStealColumn; ++i) {
    const std::optional<int64_t> value = parse_integer(fields[i]);
    if (!value || *value < 0) return std::nullopt;
    ticks.total += static_cast<uint64_t>(*value);
    if (i == kStealColumn) ticks.steal = static_cast<uint64_t>(*value);
  }
  return ticks;
}

std::optional<double> parse_load_average(std::string_view text) {
  const std::vector<std::string_view> fields = first_line_fields(text);
  if (fields.empty()) return std::nullopt;
  const std::optional<double> value = parse_double(fields[0]);
  if (!value || *value < 0) return std::nullopt;
  return value;
}

std::optional<CpuTicks> read_cpu_ticks(const std::filesystem::path& root) {
  const auto text = sysfs::read_text(sysfs::under(root, "/proc/stat"));
  return text ? parse_proc_stat(*text) : std::nullopt;
}

std::optional<double> read_load_average(const std::filesystem::path& root) {
  const auto text = sysfs::read_text(sysfs::under(root, "/proc/loadavg"));
  return text ? parse_load_average(*text) : std::nullopt;
}

std::optional<double> steal_fraction(const CpuTicks& before, const CpuTicks& after) {
  if (after.total <= before.total || after.steal < before.steal) return std::nullopt;
  return static_cast<double>(after.steal - before.steal) /
         static_cast<double>(after.total - before.total);
}

void LoadTally::add_window(const std::optional<CpuTicks>& before,
                           const std::optional<CpuTicks>& after,
                           std::optional<double> load_average) {
  if (before && after && after->total >= before->total && after->steal >= before->steal) {
    total_ticks_ += after->total - before->total;
    steal_ticks_ += after->steal - before->steal;
  }
  if (load_average) {
    load_sum_ += *load_average;
    ++load_count_;
  }
}

std::optional<double> LoadTally::steal_fraction() const {
  if (total_ticks_ == 0) return std::nullopt;
  return static_cast<double>(steal_ticks_) / static_cast<double>(total_ticks_);
}

std::optional<double> LoadTally::mean_load_average() const {
  if (load_count_ == 0) return std::nullopt;
  return load_sum_ / static_cast<double>(load_count_);
}

}  // namespace tailsweep::machine_load
