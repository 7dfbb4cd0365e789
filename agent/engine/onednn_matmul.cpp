#include "agent/engine/onednn_matmul.h"

#include <map>
#include <mutex>
#include <tuple>

#include <ATen/ATen.h>

#ifdef TAILSWEEP_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace tailsweep::agent {

#ifdef TAILSWEEP_HAVE_ONEDNN
dnnl::engine& onednn_cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() { return onednn_cpu_engine(); }

// One primitive per shape, made once: token pruning changes the row count
// from block to block, and each primitive is specialised for its shape.
dnnl::matmul primitive_for(int64_t rows, int64_t in, int64_t width) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, int64_t>, dnnl::matmul> primitives;
  const std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_tuple(rows, in, width);
  if (auto found = primitives.find(key); found != primitives.end()) return found->second;
  // weight is (width, in) row-major: (in, width) in column-major order, tag ba.
  const dnnl::matmul::primitive_desc descriptor(
      dnnl::matmul::desc(
          memory::desc({rows, in}, memory::data_type::f32, memory::format_tag::ab),
          memory::desc({in, width}, memory::data_type::f32, memory::format_tag::ba),
          memory::desc({rows, width}, memory::data_type::f32, memory::format_tag::ab)),
      cpu_engine());
  return primitives.emplace(key, dnnl::matmul(descriptor)).first->second;
}

}  // namespace

void matmul_transposed(const at::Tensor& input, const at::Tensor& weight, at::Tensor& out) {
  const int64_t rows = input.size(0), in = input.size(1), width = weight.size(0);
  dnnl::matmul primitive = primitive_for(rows, in, width);
  memory source(memory::desc({rows, in}, memory::data_type::f32, memory::format_tag::ab),
                cpu_engine(), input.data_ptr<float>());
  memory weights(memory::desc({in, width}, memory::data_type::f32, memory::format_tag::ba),
                 cpu_engine(), weight.data_ptr<float>());
  memory destination(memory::desc({rows, width}, memory::data_type::f32, memory::format_tag::ab),
                     cpu_engine(), out.data_ptr<float>());
  thread_local dnnl::stream stream(cpu_engine());
  primitive.execute(
      stream, {{DNNL_ARG_SRC, source}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, destination}});
  stream.wait();
}
#else
void matmul_transposed(const at::Tensor& input, const at::Tensor& weight, at::Tensor& out) {
  at::mm_out(out, input, weight.t());
}
#endif

}  // namespace tailsweep::agent
