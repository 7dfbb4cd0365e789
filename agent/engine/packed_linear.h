#pragma once
// A linear layer y = x W^T + b whose weights are packed once, at load, into
// the layout the fastest GEMM kernel on this CPU wants (oneDNN's matmul with
// its preferred blocked weights), with the bias and an optional GELU or
// residual add fused into the same pass. OpenBLAS, behind at::linear,
// re-packs the constant weights on every call: at ViT sizes that is ~15% of
// a forward pass. Where LibTorch's oneDNN is absent (Jetson builds), the
// same interface runs on ATen.
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

namespace tailsweep::agent {

enum class GemmBackend { kOneDnn, kAten };

// oneDNN when this build has it, unless the environment says
// TAILSWEEP_GEMM=aten (to measure or test the fallback on the same machine).
GemmBackend default_gemm_backend();

class PackedLinear {
 public:
  PackedLinear() = default;
  // weight (out_features, in_features), bias (out_features), on the device
  // to compute on. kOneDnn falls back to kAten in a build without oneDNN and
  // for weights on a GPU (cuBLAS, through ATen).
  PackedLinear(const at::Tensor& weight, const at::Tensor& bias,
               GemmBackend backend = default_gemm_backend());
  // Clustered weights read through the lookup GEMM (codebook_gemm.h), on the
  // CPU: indices uint8 (out_features, in_features), codebook float (k),
  // bias (out_features); out_scale (out_features), when defined, multiplies
  // each output's sum before the bias is added.
  static PackedLinear from_codebook(const at::Tensor& indices, const at::Tensor& codebook,
                                    const at::Tensor& bias, const at::Tensor& out_scale = {});

  // input (..., in_features) -> (..., out_features)
  at::Tensor forward(const at::Tensor& input) const;
  // gelu(input W^T + b), exact (erf) GELU.
  at::Tensor forward_gelu(const at::Tensor& input) const;
  // out += input W^T + b, in place; out must be contiguous.
  // Whether this layer runs on oneDNN (false: ATen, by choice or fallback).
  bool runs_on_onednn() const { return packed_ != nullptr; }
  bool runs_on_codebook() const { return indices_.defined(); }
  void accumulate_into(at::Tensor& out, const at::Tensor& input) const;

 private:
  enum class Epilogue { kNone, kGelu, kAccumulate };
  void run(const at::Tensor& input, at::Tensor& out, Epilogue epilogue) const;
  at::Tensor run_new(const at::Tensor& input, Epilogue epilogue) const;

  int64_t in_features_ = 0;
  int64_t out_features_ = 0;
  at::Tensor weight_;  // the ATen path's; released once packed for oneDNN
  at::Tensor bias_;    // every path (oneDNN reads it in place)
  at::Tensor indices_, codebook_, out_scale_;  // the lookup path's
  struct Packed;       // oneDNN state; null when running on ATen
  std::shared_ptr<Packed> packed_;
};

// What default_gemm_backend() runs on, e.g. "onednn 2.6.3 (packed weights)"
// or "aten": recorded with results.
std::string gemm_backend();

}  // namespace tailsweep::agent
