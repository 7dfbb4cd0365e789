#pragma once
// The IDX format of (Fashion-)MNIST, read ourselves and checked strictly:
//   2 zero bytes, a type byte (0x08 = unsigned byte), a dimension count,
//   then each dimension as a big-endian u32, then the data, row-major.
// Files may be gzipped (Debian's dataset-fashion-mnist ships .gz); zlib
// reads both. Every error names the file.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace tailsweep::datasets {

struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;  // unsigned-byte IDX only (what MNIST uses)
};

// Throws InputError: short header, non-zero magic prefix, a type other than
// unsigned byte, no dimensions, or a data length that differs from the
// product of the dimensions (truncated or trailing bytes).
IdxArray parse_idx(std::span<const uint8_t> bytes, const std::string& origin);
IdxArray read_idx_file(const std::filesystem::path& path);

// A labelled image set: count images of height x width, 8-bit grey.
struct ImageSet {
  std::string name;
  int64_t count = 0;
  int64_t height = 0;
  int64_t width = 0;
  int classes = 0;
  std::vector<uint8_t> pixels;  // count * height * width
  std::vector<uint8_t> labels;  // count, each < classes
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// split is "train" (60,000 images) or "test" (10,000). The images and labels
// must agree in count, images must be 3-D and labels 1-D with values 0..9.
// A missing folder says which Debian package to install.
ImageSet read_fashion_mnist(const std::filesystem::path& dir, const std::string& split);

}  // namespace tailsweep::datasets
