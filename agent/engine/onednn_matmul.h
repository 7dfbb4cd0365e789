#pragma once
// out = input · weightᵀ for float matrices whose weights change from call to
// call (the lookup GEMM's decoded panels): oneDNN's matmul on the weights as
// they lie, where the build has oneDNN, else at::mm. Engine-internal.
#include <ATen/core/Tensor.h>

#ifdef TAILSWEEP_HAVE_ONEDNN
namespace dnnl {
struct engine;
}
#endif

namespace tailsweep::agent {

#ifdef TAILSWEEP_HAVE_ONEDNN
// The one oneDNN CPU engine of this process, shared by every primitive.
dnnl::engine& onednn_cpu_engine();
#endif

// input (rows, in), weight (width, in), out (rows, width): all contiguous
// float on the CPU; out is overwritten.
void matmul_transposed(const at::Tensor& input, const at::Tensor& weight, at::Tensor& out);

}  // namespace tailsweep::agent
