#include "agent/engine/packed_linear.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <string_view>
#include <utility>

#include <ATen/ATen.h>
#include <fmt/format.h>

#include "agent/engine/codebook_gemm.h"
#include "agent/engine/onednn_matmul.h"
#include "common/util/errors.h"

#ifdef TAILSWEEP_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace tailsweep::agent {

#ifdef TAILSWEEP_HAVE_ONEDNN
namespace {

using dnnl::memory;

dnnl::engine& cpu_engine() { return onednn_cpu_engine(); }

}  // namespace

// Weights packed for one row count are valid for every row count: the packed
// layout is fixed at construction and each primitive is created for it.
struct PackedLinear::Packed {
  memory::desc packed_weights_desc;
  memory packed_weights;
  memory bias;
  // One primitive per (rows, epilogue): token pruning changes the row count
  // from block to block, and a primitive is specialised for its shape.
  std::mutex mutex;
  std::map<std::pair<int64_t, int>, dnnl::matmul> primitives;

  dnnl::matmul primitive(int64_t rows, int64_t in_features, int64_t out_features,
                         Epilogue epilogue) {
    const std::lock_guard<std::mutex> lock(mutex);
    const auto key = std::make_pair(rows, static_cast<int>(epilogue));
    if (auto found = primitives.find(key); found != primitives.end()) return found->second;
    dnnl::post_ops post_ops;
    if (epilogue == Epilogue::kGelu) {
      post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_gelu_erf, 0.0f, 0.0f);
    } else if (epilogue == Epilogue::kAccumulate) {
      post_ops.append_sum(1.0f);
    }
    dnnl::primitive_attr attributes;
    attributes.set_post_ops(post_ops);
    const dnnl::matmul::primitive_desc descriptor(
        dnnl::matmul::desc(
            memory::desc({rows, in_features}, memory::data_type::f32, memory::format_tag::ab),
            packed_weights_desc, bias.get_desc(),
            memory::desc({rows, out_features}, memory::data_type::f32, memory::format_tag::ab)),
        attributes, cpu_engine());
    return primitives.emplace(key, dnnl::matmul(descriptor)).first->second;
  }
};
#else
struct PackedLinear::Packed {};
#endif

GemmBackend default_gemm_backend() {
  const char* choice = std::getenv("TAILSWEEP_GEMM");
  return choice != nullptr && std::string_view(choice) == "aten" ? GemmBackend::kAten
                                                                 : GemmBackend::kOneDnn;
}

PackedLinear::PackedLinear(const at::Tensor& weight, const at::Tensor& bias, GemmBackend backend)
    : in_features_(weight.size(1)),
      out_features_(weight.size(0)),
      weight_(weight.contiguous()),
      bias_(bias.contiguous()) {
  // oneDNN packs for this CPU; weights on a GPU run on ATen (cuBLAS).
  if (backend == GemmBackend::kAten || !weight_.is_cpu()) return;
#ifdef TAILSWEEP_HAVE_ONEDNN
  auto packed = std::make_shared<Packed>();
  const int64_t k = in_features_;
  const int64_t n = out_features_;
  // Let oneDNN choose the weights layout for a typical shape (197 rows, a
  // DeiT at 224), then reorder (pack) the weights into it once.
  const dnnl::matmul::primitive_desc probe(
      dnnl::matmul::desc(memory::desc({197, k}, memory::data_type::f32, memory::format_tag::ab),
                         memory::desc({k, n}, memory::data_type::f32, memory::format_tag::any),
                         memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab),
                         memory::desc({197, n}, memory::data_type::f32, memory::format_tag::ab)),
      cpu_engine());
  packed->packed_weights_desc = probe.weights_desc();
  packed->packed_weights = memory(packed->packed_weights_desc, cpu_engine());
  // W is (n, k) row-major, which is (k, n) in column-major order: tag "ba".
  memory user_weights(memory::desc({k, n}, memory::data_type::f32, memory::format_tag::ba),
                      cpu_engine(), weight_.data_ptr<float>());
  dnnl::stream stream(cpu_engine());
  dnnl::reorder(user_weights, packed->packed_weights)
      .execute(stream, user_weights, packed->packed_weights);
  stream.wait();
  packed->bias = memory(memory::desc({1, n}, memory::data_type::f32, memory::format_tag::ab),
                        cpu_engine(), bias_.data_ptr<float>());
  packed_ = std::move(packed);
  weight_ = at::Tensor();  // packed now: no second copy of every weight
#endif
}

