#include "agent/engine/codebook_gemm.h"

#include <algorithm>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "agent/engine/onednn_matmul.h"

namespace tailsweep::agent {
namespace {

// A task: up to kRowTile rows of x against up to kOutTile outputs. The rows
// stay in cache while the task walks its outputs kOutBlock at a time; each
// block's weights are decoded once into a small buffer and reused by every
// row, so the lookups cost 1/kRowTile of the multiply-adds at large row
// counts, and at one row the pass reads one byte per weight.
constexpr int64_t kRowTile = 64;
constexpr int64_t kOutTile = 64;
constexpr int64_t kOutBlock = 4;

// ---- portable kernels (partial sums that compilers vectorise) ----------

void decode_portable(const std::uint8_t* indices, const float* codebook, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = codebook[indices[i]];
}

// out[j] = dot(x, w + j * n) for j < 4.
void dot4_portable(const float* x, const float* w, int64_t n, float out[kOutBlock]) {
  constexpr int kLanes = 8;
  float acc[kOutBlock][kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kOutBlock; ++j) {
      for (int l = 0; l < kLanes; ++l) acc[j][l] += x[i + l] * w[j * n + i + l];
    }
  }
  for (int j = 0; j < kOutBlock; ++j) {
    float sum = 0;
    for (int l = 0; l < kLanes; ++l) sum += acc[j][l];
    for (int64_t t = i; t < n; ++t) sum += x[t] * w[j * n + t];
    out[j] = sum;
  }
}

#if defined(__x86_64__)
// ---- AVX2 + FMA kernels -------------------------------------------------

__attribute__((target("avx2,fma"))) void decode_avx2(const std::uint8_t* indices,
                                                     const float* codebook, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(indices + i));
    const __m256i lanes = _mm256_cvtepu8_epi32(bytes);
    _mm256_storeu_ps(out + i, _mm256_i32gather_ps(codebook, lanes, 4));
  }
  for (; i < n; ++i) out[i] = codebook[indices[i]];
}

__attribute__((target("avx2,fma"))) float horizontal_sum(__m256 v) {
  const __m128 pairs = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 twos = _mm_add_ps(pairs, _mm_movehl_ps(pairs, pairs));
  return _mm_cvtss_f32(_mm_add_ss(twos, _mm_shuffle_ps(twos, twos, 1)));
}

__attribute__((target("avx2,fma"))) void dot4_avx2(const float* x, const float* w, int64_t n,
                                                   float out[kOutBlock]) {
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xv = _mm256_loadu_ps(x + i);
    a0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + i), a0);
    a1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + n + i), a1);
    a2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + 2 * n + i), a2);
    a3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w + 3 * n + i), a3);
  }
  out[0] = horizontal_sum(a0);
  out[1] = horizontal_sum(a1);
  out[2] = horizontal_sum(a2);
  out[3] = horizontal_sum(a3);
  for (; i < n; ++i) {
    for (int j = 0; j < kOutBlock; ++j) out[j] += x[i] * w[j * n + i];
  }
}

bool has_avx2() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}
#else
bool has_avx2() { return false; }
#endif

struct Kernels {
  void (*decode)(const std::uint8_t*, const float*, int64_t, float*);
  void (*dot4)(const float*, const float*, int64_t, float*);
};

Kernels kernels(CodebookKernel choice) {
#if defined(__x86_64__)
  if (choice == CodebookKernel::kBest && has_avx2()) return {decode_avx2, dot4_avx2};
#endif
  return {decode_portable, dot4_portable};
}

// Up to this many rows, the direct kernel: the decoded weights are used by
// few rows, so a GEMM library's packing would not pay.
constexpr int64_t kDirectRows = 16;
// Decoded panels of at most this many floats (512 KiB: in L2 beside the rows).
constexpr int64_t kPanelFloats = 128 * 1024;

