#include "agent/engine/codebook_gemm.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "agent/engine/packed_linear.h"

namespace tailsweep::agent {
namespace {

// Random clustered weights: indices below k, a codebook of k values.
struct Clustered {
  at::Tensor indices, codebook;
  at::Tensor decoded() const { return codebook.index({indices.to(at::kLong)}); }
};

Clustered random_clustered(int64_t out, int64_t in, int64_t k) {
  return {at::randint(0, k, {out, in}, at::kByte), at::randn({k})};
}

void expect_close(const at::Tensor& actual, const at::Tensor& expected) {
  const double scale = expected.abs().max().item<double>();
  EXPECT_TRUE(at::allclose(actual, expected, 1e-5, 1e-5 * scale))
      << (actual - expected).abs().max().item<double>() << " of " << scale;
}

class CodebookGemmTest : public ::testing::TestWithParam<CodebookKernel> {};

TEST_P(CodebookGemmTest, MatchesTheDenseProductOfTheDecodedWeights) {
  // Shapes around the kernels' blocks: outputs not a multiple of 4 or of the
  // 64-output tile, inputs not a multiple of 8, rows on both sides of the
  // direct kernel's 16 and across its 64-row tile, and 600 x 600, whose
  // outputs span three decoded panels (208 wide) on the tiled path.
  for (const auto& [out, in] :
       {std::pair<int64_t, int64_t>{96, 40}, {7, 13}, {130, 64}, {600, 600}}) {
    for (const int64_t k : {2, 64, 256}) {
      const Clustered weights = random_clustered(out, in, k);
      const at::Tensor bias = at::randn({out});
      const at::Tensor scale = at::rand({out}) + 0.5;
      for (const int64_t rows : {1, 3, 16, 17, 64, 197}) {
        SCOPED_TRACE(std::to_string(out) + "x" + std::to_string(in) + " k=" + std::to_string(k) +
                     " rows=" + std::to_string(rows));
        const at::Tensor x = at::randn({rows, in});
        const at::Tensor product = at::mm(x, weights.decoded().t());
        const CodebookWeights view{weights.indices.data_ptr<std::uint8_t>(),
                                   weights.codebook.data_ptr<float>(), out, in};
        at::Tensor y = at::full({rows, out}, NAN);
        codebook_gemm(x.data_ptr<float>(), rows, view, bias.data_ptr<float>(), nullptr, false,
                      y.data_ptr<float>(), GetParam());
        expect_close(y, product + bias);
        // Scaled and accumulated into what was there.
        at::Tensor accumulated = at::randn({rows, out});
        const at::Tensor before = accumulated.clone();
        codebook_gemm(x.data_ptr<float>(), rows, view, bias.data_ptr<float>(),
                      scale.data_ptr<float>(), true, accumulated.data_ptr<float>(), GetParam());
        expect_close(accumulated, before + product * scale + bias);
        // No bias, no scale.
        codebook_gemm(x.data_ptr<float>(), rows, view, nullptr, nullptr, false, y.data_ptr<float>(),
                      GetParam());
        expect_close(y, product);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, CodebookGemmTest,
                         ::testing::Values(CodebookKernel::kBest, CodebookKernel::kPortable));

TEST(CodebookLinear, APackedLinearOnCodebooksMatchesOneOnTheDecodedWeights) {
  const Clustered weights = random_clustered(96, 40, 64);
  const at::Tensor bias = at::randn({96});
  const PackedLinear lookup = PackedLinear::from_codebook(weights.indices, weights.codebook, bias);
  const PackedLinear dense(weights.decoded(), bias);
  EXPECT_TRUE(lookup.runs_on_codebook());
  EXPECT_FALSE(dense.runs_on_codebook());
  const at::Tensor input = at::randn({2, 17, 40});  // (B, N, C) as the blocks call it
  expect_close(lookup.forward(input), dense.forward(input));
  expect_close(lookup.forward_gelu(input), dense.forward_gelu(input));
  at::Tensor a = at::randn({2, 17, 96});
  at::Tensor b = a.clone();
  lookup.accumulate_into(a, input);
  dense.accumulate_into(b, input);
  expect_close(a, b);
}

}  // namespace
}  // namespace tailsweep::agent
