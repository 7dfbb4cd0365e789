#pragma once
// The compute runtime as it really is at start-up: which BLAS library the
// process resolved sgemm_ to, its build string, and the thread counts, set
// explicitly so that ATen's OpenMP pool and OpenBLAS do not oversubscribe.
// Plain types only: included by command code that must not see LibTorch.
#include <exception>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "agent/device/device_facts.h"
#include "agent/device/gpu_sim.h"

namespace tailsweep::agent {

struct RuntimeInfo {
  std::string torch_version;
  std::string blas_library;        // the shared object that provides sgemm_
  std::string blas_config;         // openblas_get_config(), or "" when not OpenBLAS
  bool blas_is_reference = false;  // netlib's reference BLAS: >10x slower
  std::string gemm_backend;        // what the linear layers run on (packed_linear.h)
  std::string codebook_kernel;     // the lookup GEMM's kernel for clustered weights
  int intra_op_threads = 0;
  int blas_threads = 0;  // -1 when the BLAS cannot tell
  int hardware_threads = 0;
};

// threads <= 0 means one per hardware thread. Warns on stderr (once) when the
// reference BLAS is in use.
RuntimeInfo configure_runtime(int threads);

// An exception's message as one line for a user or a failure report.
// LibTorch's c10::Error carries a C++ backtrace in what() (34 lines for a
// failed allocation); that is cut to the message itself.
std::string error_message(const std::exception& error);

// nlohmann::json serialiser: `nlohmann::json j = info;`.
void to_json(nlohmann::json& out, const RuntimeInfo& info);

// The `device` object of a result measured on this machine's CPU:
// kind "cpu", the CPU's name, simulated false, host facts and runtime.
nlohmann::json cpu_device_json(const RuntimeInfo& runtime, const HostFacts& host);

// The `device` object of a simulated GPU: kind "sim", simulated true, the
// GPU model's parameters and the host it was simulated on.
nlohmann::json simulated_device_json(const sim::GpuSpec& spec, const HostFacts& host);

}  // namespace tailsweep::agent
