#include "agent/device/device_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "agent/device/gpu_sim.h"
#include "common/util/errors.h"
#include "common/util/parse.h"

namespace tailsweep {
namespace {

constexpr std::string_view kSimPrefix = "sim:";
constexpr std::string_view kCudaPrefix = "cuda:";

}  // namespace

std::string DeviceSpec::text() const {
  switch (kind) {
    case DeviceKind::kCpu:
      return "cpu";
    case DeviceKind::kCuda:
      return fmt::format("cuda:{}", cuda_index);
    case DeviceKind::kSimulated:
      return fmt::format("sim:{}", simulated_gpu);
  }
  return "cpu";
}

std::string device_spec_help() {
  return fmt::format(
      "cpu, cuda[:N] (a CUDA GPU; needs a CUDA build of LibTorch), or a simulated "
      "GPU sim:{} (latency from a model, labelled simulated)",
      fmt::join(sim::simulated_gpu_names(), " | sim:"));
}

DeviceSpec parse_device_spec(const std::string& text) {
  DeviceSpec spec;
  if (text == "cpu") return spec;
  if (text == "cuda") {
    spec.kind = DeviceKind::kCuda;
    return spec;
  }
  if (text.starts_with(kCudaPrefix)) {
    const auto index = parse_integer(text.substr(kCudaPrefix.size()));
    if (!index || *index < 0 || *index > 1023) {
      throw InputError(fmt::format("device '{}': expected cuda:N with N a GPU index >= 0", text));
    }
    spec.kind = DeviceKind::kCuda;
    spec.cuda_index = static_cast<int>(*index);
    return spec;
  }
  if (text.starts_with(kSimPrefix)) {
    spec.kind = DeviceKind::kSimulated;
    spec.simulated_gpu = text.substr(kSimPrefix.size());
    sim::find_simulated_gpu(spec.simulated_gpu);  // InputError listing the names
    return spec;
  }
  throw InputError(fmt::format("unknown device '{}' (expected {})", text, device_spec_help()));
}

}  // namespace tailsweep
