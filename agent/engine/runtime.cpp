#include "agent/engine/runtime.h"

#include <dlfcn.h>
#include <malloc.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/api/include/torch/version.h>

#include "agent/engine/codebook_gemm.h"
#include "agent/engine/packed_linear.h"

namespace tailsweep::agent {
namespace {

template <typename Fn>
Fn find_symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

std::string library_providing(void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || info.dli_fname == nullptr) return "unknown";
  // Resolve Debian's alternatives symlinks to the file really mapped.
  std::error_code error;
  const auto real = std::filesystem::canonical(info.dli_fname, error);
  return error ? std::string(info.dli_fname) : real.string();
}

}  // namespace

RuntimeInfo configure_runtime(int threads) {
  RuntimeInfo info;
  // A forward pass frees and reallocates the same few hundred-kilobyte
  // activations every time. glibc's defaults hand such blocks back to the
  // kernel (mmap/trim) and fault them in again, zero-filled: measured ~500
  // minor page faults per deit-tiny pass (94k over a 4 s run; 26k, all at
  // start-up, with these settings). Memory use stays at the peak of one pass.
  mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
  info.torch_version = TORCH_VERSION;
  info.hardware_threads = static_cast<int>(std::thread::hardware_concurrency());
  const int wanted = threads > 0 ? threads : std::max(1, info.hardware_threads);

  at::set_num_threads(wanted);
  info.intra_op_threads = at::get_num_threads();

  // libtorch links libblas.so.3, which Debian's alternatives point at
  // OpenBLAS (pthread or OpenMP flavour) or at netlib's reference code.
  // sgemm_ is looked up, not linked: its address names the library serving it.
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  info.blas_library = sgemm != nullptr ? library_providing(sgemm) : "none";
  using GetConfig = char* (*)();
  using SetThreads = void (*)(int);
  using GetThreads = int (*)();
  if (auto get_config = find_symbol<GetConfig>("openblas_get_config")) {
    info.blas_config = get_config();
    if (auto set_threads = find_symbol<SetThreads>("openblas_set_num_threads")) {
      set_threads(wanted);
    }
  }
  auto get_threads = find_symbol<GetThreads>("openblas_get_num_threads");
  info.blas_threads = get_threads != nullptr ? get_threads() : -1;
  info.gemm_backend = gemm_backend();
  info.codebook_kernel = codebook_gemm_kernel();
  info.blas_is_reference =
      info.blas_config.empty() && info.blas_library.find("/blas/") != std::string::npos;
  if (info.blas_is_reference) {
    std::fprintf(stderr,
                 "tailsweep-agent: warning: using the reference BLAS (%s); install "
                 "libopenblas0-openmp, it is more than ten times faster\n",
                 info.blas_library.c_str());
  }
  return info;
}

void to_json(nlohmann::json& out, const RuntimeInfo& info) {
  out = nlohmann::json{
      {"torch_version", info.torch_version}, {"blas_library", info.blas_library},
      {"blas_config", info.blas_config},     {"blas_is_reference", info.blas_is_reference},
      {"gemm_backend", info.gemm_backend},   {"codebook_kernel", info.codebook_kernel},
      {"intra_op_threads", info.intra_op_threads},
      {"blas_threads", info.blas_threads},   {"hardware_threads", info.hardware_threads}};
}

nlohmann::json cpu_device_json(const RuntimeInfo& runtime, const HostFacts& host) {
  return {{"kind", "cpu"},
          {"name", host.cpu_model.value_or("unknown cpu")},
          {"simulated", false},
          {"host", host},
          {"runtime", runtime}};
}

nlohmann::json simulated_device_json(const sim::GpuSpec& spec, const HostFacts& host) {
  return {{"kind", "sim"},
          {"name", spec.display_name},
          {"simulated", true},
          {"gpu",
           {{"name", spec.name},
            {"architecture", spec.architecture},
            {"sm_count", spec.sm_count},
            {"fp32_lanes_per_sm", spec.fp32_lanes_per_sm},
            {"clock_mhz", spec.clock_mhz},
            {"memory_gb_per_s", spec.memory_gb_per_s},
            {"launch_overhead_us", spec.launch_overhead_us},
            {"tile", {spec.tile_m, spec.tile_n}},
            {"gemm_efficiency", spec.gemm_efficiency},
            {"source", spec.source}}},
          {"simulated_on", host}};
}

std::string error_message(const std::exception& error) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error)) {
    std::string message = torch_error->what_without_backtrace();
    // Some messages still end in "Exception raised from ..." lines.
    if (const std::size_t line_end = message.find('\n'); line_end != std::string::npos) {
      message.resize(line_end);
    }
    return "LibTorch: " + message;
  }
  return error.what();
}

}  // namespace tailsweep::agent
