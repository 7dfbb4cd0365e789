#pragma once
// The lookup GEMM for clustered weights: y = x W^T + b where W is stored as
// one uint8 index per weight into a codebook of at most 256 float32 values
// (agent/data/clustered_weights.h). The indices are read during the product,
// so the weight bytes read per pass are a quarter of float32's: this is
// where weight clustering's speed-up can come from, and only where the
// weight traffic bounds the time (batch 1, weights larger than the caches).
//
// No library offers a codebook (non-affine) GEMM: oneDNN's int8-weight
// matmuls take affine scales and zero points, which 64 k-means centroids are
// not, and Debian's oneDNN 2.6 has no weight decompression at all. So this is
// hand-written, small, and tested against at::mm on the decoded weights.
// Plain header (no LibTorch).
#include <cstdint>

namespace tailsweep::agent {

// The caller guarantees what the kernel does not check: every index below
// the codebook's size and in_features >= 1 (PackedLinear::from_codebook
// checks both).
struct CodebookWeights {
  const std::uint8_t* indices = nullptr;  // (out_features, in_features), row-major
  const float* codebook = nullptr;        // codebook_size values; every index is below it
  int64_t out_features = 0;
  int64_t in_features = 0;
};

// For every row r of x (rows x in_features, row-major) and output o:
//   value = scale[o] * sum_i x[r][i] * codebook[indices[o][i]] + bias[o]
//   y[r][o] = value, or y[r][o] += value when accumulate
// y is (rows x out_features), row-major. bias and scale may be null (0 and
// 1). Parallel over blocks of rows and outputs on ATen's thread pool.
// kPortable forces the plain C++ kernel (what an aarch64 build runs), so
// that tests check it on any machine.
enum class CodebookKernel { kBest, kPortable };
void codebook_gemm(const float* x, int64_t rows, const CodebookWeights& weights, const float* bias,
                   const float* scale, bool accumulate, float* y,
                   CodebookKernel choice = CodebookKernel::kBest);

// Which kernel codebook_gemm runs on this CPU: "avx2" (gathers and FMA) or
// "portable"; recorded with results.
const char* codebook_gemm_kernel();

}  // namespace tailsweep::agent
