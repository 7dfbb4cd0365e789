#include "common/model/model_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using ::testing::HasSubstr;

TEST(ModelConfig, NamedModelsMatchTimm) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  EXPECT_EQ(tiny.embed_dim, 192);
  EXPECT_EQ(tiny.num_heads, 3);
  EXPECT_EQ(tiny.depth, 12);
  EXPECT_EQ(tiny.total_tokens(), 197);
  EXPECT_EQ(tiny.mlp_hidden_dim(), 768);
  EXPECT_EQ(parse_model_spec("deit-small").embed_dim, 384);
  EXPECT_EQ(parse_model_spec("deit-base").num_heads, 12);
  const VitConfig large = parse_model_spec("vit-large");
  EXPECT_EQ(large.depth, 24);
  EXPECT_EQ(large.embed_dim, 1024);
  EXPECT_EQ(large.head_dim(), 64);
}

// timm's counts: deit_tiny_patch16_224 5,717,416; deit_small 22,050,664;
// deit_base 86,567,656 parameters.
TEST(ModelConfig, ParameterCountsMatchTimm) {
  EXPECT_DOUBLE_EQ(parse_model_spec("deit-tiny").parameter_count(), 5'717'416);
  EXPECT_DOUBLE_EQ(parse_model_spec("deit-small").parameter_count(), 22'050'664);
  EXPECT_DOUBLE_EQ(parse_model_spec("deit-base").parameter_count(), 86'567'656);
}

// A sweep once carried dim 100,000 x depth 100,000; the agent then failed
// deep in LibTorch with a 34-line backtrace. It is refused here, in one line.
TEST(ModelConfig, CustomModelsAreBounded) {
  const auto refusal = [](const char* spec) {
    try {
      parse_model_spec(spec);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("(accepted)");
  };
  EXPECT_THAT(refusal("custom:dim=100000,depth=100000,heads=10"), HasSubstr("dim 100000 is over"));
  EXPECT_THAT(refusal("custom:depth=100000"), HasSubstr("depth 100000 is over"));
  EXPECT_THAT(refusal("custom:image=4096,patch=1"), HasSubstr("the token count"));
  EXPECT_THAT(refusal("custom:dim=8192,depth=256,heads=8"), HasSubstr("the parameter count"));
  EXPECT_THAT(refusal("custom:classes=1000000"), HasSubstr("classes 1000000 is over"));
  EXPECT_EQ(refusal("custom:dim=1664,depth=48,heads=16,image=224,patch=14"), "(accepted)");
}

TEST(ModelConfig, CustomConfigsOverrideDefaults) {
  const VitConfig custom = parse_model_spec(
      "custom:dim=64,depth=2,heads=4,mlp=2,patch=8,image=32,channels=1,classes=10");
  EXPECT_EQ(custom.embed_dim, 64);
  EXPECT_EQ(custom.depth, 2);
  EXPECT_EQ(custom.num_heads, 4);
  EXPECT_EQ(custom.mlp_hidden_dim(), 128);
  EXPECT_EQ(custom.patch_tokens(), 16);
  EXPECT_EQ(custom.in_channels, 1);
  EXPECT_EQ(custom.num_classes, 10);
  EXPECT_EQ(parse_model_spec("custom:depth=3").embed_dim, 192);
}

TEST(ModelConfig, TimmNamesAreAliases) {
  EXPECT_EQ(parse_model_spec("deit_tiny_patch16_224").name, "deit-tiny");
  EXPECT_EQ(parse_model_spec("deit_small_patch16_224").embed_dim, 384);
  EXPECT_EQ(parse_model_spec("vit_large_patch16_224").name, "vit-large");
  EXPECT_THROW(parse_model_spec("deit_tiny_patch16_384"), InputError);
}

TEST(ModelConfig, RefusesBadSpecs) {
  auto message = [](const char* spec) {
    try {
      parse_model_spec(spec);
    } catch (const InputError& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_THAT(message("deit-huge"), HasSubstr("deit-tiny"));
  EXPECT_THAT(message("custom:dim=65,heads=4"), HasSubstr("not divisible"));
  EXPECT_THAT(message("custom:image=100,patch=16"), HasSubstr("not a multiple"));
  EXPECT_THAT(message("custom:dim=0"), HasSubstr("positive"));
  EXPECT_THAT(message("custom:dim=-4"), HasSubstr("positive"));
  EXPECT_THAT(message("custom:width=4"), HasSubstr("unknown key 'width'"));
  EXPECT_THAT(message("custom:dim"), HasSubstr("key=value"));
  EXPECT_THAT(message("custom:mlp=inf"), HasSubstr("positive number"));
}

TEST(ModelConfig, FlopsCountTheGemmsAndAttention) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  // timm/fvcore quote 1.3 GMACs for DeiT-Tiny; ours counts 2 FLOPs per MAC.
  const std::vector<int64_t> full(12, 197);
  EXPECT_NEAR(tiny.forward_flops(1, full) / 1e9, 2.5, 0.1);
  EXPECT_DOUBLE_EQ(tiny.forward_flops(4, full), 4 * tiny.forward_flops(1, full));
  EXPECT_LT(tiny.forward_flops(1, std::vector<int64_t>(12, 100)), tiny.forward_flops(1, full));
}

}  // namespace
}  // namespace tailsweep
