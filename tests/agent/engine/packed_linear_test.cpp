#include "agent/engine/packed_linear.h"

#include <cstdlib>
#include <string>

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace tailsweep::agent {
namespace {

// Agreement with at::linear to float rounding, relative to the magnitude.
void expect_close(const at::Tensor& actual, const at::Tensor& expected) {
  const double scale = expected.abs().max().item<double>();
  EXPECT_TRUE(at::allclose(actual, expected, 1e-5, 1e-5 * scale))
      << (actual - expected).abs().max().item<double>() << " of " << scale;
}

// Both backends: oneDNN where this build has it, and the ATen fallback that
// builds without oneDNN (Jetson) run. The oneDNN case is skipped, not run
// on the fallback under oneDNN's name, in a build without it.
class PackedLinearTest : public ::testing::TestWithParam<GemmBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == GemmBackend::kOneDnn && gemm_backend().rfind("onednn", 0) != 0) {
      GTEST_SKIP() << "this build has no oneDNN (" << gemm_backend() << ")";
    }
  }
  // The layer runs on the backend the case is named after.
  static void expect_backend(const PackedLinear& linear) {
    EXPECT_EQ(linear.runs_on_onednn(), GetParam() == GemmBackend::kOneDnn);
  }
};

TEST_P(PackedLinearTest, MatchesAtenForEveryRowCountAndEpilogue) {
  const at::Tensor weight = at::randn({96, 40});
  const at::Tensor bias = at::randn({96});
  const PackedLinear linear(weight, bias, GetParam());
  expect_backend(linear);
  // Row counts change from block to block under token pruning, including
  // counts other than the one the weights were packed for.
  for (int64_t rows : {1, 2, 17, 139, 197, 394}) {
    const at::Tensor input = at::randn({rows, 40});
    const at::Tensor expected = at::linear(input, weight, bias);
    expect_close(linear.forward(input), expected);
    expect_close(linear.forward_gelu(input), at::gelu(expected));
    at::Tensor out = at::randn({rows, 96});
    const at::Tensor before = out.clone();
    linear.accumulate_into(out, input);
    expect_close(out, before + expected);
  }
}

TEST_P(PackedLinearTest, KeepsLeadingDimensionsAndReusesPrimitives) {
  const at::Tensor weight = at::randn({8, 12});
  const at::Tensor bias = at::randn({8});
  const PackedLinear linear(weight, bias, GetParam());
  expect_backend(linear);
  const at::Tensor input = at::randn({3, 5, 12});
  const at::Tensor first = linear.forward(input);
  EXPECT_EQ(first.sizes(), (std::vector<int64_t>{3, 5, 8}));
  EXPECT_TRUE(at::equal(linear.forward(input), first));  // the cached primitive
  expect_close(first, at::linear(input, weight, bias));
}

INSTANTIATE_TEST_SUITE_P(Backends, PackedLinearTest,
                         ::testing::Values(GemmBackend::kOneDnn, GemmBackend::kAten),
                         [](const auto& info) {
                           return info.param == GemmBackend::kAten ? "Aten" : "OneDnn";
                         });

TEST(PackedLinear, ReportsTheBackendItRunsOn) {
  ::setenv("TAILSWEEP_GEMM", "aten", 1);
  EXPECT_EQ(default_gemm_backend(), GemmBackend::kAten);
  EXPECT_EQ(gemm_backend(), "aten");
  ::unsetenv("TAILSWEEP_GEMM");
  EXPECT_EQ(default_gemm_backend(), GemmBackend::kOneDnn);
  const std::string backend = gemm_backend();
  EXPECT_TRUE(backend == "aten" || backend.rfind("onednn ", 0) == 0) << backend;
}

}  // namespace
}  // namespace tailsweep::agent
