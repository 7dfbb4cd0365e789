#pragma once
// What `--device` names: the CPU, a CUDA GPU (cuda or cuda:N, LibTorch's
// numbering), or a simulated GPU (sim:NAME, common/gpu_sim.h). Parsed once at
// the edge; everything after works on the typed value.
#include <string>

namespace tailsweep {

enum class DeviceKind { kCpu, kCuda, kSimulated };

struct DeviceSpec {
  DeviceKind kind = DeviceKind::kCpu;
  int cuda_index = 0;         // kCuda
  std::string simulated_gpu;  // kSimulated: a name of sim::simulated_gpu_names()

  bool simulated() const { return kind == DeviceKind::kSimulated; }
  // The canonical text: "cpu", "cuda:0", "sim:jetson-nano".
  std::string text() const;
};

// Throws InputError naming every accepted form.
DeviceSpec parse_device_spec(const std::string& text);

// For --help: "cpu, cuda[:N], or a simulated GPU sim:jetson-nano | ...".
std::string device_spec_help();

}  // namespace tailsweep