PackedLinear PackedLinear::from_codebook(const at::Tensor& indices, const at::Tensor& codebook,
                                         const at::Tensor& bias, const at::Tensor& out_scale) {
  if (!indices.is_cpu() || !codebook.is_cpu()) {
    throw InputError("the lookup kernel for clustered weights runs on the CPU only");
  }
  TORCH_CHECK(indices.scalar_type() == at::kByte && indices.dim() == 2,
              "PackedLinear::from_codebook: indices must be uint8 (out, in)");
  TORCH_CHECK(codebook.scalar_type() == at::kFloat && codebook.dim() == 1 &&
                  codebook.numel() >= 1,
              "PackedLinear::from_codebook: the codebook must be float (k), k >= 1");
  TORCH_CHECK(indices.size(1) >= 1 && bias.numel() == indices.size(0) &&
                  (!out_scale.defined() || out_scale.numel() == indices.size(0)),
              "PackedLinear::from_codebook: bias and out_scale need one value per output");
  // The kernel gathers codebook[index] unchecked: every index must be in it.
  TORCH_CHECK(indices.numel() == 0 || indices.max().item<int64_t>() < codebook.numel(),
              "PackedLinear::from_codebook: an index is past the codebook's end");
  PackedLinear layer;
  layer.in_features_ = indices.size(1);
  layer.out_features_ = indices.size(0);
  layer.indices_ = indices.contiguous();
  layer.codebook_ = codebook.contiguous();
  layer.bias_ = bias.contiguous();
  if (out_scale.defined()) layer.out_scale_ = out_scale.contiguous();
  return layer;
}

void PackedLinear::run(const at::Tensor& input, at::Tensor& out, Epilogue epilogue) const {
  const at::Tensor rows_in = input.reshape({-1, in_features_}).contiguous();
  at::Tensor rows_out = out.view({-1, out_features_});
  if (indices_.defined()) {
    codebook_gemm(rows_in.data_ptr<float>(), rows_in.size(0),
                  {indices_.data_ptr<std::uint8_t>(), codebook_.data_ptr<float>(), out_features_,
                   in_features_},
                  bias_.data_ptr<float>(),
                  out_scale_.defined() ? out_scale_.data_ptr<float>() : nullptr,
                  epilogue == Epilogue::kAccumulate, rows_out.data_ptr<float>());
    if (epilogue == Epilogue::kGelu) at::gelu_(rows_out);
    return;
  }
#ifdef TAILSWEEP_HAVE_ONEDNN
  if (packed_) {
    const int64_t rows = rows_in.size(0);
    dnnl::matmul primitive = packed_->primitive(rows, in_features_, out_features_, epilogue);
    memory source(
        memory::desc({rows, in_features_}, memory::data_type::f32, memory::format_tag::ab),
        cpu_engine(), rows_in.data_ptr<float>());
    memory destination(
        memory::desc({rows, out_features_}, memory::data_type::f32, memory::format_tag::ab),
        cpu_engine(), rows_out.data_ptr<float>());
    thread_local dnnl::stream stream(cpu_engine());
    primitive.execute(stream, {{DNNL_ARG_SRC, source},
                               {DNNL_ARG_WEIGHTS, packed_->packed_weights},
                               {DNNL_ARG_BIAS, packed_->bias},
                               {DNNL_ARG_DST, destination}});
    stream.wait();
    return;
  }
#endif
  if (epilogue == Epilogue::kAccumulate) {
    rows_out.add_(bias_);
    rows_out.addmm_(rows_in, weight_.t());
    return;
  }
  at::addmm_out(rows_out, bias_, rows_in, weight_.t());
  if (epilogue == Epilogue::kGelu) at::gelu_(rows_out);
}

at::Tensor PackedLinear::run_new(const at::Tensor& input, Epilogue epilogue) const {
  auto sizes = input.sizes().vec();
  sizes.back() = out_features_;
  at::Tensor out = at::empty(sizes, input.options());
  run(input, out, epilogue);
  return out;
}

at::Tensor PackedLinear::forward(const at::Tensor& input) const {
  return run_new(input, Epilogue::kNone);
}

at::Tensor PackedLinear::forward_gelu(const at::Tensor& input) const {
  return run_new(input, Epilogue::kGelu);
}

void PackedLinear::accumulate_into(at::Tensor& out, const at::Tensor& input) const {
  TORCH_CHECK(out.is_contiguous(), "PackedLinear::accumulate_into: out must be contiguous");
  run(input, out, Epilogue::kAccumulate);
}

std::string gemm_backend() {
#ifdef TAILSWEEP_HAVE_ONEDNN
  if (default_gemm_backend() == GemmBackend::kAten) return "aten";
  const dnnl_version_t* version = dnnl_version();
  return fmt::format("onednn {}.{}.{} (packed weights)", version->major, version->minor,
                     version->patch);
#else
  return "aten";
#endif
}

}  // namespace tailsweep::agent
