#pragma once
// Reading procfs/sysfs files under a root folder: "/" on a real machine, a
// fake tree in tests. Values are trimmed of the newline (sysfs) or NUL
// (device tree) they end with; a missing, unreadable or malformed file is
// nullopt, never an exception.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tailsweep::sysfs {

// `absolute` ("/sys/...") as seen under root.
std::filesystem::path under(const std::filesystem::path& root, const std::string& absolute);

std::optional<std::string> read_text(const std::filesystem::path& path);
// The first line only, trimmed.
std::optional<std::string> read_line(const std::filesystem::path& path);
// The whole (trimmed) text as a number; nullopt if anything else is there.
std::optional<int64_t> read_integer(const std::filesystem::path& path);
std::optional<double> read_number(const std::filesystem::path& path);

// Entries of dir whose names start with prefix, sorted.
std::vector<std::filesystem::path> children(const std::filesystem::path& dir,
                                            const std::string& prefix);

}  // namespace tailsweep::sysfs
