#pragma once
// Simulated GPUs (agent/device/gpu_sim.h) for the design space's encoders
// (common/design/architecture.h): the kernels of one forward pass of a
// heterogeneous encoder, costed with the same GEMM and memory model as the
// ViT, so the tail effect shows in every GEMM whose tiles spill into a wave.
// The Fourier mixers are costed as FFTs (an assumption of this model, in
// docs/simulated-devices.md): 5 N log2 N floating-point operations per
// transform of N points at kFftEfficiency of the GPU's peak, or the bytes of
// one complex read and write per element per transform, whichever is slower.
// Latency only, labelled simulated, never energy or power.
#include <cstdint>
#include <vector>

#include "agent/device/gpu_sim.h"
#include "common/design/architecture.h"

namespace tailsweep::sim {

inline constexpr double kFftEfficiency = 0.25;

// `transforms` FFTs of `length` points each, as one kernel.
KernelCost fft_cost(const GpuSpec& gpu, std::string name, int64_t length, int64_t transforms);

std::vector<KernelCost> encoder_forward_kernels(const GpuSpec& gpu,
                                                const design::Architecture& architecture,
                                                int64_t batch);
// Noise-free latency of that forward pass, in milliseconds.
double encoder_forward_ms(const GpuSpec& gpu, const design::Architecture& architecture,
                          int64_t batch);

}  // namespace tailsweep::sim
