#pragma once
// A scratch folder for one test, removed when the test ends (RAII). Named by
// the process id and the running test, so parallel ctest runs never collide.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace tailsweep::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tailsweep")
      : path_(std::filesystem::temp_directory_path() /
              (prefix + "-" + std::to_string(::getpid()) + "-" + current_test_name())) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  static std::string current_test_name() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return info != nullptr ? std::string(info->test_suite_name()) + "." + info->name() : "none";
  }

  std::filesystem::path path_;
};

}  // namespace tailsweep::testing
