#include "agent/device/sysfs.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/util/parse.h"

namespace tailsweep::sysfs {

namespace fs = std::filesystem;

fs::path under(const fs::path& root, const std::string& absolute) {
  return root / fs::path(absolute).relative_path();
}

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) return std::nullopt;
  std::ostringstream text;
  text << stream.rdbuf();
  std::string value = text.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\0' || value.back() == ' ' ||
                            value.back() == '\r')) {
    value.pop_back();
  }
  return value;
}

std::optional<std::string> read_line(const fs::path& path) {
  auto text = read_text(path);
  if (text) text->erase(std::min(text->find('\n'), text->size()));
  return text;
}

std::optional<int64_t> read_integer(const fs::path& path) {
  const auto text = read_text(path);
  return text ? parse_integer(*text) : std::nullopt;
}

std::optional<double> read_number(const fs::path& path) {
  const auto text = read_text(path);
  return text ? parse_double(*text) : std::nullopt;
}

std::vector<fs::path> children(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace tailsweep::sysfs
