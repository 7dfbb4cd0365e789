// EdgeTran's heterogeneous encoders in the engine: the weights the design
// module counts, each mixer against an independent reference (attention
// written out per head, the DCT's definition, two 1-D FFTs), and the model
// run end to end, seeded.
#include "agent/engine/encoder_model.h"

#include <cmath>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using design::Architecture;
using design::EncoderLayer;
using design::InputKind;
using design::Operation;

at::Tensor random_tensor(std::vector<int64_t> shape, uint64_t seed) {
  return at::normal(0.0, 1.0, shape, at::make_generator<at::CPUGeneratorImpl>(seed));
}

// Every operation, two width changes, feed-forward stacks of 1 to 3.
Architecture mixed(InputKind input) {
  Architecture architecture;
  architecture.input = input;
  if (input == InputKind::tokens) {
    architecture.sequence_length = 16;
    architecture.vocabulary = 100;
  } else {
    architecture.image_size = 16;
    architecture.patch_size = 4;
    architecture.sequence_length = 17;
  }
  architecture.layers = {EncoderLayer{32, 4, Operation::sa_sdp, {64}},
                         EncoderLayer{48, 4, Operation::sa_wma, {32, 96}},
                         EncoderLayer{48, 2, Operation::l_dft, {64, 64, 16}},
                         EncoderLayer{32, 8, Operation::l_dct, {128}}};
  return architecture;
}

TEST(EncoderModel, HoldsExactlyTheWeightsTheArchitectureCounts) {
  for (const InputKind input : {InputKind::tokens, InputKind::patches}) {
    const Architecture architecture = mixed(input);
    const EncoderModel model(architecture, 1);
    EXPECT_EQ(static_cast<double>(model.parameter_count()), architecture.parameter_count());
  }
}

// Attention written out the slow way: per image and per head, its own
// rows of the weights, 2-D products only (no reshapes shared with the model).
at::Tensor attention_by_hand(const at::Tensor& x, const at::Tensor& qkv_weight,
                             const at::Tensor& qkv_bias, const at::Tensor& out_weight,
                             const at::Tensor& out_bias, int64_t heads, const at::Tensor& wma) {
  const int64_t h = x.size(2), d = h / heads;
  std::vector<at::Tensor> images;
  for (int64_t b = 0; b < x.size(0); ++b) {
    std::vector<at::Tensor> per_head;
    for (int64_t head = 0; head < heads; ++head) {
      const auto project = [&](int64_t which) {
        const int64_t row = which * h + head * d;
        return at::mm(x[b], qkv_weight.narrow(0, row, d).t()) + qkv_bias.narrow(0, row, d);
      };
      at::Tensor q = project(0);
      if (wma.defined()) q = at::mm(q, wma[head]);
      const at::Tensor scores = at::mm(q, project(1).t()) / std::sqrt(static_cast<double>(d));
      per_head.push_back(at::mm(at::softmax(scores, 1), project(2)));
    }
    images.push_back(at::mm(at::cat(per_head, 1), out_weight.t()) + out_bias);
  }
  return at::stack(images);
}

TEST(EncoderModel, AttentionIsSoftmaxOfQueriesAgainstKeysPerHead) {
  const int64_t heads = 4, h = 32, d = 8;
  const at::Tensor x = random_tensor({2, 10, h}, 1);
  const at::Tensor qkv_weight = random_tensor({3 * h, h}, 2) * 0.2;
  const at::Tensor qkv_bias = random_tensor({3 * h}, 3) * 0.1;
  const at::Tensor out_weight = random_tensor({h, h}, 4) * 0.2;
  const at::Tensor out_bias = random_tensor({h}, 5) * 0.1;
  const at::Tensor sdp = attention_mix(x, qkv_weight, qkv_bias, out_weight, out_bias, heads, {});
  EXPECT_TRUE(
      at::allclose(sdp, attention_by_hand(x, qkv_weight, qkv_bias, out_weight, out_bias, heads, {}),
                   1e-4, 1e-5));
  // sa_wma: each head's own W.
  const at::Tensor wma = random_tensor({heads, d, d}, 6) * 0.3;
  EXPECT_TRUE(at::allclose(
      attention_mix(x, qkv_weight, qkv_bias, out_weight, out_bias, heads, wma),
      attention_by_hand(x, qkv_weight, qkv_bias, out_weight, out_bias, heads, wma), 1e-4, 1e-5));
  // With W = I per head it is sa_sdp.
  const at::Tensor identity = at::eye(d).expand({heads, d, d}).contiguous();
  EXPECT_TRUE(
      at::allclose(attention_mix(x, qkv_weight, qkv_bias, out_weight, out_bias, heads, identity),
                   sdp, 1e-5, 1e-6));
}

