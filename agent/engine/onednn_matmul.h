#pragma once
// out = input · weightᵀ for float matrices whose weights change from call to
// call (the lookup GEMM's decoded panels): oneDNN's matmul on the weights as
// they lie, where the build has oneDNN, else at::mm. Engine-internal.
#include <ATen/core/Tensor.h>

namespace tailsweep::agent {

// input (rows, in), weight (width, in), out (rows, width): all contiguous
// float on the CPU; out is overwritten.
void matmul_transposed(const at::Tensor& input, const at::Tensor& weight, at::Tensor& out);

}  // namespace tailsweep::agent
