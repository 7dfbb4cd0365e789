#include <cstdlib>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/engine/runtime.h"
#include "agent/engine/vit_model.h"
#include "common/model/token_schedule.h"
#include "common/util/errors.h"
#include "reference_vit.h"

namespace tailsweep::agent {
namespace {

// 56x56 images with patch 8: 49 patches + CLS = 50 tokens, four blocks.
constexpr const char* kSmallModel =
    "custom:dim=64,depth=4,heads=4,patch=8,image=56,channels=3,classes=10";

class ModelTest : public ::testing::Test {
 protected:
  ModelTest()
      : config_(parse_model_spec(kSmallModel)),
        weights_(random_weights(config_, 7)),
        model_(config_, weights_),
        images_(at::randn({3, 3, 56, 56}, at::make_generator<at::CPUGeneratorImpl>(11))) {}

  at::Tensor run(const char* method, ForwardTrace* trace = nullptr, uint64_t seed = 0) const {
    return model_.forward(images_, parse_method_spec(method), {seed}, trace);
  }

  VitConfig config_;
  VitWeights weights_;
  VitModel model_;
  at::Tensor images_;
};

TEST_F(ModelTest, BaselineMatchesThePlainTimmForwardPass) {
  const at::Tensor expected = testing::reference_vit_forward(config_, weights_, images_);
  const at::Tensor logits = run("none");
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_TRUE(at::allclose(logits, expected, 1e-4, 1e-5))
      << (logits - expected).abs().max().item<float>();
}

TEST_F(ModelTest, TheAtenGemmFallbackGivesTheSameLogits) {
  // Builds without oneDNN (JetPack's LibTorch) run every linear layer on ATen.
  ::setenv("TAILSWEEP_GEMM", "aten", 1);
  const VitModel aten_model(config_, weights_);
  ::unsetenv("TAILSWEEP_GEMM");
  const at::Tensor expected = testing::reference_vit_forward(config_, weights_, images_);
  for (const char* method : {"none", "pomt:10@1", "tome:4"}) {
    const at::Tensor logits = aten_model.forward(images_, parse_method_spec(method));
    EXPECT_TRUE(at::allclose(logits, run(method), 1e-4, 1e-5)) << method;
  }
  EXPECT_TRUE(at::allclose(aten_model.forward(images_, MethodSpec{}), expected, 1e-4, 1e-5));
}

TEST(Model, BaselineMatchesReferenceWhenTheScaleIsNotAPowerOfTwo) {
  // head dim 24: folding d^-0.5 into the weights rounds differently, slightly.
  const VitConfig config =
      parse_model_spec("custom:dim=48,depth=2,heads=2,patch=8,image=32,classes=5");
  const VitWeights weights = random_weights(config, 3);
  const at::Tensor images = at::randn({2, 3, 32, 32});
  const at::Tensor logits = VitModel(config, weights).forward(images, MethodSpec{});
  EXPECT_TRUE(
      at::allclose(logits, testing::reference_vit_forward(config, weights, images), 1e-4, 1e-5));
}

TEST_F(ModelTest, EveryMethodAtZeroReductionGivesTheBaselineLogits) {
  const at::Tensor baseline = run("none");
  for (const char* method : {"topk:0", "pomt:0", "pomt:0@2", "tome:0", "tome:0,-1", "tome:[0,0]",
                             "random:50", "pomt:48", "topk:48"}) {
    EXPECT_TRUE(at::equal(run(method), baseline)) << method;
  }
}

TEST_F(ModelTest, ReductionChangesTheLogits) {
  const at::Tensor baseline = run("none");
  // (pomt:10 at the default layer 3 would be a no-op here: pruning in the last
  // block cannot change CLS, only the per-token MLP follows it.)
  for (const char* method : {"topk:3", "pomt:10@1", "tome:4", "tome:4,-1", "random:30"}) {
    EXPECT_FALSE(at::allclose(run(method), baseline)) << method;
  }
}

TEST_F(ModelTest, TokenCountsAfterEachBlockFollowTheSchedule) {
  for (const char* method :
       {"none", "random:20", "random:2", "topk:5", "topk:20", "pomt:10", "pomt:30@0", "pomt:47@3",
        "tome:8", "tome:30", "tome:8,-1", "tome:[20,0,5,1]", "tome:[1]"}) {
    ForwardTrace trace;
    run(method, &trace);
    const TokenSchedule expected = token_schedule(parse_method_spec(method), config_);
    EXPECT_EQ(trace.tokens_in, expected.tokens_in) << method;
    EXPECT_EQ(trace.tokens_into_block, expected.tokens_into_block) << method;
    EXPECT_EQ(trace.tokens_after_block, expected.tokens_after_block) << method;
  }
}

TEST_F(ModelTest, TomeSizesAlwaysSumToTheOriginalTokenCount) {
  for (const char* method : {"tome:8", "tome:30", "tome:10,-1", "tome:[20,0,5,1]"}) {
    ForwardTrace trace;
    run(method, &trace);
    ASSERT_EQ(trace.tome_size_sum_min.size(), 4u);
    for (std::size_t block = 0; block < 4; ++block) {
      EXPECT_DOUBLE_EQ(trace.tome_size_sum_min[block], 50.0) << method << " block " << block;
      EXPECT_DOUBLE_EQ(trace.tome_size_sum_max[block], 50.0) << method << " block " << block;
    }
  }
}

TEST_F(ModelTest, RandomKeepIsRepeatableForASeed) {
  EXPECT_TRUE(at::equal(run("random:20", nullptr, 5), run("random:20", nullptr, 5)));
  EXPECT_FALSE(at::equal(run("random:20", nullptr, 5), run("random:20", nullptr, 6)));
}

// Every method that reduces tokens chooses per image: an image's logits in a
// batch are its logits alone. (random:N draws one subset per batch, the
// same for every image of it, so it is covered only at zero reduction.)
TEST_F(ModelTest, ImagesInABatchDoNotAffectEachOther) {
  for (const char* method : {"none", "topk:4", "tome:8", "tome:[8,4,2]", "pomt:20", "pomt:20@1"}) {
    const at::Tensor batch = run(method);
    const at::Tensor single =
        model_.forward(images_.narrow(0, 1, 1), parse_method_spec(method), {});
    EXPECT_TRUE(at::allclose(batch.narrow(0, 1, 1), single, 1e-4, 1e-5)) << method;
  }
}

TEST_F(ModelTest, RefusesInputOfTheWrongShapeOrType) {
  EXPECT_THROW(model_.forward(at::randn({1, 3, 64, 64}), MethodSpec{}), InputError);
  EXPECT_THROW(model_.forward(at::randn({3, 56, 56}), MethodSpec{}), InputError);
  EXPECT_THROW(model_.forward(at::randn({0, 3, 56, 56}), MethodSpec{}), InputError);
  EXPECT_THROW(model_.forward(at::randn({1, 3, 56, 56}).to(at::kDouble), MethodSpec{}), InputError);
  EXPECT_THROW(model_.forward(images_, parse_method_spec("pomt:3@4")), InputError);
  EXPECT_THROW(model_.forward(images_, parse_method_spec("random:51")), InputError);
}

}  // namespace
// A failed allocation in LibTorch (a model or batch too large for the
// device) carries a C++ backtrace of 17 frames or more in what(). The user
// and the coordinator get its first line only.
TEST(ErrorMessage, CutsLibTorchsBacktraceToOneLine) {
  try {
    (void)at::empty({int64_t{1} << 40, int64_t{1} << 20});  // 4 EiB of floats
    FAIL() << "the allocation succeeded";
  } catch (const std::exception& error) {
    const std::string full = error.what();
    const std::string message = error_message(error);
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_THAT(message, ::testing::StartsWith("LibTorch: "));
    EXPECT_THAT(message, ::testing::HasSubstr("can't allocate memory"));
    EXPECT_THAT(full, ::testing::HasSubstr("frame #1"));
  }
  const std::runtime_error plain("plain message");
  EXPECT_EQ(error_message(plain), "plain message");
}

}  // namespace tailsweep::agent
