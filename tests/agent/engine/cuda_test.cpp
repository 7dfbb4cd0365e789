// The engine on a CUDA GPU. Skipped where LibTorch has no usable GPU (CI,
// Debian's CPU-only LibTorch), where only the refusal is tested; run by
// scripts/gpu-check.sh on a machine with one.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/csrc/api/include/torch/cuda.h>

#include "agent/engine/compute_device.h"
#include "agent/engine/vit_model.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using ::testing::HasSubstr;

// 56x56 images with patch 8: 49 patches + CLS = 50 tokens, four blocks.
constexpr const char* kSmallModel =
    "custom:dim=64,depth=4,heads=4,patch=8,image=56,channels=3,classes=10";

std::string error_of(const DeviceSpec& spec) {
  try {
    ComputeDevice device(spec);
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA GPU usable by this LibTorch";
  }
};

TEST(CudaUnavailable, AskingForAGpuWithoutOneSaysWhy) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a usable GPU";
  const std::string error = error_of(parse_device_spec("cuda:0"));
  EXPECT_THAT(error, HasSubstr("--device cuda:0"));
  // Either no driver at all, or a driver and a LibTorch without CUDA.
  EXPECT_THAT(error,
              ::testing::AnyOf(HasSubstr("no usable CUDA GPU"), HasSubstr("built without CUDA")));
}

TEST(ComputeDeviceCpu, HasNoGpuFactsAndNothingToWaitFor) {
  const ComputeDevice cpu(parse_device_spec("cpu"));
  EXPECT_FALSE(cpu.is_cuda());
  EXPECT_TRUE(cpu.torch_device().is_cpu());
  cpu.synchronize();
  EXPECT_TRUE(cpu.gpu_now().is_null());
  EXPECT_THAT(error_of(parse_device_spec("sim:jetson-nano")), HasSubstr("simulated"));
}

TEST_F(CudaTest, EveryMethodGivesTheCpuLogitsAndTokenCounts) {
  const VitConfig config = parse_model_spec(kSmallModel);
  const VitWeights weights = random_weights(config, 7);
  const ComputeDevice gpu(parse_device_spec("cuda"));
  const VitModel on_cpu(config, weights);
  const VitModel on_gpu(config, weights, gpu.torch_device());
  const at::Tensor images = at::randn({3, 3, 56, 56}, at::make_generator<at::CPUGeneratorImpl>(11));
  for (const char* text :
       {"none", "random:20", "topk:4", "pomt:10@1", "tome:4", "tome:[6,3,1,0]"}) {
    const MethodSpec method = parse_method_spec(text);
    ForwardTrace cpu_trace, gpu_trace;
    const at::Tensor expected = on_cpu.forward(images, method, {5}, &cpu_trace);
    const at::Tensor logits =
        on_gpu.forward(images.to(gpu.torch_device()), method, {5}, &gpu_trace);
    ASSERT_TRUE(logits.is_cuda()) << text;
    // float32 on both (cuBLAS without TF32, LibTorch's default): only the
    // order of summation differs.
    const at::Tensor back = logits.cpu();
    const double scale = expected.abs().max().item<double>();
    EXPECT_TRUE(at::allclose(back, expected, 1e-3, 1e-4 * scale))
        << text << ": " << (back - expected).abs().max().item<float>() << " of " << scale;
    EXPECT_EQ(gpu_trace.tokens_after_block, cpu_trace.tokens_after_block) << text;
  }
}

TEST_F(CudaTest, InputsMustBeOnTheModelsDevice) {
  const VitConfig config = parse_model_spec(kSmallModel);
  const ComputeDevice gpu(parse_device_spec("cuda"));
  const VitModel on_gpu(config, random_weights(config, 1), gpu.torch_device());
  try {
    on_gpu.forward(at::randn({1, 3, 56, 56}), MethodSpec{});
    ADD_FAILURE() << "accepted a CPU input";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("is on cpu but the model is on cuda:0"));
  }
}

TEST_F(CudaTest, TheGpuIsDescribedFromItsDriver) {
  const ComputeDevice gpu(parse_device_spec("cuda:0"));
  gpu.synchronize();
  const nlohmann::json device = gpu.describe(RuntimeInfo{}, HostFacts{});
  EXPECT_EQ(device.at("kind"), "cuda");
  EXPECT_EQ(device.at("simulated"), false);
  EXPECT_GT(device.at("gpu").at("sm_count").get<int>(), 0) << device.dump(2);
  EXPECT_EQ(device.at("name"), device.at("gpu").at("name"));
  EXPECT_EQ(device.at("runtime").at("gemm_backend"), "aten (cuBLAS)");
  EXPECT_EQ(gpu.gpu_now().at("uuid"), device.at("gpu").at("uuid"));
  const auto count = static_cast<int>(torch::cuda::device_count());
  EXPECT_THAT(error_of(parse_device_spec("cuda:" + std::to_string(count))),
              HasSubstr("this machine has"));
}

}  // namespace
}  // namespace tailsweep::agent