void apply_epilogue(const float* product, int64_t rows, int64_t width, int64_t first_out,
                    int64_t out, const float* bias, const float* scale, bool accumulate, float* y) {
  at::parallel_for(0, rows, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t j = 0; j < width; ++j) {
        const int64_t o = first_out + j;
        const float value =
            (scale ? scale[o] : 1.0f) * product[r * width + j] + (bias ? bias[o] : 0.0f);
        float& target = y[r * out + o];
        target = accumulate ? target + value : value;
      }
    }
  });
}

// Many rows: decode a panel of outputs (their weights, in cache), multiply
// on the GEMM library, apply the epilogue, next panel. The weights are still
// read once per pass, one byte each; the library's kernel does the FLOPs.
void tiled_gemm(const Kernels& kernel, const float* x, int64_t rows, const CodebookWeights& weights,
                const float* bias, const float* scale, bool accumulate, float* y) {
  const int64_t in = weights.in_features;
  const int64_t out = weights.out_features;
  const int64_t width = std::clamp<int64_t>(kPanelFloats / in / 16 * 16, 16, 256);
  at::Tensor panel = at::empty({std::min(width, out), in}, at::kFloat);
  at::Tensor product = at::empty({rows, std::min(width, out)}, at::kFloat);
  const at::Tensor input = at::from_blob(const_cast<float*>(x), {rows, in}, at::kFloat);
  for (int64_t first_out = 0; first_out < out; first_out += width) {
    const int64_t w = std::min(width, out - first_out);
    at::Tensor panel_rows = panel.narrow(0, 0, w);
    float* decoded = panel_rows.data_ptr<float>();
    at::parallel_for(0, w, 8, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; ++j) {
        kernel.decode(weights.indices + (first_out + j) * in, weights.codebook, in,
                      decoded + j * in);
      }
    });
    at::Tensor panel_product = w == product.size(1) ? product : at::empty({rows, w}, at::kFloat);
    matmul_transposed(input, panel_rows, panel_product);
    apply_epilogue(panel_product.data_ptr<float>(), rows, w, first_out, out, bias, scale,
                   accumulate, y);
  }
}

}  // namespace

const char* codebook_gemm_kernel() { return has_avx2() ? "avx2" : "portable"; }

void codebook_gemm(const float* x, int64_t rows, const CodebookWeights& weights, const float* bias,
                   const float* scale, bool accumulate, float* y, CodebookKernel choice) {
  const Kernels kernel = kernels(choice);
  if (rows > kDirectRows) {
    tiled_gemm(kernel, x, rows, weights, bias, scale, accumulate, y);
    return;
  }
  const int64_t in = weights.in_features;
  const int64_t out = weights.out_features;
  const int64_t row_tiles = (rows + kRowTile - 1) / kRowTile;
  const int64_t out_tiles = (out + kOutTile - 1) / kOutTile;
  at::parallel_for(0, row_tiles * out_tiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> decoded(static_cast<std::size_t>(kOutBlock * in));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t first_row = (task / out_tiles) * kRowTile;
      const int64_t last_row = std::min(rows, first_row + kRowTile);
      const int64_t first_out = (task % out_tiles) * kOutTile;
      const int64_t last_out = std::min(out, first_out + kOutTile);
      for (int64_t o = first_out; o < last_out; o += kOutBlock) {
        const int64_t block = std::min(kOutBlock, last_out - o);
        for (int64_t j = 0; j < block; ++j) {
          kernel.decode(weights.indices + (o + j) * in, weights.codebook, in,
                        decoded.data() + j * in);
        }
        // A short last block repeats its first row: its extra sums are dropped.
        for (int64_t j = block; j < kOutBlock; ++j) {
          std::copy_n(decoded.data(), in, decoded.data() + j * in);
        }
        for (int64_t r = first_row; r < last_row; ++r) {
          float sums[kOutBlock];
          kernel.dot4(x + r * in, decoded.data(), in, sums);
          float* row_out = y + r * out + o;
          for (int64_t j = 0; j < block; ++j) {
            const float value =
                (scale ? scale[o + j] : 1.0f) * sums[j] + (bias ? bias[o + j] : 0.0f);
            row_out[j] = accumulate ? row_out[j] + value : value;
          }
        }
      }
    }
  });
}

}  // namespace tailsweep::agent