TEST(EncoderModel, TheDctIsItsDefinitionAndTheDftIsTheFfts) {
  for (const int64_t n : {int64_t{1}, int64_t{5}, int64_t{8}}) {
    const at::Tensor x = random_tensor({3, n}, static_cast<uint64_t>(n)).to(at::kDouble);
    const at::Tensor got = dct_ii(x, -1);
    for (int64_t k = 0; k < n; ++k) {
      double expected = 0;
      for (int64_t i = 0; i < n; ++i) {
        expected += x[1][i].item<double>() *
                    std::cos(M_PI * static_cast<double>(k * (2 * i + 1)) / (2.0 * n));
      }
      EXPECT_NEAR(got[1][k].item<double>(), expected, 1e-9) << "n " << n << " k " << k;
    }
  }
  const at::Tensor x = random_tensor({2, 6, 10}, 9);
  // Along the tokens too, and in float.
  EXPECT_TRUE(at::allclose(dct_ii(x, 1), dct_ii(x.transpose(1, 2), 2).transpose(1, 2), 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(cosine_mix(x), dct_ii(dct_ii(x, 2), 1), 1e-5, 1e-6));
  // The 2-D DFT is two 1-D ones; its real part is what FNet keeps.
  const at::Tensor two_passes = at::fft_fft(at::fft_fft(x, c10::nullopt, 2), c10::nullopt, 1);
  EXPECT_TRUE(at::allclose(fourier_mix(x), at::real(two_passes), 1e-4, 1e-4));
}

TEST(EncoderModel, RunsEndToEndSeeded) {
  for (const InputKind input : {InputKind::tokens, InputKind::patches}) {
    const Architecture architecture = mixed(input);
    const EncoderModel model(architecture, 3);
    const at::Tensor batch = model.example_input(2, 5);
    const at::Tensor out = model.forward(batch);
    EXPECT_EQ(out.sizes(), (std::vector<int64_t>{2, architecture.sequence_length, 32}));
    EXPECT_TRUE(at::isfinite(out).all().item<bool>());
    EXPECT_TRUE(at::equal(out, EncoderModel(architecture, 3).forward(batch)));  // the seed
    EXPECT_FALSE(at::equal(out, EncoderModel(architecture, 4).forward(batch)));
    // Each image (or sequence) is its own: a batch is its rows run alone.
    EXPECT_TRUE(at::allclose(out[1], model.forward(batch.slice(0, 1, 2))[0], 1e-4, 1e-5));
  }
}

TEST(EncoderModel, AWrongInputIsAnInputError) {
  const EncoderModel tokens(mixed(InputKind::tokens), 1);
  EXPECT_THROW(tokens.forward(at::zeros({2, 16})), InputError);  // float, not ids
  EXPECT_THROW(tokens.forward(at::zeros({2, 15}, at::kLong)), InputError);
  const EncoderModel patches(mixed(InputKind::patches), 1);
  EXPECT_THROW(patches.forward(at::zeros({2, 3, 32, 32})), InputError);
  design::Architecture broken = mixed(InputKind::tokens);
  broken.layers[0].heads = 5;
  EXPECT_THROW(EncoderModel(broken, 1), InputError);
}

}  // namespace
}  // namespace tailsweep::agent
