#pragma once
// Writes IDX files (the format of Fashion-MNIST) for tests, and a synthetic
// Fashion-MNIST folder whose answer is known.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace tailsweep::testing {

inline std::vector<uint8_t> idx_bytes(std::vector<uint32_t> dims, std::vector<uint8_t> data,
                                      uint8_t type = 0x08) {
  std::vector<uint8_t> bytes = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

inline void write_plain(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

// A Fashion-MNIST-shaped split (28x28, 10 classes) where image i has label
// i % 10 and its first 2 * (label + 1) rows are bright, the rest dark. The
// share of bright patches tells the class, so even the mean over tokens that
// a fresh ViT's near-uniform attention computes carries it. (A band of fixed
// height at a class-dependent row does not: every class then has the same
// tokens in other places, and a tiny ViT stalls at chance.)
inline void write_band_split(const std::filesystem::path& dir, const std::string& stem,
                             uint32_t count) {
  std::vector<uint8_t> pixels(static_cast<std::size_t>(count) * 28 * 28, 10);
  std::vector<uint8_t> labels(count);
  for (uint32_t i = 0; i < count; ++i) {
    labels[i] = static_cast<uint8_t>(i % 10);
    for (uint32_t row = 0; row < 2 * (labels[i] + 1u); ++row) {
      for (uint32_t col = 0; col < 28; ++col) {
        pixels[(static_cast<std::size_t>(i) * 28 + row) * 28 + col] = 240;
      }
    }
  }
  write_plain(dir / (stem + "-images-idx3-ubyte"), idx_bytes({count, 28, 28}, pixels));
  write_plain(dir / (stem + "-labels-idx1-ubyte"), idx_bytes({count}, labels));
}

}  // namespace tailsweep::testing
