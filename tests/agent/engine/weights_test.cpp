#include <cstring>

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/temp_dir.h"
#include "agent/data/clustered_weights.h"
#include "agent/data/safetensors.h"
#include "agent/engine/tensor_io.h"
#include "agent/engine/vit_model.h"
#include "agent/engine/vit_weights.h"
#include "common/model/method_spec.h"
#include "common/util/errors.h"

namespace tailsweep::agent {
namespace {

using ::testing::HasSubstr;
namespace st = tailsweep::safetensors;

constexpr const char* kTwoBlocks = "custom:dim=16,depth=2,heads=2,patch=4,image=8,classes=3";

class WeightsTest : public ::testing::Test {
 protected:
  // A timm state dict written by hand, names spelled out here rather than
  // taken from the engine's table, so a typo there cannot hide.
  st::File timm_state_dict(st::DType dtype = st::DType::F32) const {
    std::vector<std::pair<std::string, std::vector<int64_t>>> entries = {
        {"cls_token", {1, 1, 16}},
        {"pos_embed", {1, 5, 16}},
        {"patch_embed.proj.weight", {16, 3, 4, 4}},
        {"patch_embed.proj.bias", {16}},
        {"norm.weight", {16}},
        {"norm.bias", {16}},
        {"head.weight", {3, 16}},
        {"head.bias", {3}}};
    for (int block = 0; block < 2; ++block) {
      const std::string p = "blocks." + std::to_string(block) + ".";
      for (auto [name, shape] :
           std::vector<std::pair<std::string, std::vector<int64_t>>>{{"norm1.weight", {16}},
                                                                     {"norm1.bias", {16}},
                                                                     {"attn.qkv.weight", {48, 16}},
                                                                     {"attn.qkv.bias", {48}},
                                                                     {"attn.proj.weight", {16, 16}},
                                                                     {"attn.proj.bias", {16}},
                                                                     {"norm2.weight", {16}},
                                                                     {"norm2.bias", {16}},
                                                                     {"mlp.fc1.weight", {64, 16}},
                                                                     {"mlp.fc1.bias", {64}},
                                                                     {"mlp.fc2.weight", {16, 64}},
                                                                     {"mlp.fc2.bias", {16}}}) {
        entries.emplace_back(p + name, shape);
      }
    }
    st::File file;
    float counter = 0;
    for (const auto& [name, shape] : entries) {
      int64_t numel = 1;
      for (auto d : shape) numel *= d;
      std::vector<float> values(static_cast<std::size_t>(numel));
      for (auto& v : values) v = (counter += 0.25f);
      st::Tensor tensor = st::from_float32(values, shape);
      if (dtype == st::DType::F16 || dtype == st::DType::BF16) {
        st::Tensor narrow{dtype, shape, std::vector<std::byte>(values.size() * 2)};
        for (std::size_t i = 0; i < values.size(); ++i) {
          const uint16_t bits = dtype == st::DType::F16 ? st::float_to_half(values[i])
                                                        : st::float_to_bfloat16(values[i]);
          std::memcpy(narrow.data.data() + 2 * i, &bits, 2);
        }
        tensor = narrow;
      }
      file.tensors.emplace(name, tensor);
    }
    return file;
  }

  std::string load_error(const st::File& file) const {
    const auto path = dir_ / "w.safetensors";
    st::write_file(path, file);
    try {
      load_weights(parse_model_spec(kTwoBlocks), path);
    } catch (const InputError& error) {
      return error.what();
    }
    return "loaded";
  }

  tailsweep::testing::TempDir scratch_{"tailsweep-weights"};
  const std::filesystem::path& dir_ = scratch_.path();
};

TEST_F(WeightsTest, SaveThenLoadGivesTheSameTensors) {
  const VitConfig config = parse_model_spec(kTwoBlocks);
  const VitWeights weights = random_weights(config, 42);
  save_weights(config, weights, dir_ / "model.safetensors");
  const VitWeights loaded = load_weights(config, dir_ / "model.safetensors");
  auto flatten = [&](const VitWeights& w) {
    std::vector<std::pair<std::string, at::Tensor>> all;
    for_each_parameter(config, w,
                       [&](const std::string& name, const std::vector<int64_t>&,
                           const at::Tensor& tensor) { all.emplace_back(name, tensor); });
    return all;
  };
  const auto original = flatten(weights);
  const auto reread = flatten(loaded);
  ASSERT_EQ(original.size(), 8u + 2 * 12);
  ASSERT_EQ(reread.size(), original.size());
  for (std::size_t i = 0; i < original.size(); ++i) {
    EXPECT_TRUE(at::equal(original[i].second, reread[i].second)) << original[i].first;
  }
}

TEST_F(WeightsTest, RandomWeightsDependOnTheSeedOnly) {
  const VitConfig config = parse_model_spec(kTwoBlocks);
  EXPECT_TRUE(at::equal(random_weights(config, 1).blocks[0].qkv_weight,
                        random_weights(config, 1).blocks[0].qkv_weight));
  EXPECT_FALSE(at::equal(random_weights(config, 1).blocks[0].qkv_weight,
                         random_weights(config, 2).blocks[0].qkv_weight));
}

TEST_F(WeightsTest, LoadsATimmStateDictIntoTheRightSlots) {
  const st::File file = timm_state_dict();
  st::write_file(dir_ / "timm.safetensors", file);
  const VitWeights weights = load_weights(parse_model_spec(kTwoBlocks), dir_ / "timm.safetensors");
  const auto expect_same = [&](const at::Tensor& loaded, const std::string& name) {
    EXPECT_TRUE(at::equal(loaded, to_aten_float(file.tensors.at(name), name))) << name;
  };
  expect_same(weights.cls_token, "cls_token");
  expect_same(weights.patch_weight, "patch_embed.proj.weight");
  expect_same(weights.blocks[1].qkv_weight, "blocks.1.attn.qkv.weight");
  expect_same(weights.blocks[0].fc1_bias, "blocks.0.mlp.fc1.bias");
  expect_same(weights.blocks[1].norm2_weight, "blocks.1.norm2.weight");
  expect_same(weights.head_bias, "head.bias");
}

TEST_F(WeightsTest, ConvertsHalfAndBfloat16) {
  for (st::DType dtype : {st::DType::F16, st::DType::BF16}) {
    st::write_file(dir_ / "half.safetensors", timm_state_dict(dtype));
    const VitWeights weights =
        load_weights(parse_model_spec(kTwoBlocks), dir_ / "half.safetensors");
    EXPECT_EQ(weights.head_bias.scalar_type(), at::kFloat);
    // Values are multiples of 0.25 below 256: exact in both formats.
    EXPECT_TRUE(at::equal(weights.cls_token,
                          to_aten_float(timm_state_dict().tensors.at("cls_token"), "cls_token")));
  }
}

TEST_F(WeightsTest, RefusesMissingUnexpectedAndMisshapenTensorsByName) {
  st::File missing = timm_state_dict();
  missing.tensors.erase("blocks.1.attn.proj.bias");
  EXPECT_THAT(load_error(missing), HasSubstr("missing tensor 'blocks.1.attn.proj.bias'"));

  st::File extra = timm_state_dict();
  extra.tensors.emplace("blocks.2.norm1.weight", st::from_float32(std::vector<float>(16), {16}));
  EXPECT_THAT(load_error(extra), HasSubstr("unexpected tensor 'blocks.2.norm1.weight'"));

  st::File misshapen = timm_state_dict();
  misshapen.tensors["blocks.0.mlp.fc1.weight"] =
      st::from_float32(std::vector<float>(64 * 8), {64, 8});
  EXPECT_THAT(load_error(misshapen),
              HasSubstr("'blocks.0.mlp.fc1.weight' has shape [64, 8] but model"));

  st::File integer = timm_state_dict();
  integer.tensors["norm.bias"] = st::Tensor{st::DType::I64, {16}, std::vector<std::byte>(128)};
  EXPECT_THAT(load_error(integer), HasSubstr("norm.bias"));
}

TEST_F(WeightsTest, RefusesTruncatedAndMissingFiles) {
  const auto path = dir_ / "w.safetensors";
  st::write_file(path, timm_state_dict());
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 10);
  EXPECT_THROW(load_weights(parse_model_spec(kTwoBlocks), path), InputError);
  EXPECT_THROW(load_weights(parse_model_spec(kTwoBlocks), dir_ / "absent.safetensors"), InputError);
  // Weights for another model: deit-tiny wants 12 blocks of dim 192.
  EXPECT_THROW(load_weights(parse_model_spec("deit-tiny"), dir_ / "absent.safetensors"),
               InputError);
}

TEST_F(WeightsTest, LoadsAClusteredFileAsTheDenseModelItStandsFor) {
  const VitConfig config = parse_model_spec(kTwoBlocks);
  const VitWeights dense = random_weights(config, 5);
  const clustering::ClusteredFile clustered =
      clustering::cluster_file(weights_file(config, dense), {.clusters = 256});
  st::write_file(dir_ / "c.safetensors", clustered.file);
  const VitWeights loaded = load_weights(config, dir_ / "c.safetensors");
  // A matrix holds its codebook's values at its indices; the rest is as saved.
  const st::Tensor& indices = clustered.file.tensors.at("blocks.1.mlp.fc2.weight.indices");
  const std::vector<float> codebook = st::to_float32(
      clustered.file.tensors.at("blocks.1.mlp.fc2.weight.codebook"), "codebook");
  const at::Tensor fc2 = loaded.blocks[1].fc2_weight.contiguous();
  for (int64_t i = 0; i < fc2.numel(); ++i) {
    ASSERT_EQ(fc2.data_ptr<float>()[i],
              codebook.at(static_cast<std::size_t>(indices.data[static_cast<std::size_t>(i)])));
  }
  EXPECT_TRUE(at::equal(loaded.blocks[0].qkv_bias, dense.blocks[0].qkv_bias));
  EXPECT_TRUE(at::equal(loaded.pos_embed, dense.pos_embed));
  EXPECT_FALSE(at::equal(loaded.blocks[0].qkv_weight, dense.blocks[0].qkv_weight));
  // 256 shared values: the logits stay close; token pruning runs on it too.
  const at::Tensor images = at::randn({2, 3, 8, 8});
  const VitModel dense_model(config, dense), clustered_model(config, loaded);
  const at::Tensor expected = dense_model.forward(images, MethodSpec{});
  const at::Tensor got = clustered_model.forward(images, MethodSpec{});
  EXPECT_LT((got - expected).abs().max().item<float>(),
            0.05f * expected.abs().max().item<float>());
  EXPECT_EQ(clustered_model.forward(images, parse_method_spec("pomt:1@0")).sizes(),
            expected.sizes());
  // The lookup kernel computes what the decoded weights do, token pruning too.
  EXPECT_EQ(loaded.clustered.size(), 2u * 4 + 2);  // the blocks' four, patch embed, head
  const VitModel lookup_model(config, loaded, at::kCPU, WeightKernel::kLookup);
  for (const char* method : {"none", "pomt:1@0", "tome:1"}) {
    const at::Tensor decoded = clustered_model.forward(images, parse_method_spec(method));
    EXPECT_TRUE(at::allclose(lookup_model.forward(images, parse_method_spec(method)), decoded,
                             1e-4, 1e-5))
        << method;
  }
  // Dense weights have nothing to look up.
  try {
    VitModel(config, dense, at::kCPU, WeightKernel::kLookup);
    ADD_FAILURE() << "the lookup kernel ran on dense weights";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("needs clustered weights, and 'blocks.0."));
  }
}

TEST_F(WeightsTest, RefusesAClusteredFileForAnotherModelOrACorruptOneByTensorName) {
  const VitConfig config = parse_model_spec(kTwoBlocks);
  const st::File clustered =
      clustering::cluster_file(weights_file(config, random_weights(config, 5)), {.clusters = 16})
          .file;
  st::write_file(dir_ / "c.safetensors", clustered);
  try {
    load_weights(parse_model_spec("custom:dim=16,depth=2,heads=2,patch=4,image=8,classes=4"),
                 dir_ / "c.safetensors");
    ADD_FAILURE() << "loaded weights for 3 classes as 4";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("tensor 'head.weight' has shape [3, 16]"));
  }
  st::File corrupt = clustered;
  corrupt.tensors.at("blocks.0.mlp.fc1.weight.indices").data[3] = std::byte{200};
  EXPECT_THAT(load_error(corrupt),
              HasSubstr("clustered tensor 'blocks.0.mlp.fc1.weight': index 200 at element 3"));
}

TEST_F(WeightsTest, ClusteringAtLoadGivesWhatTheClusteredFileHolds) {
  const VitConfig config = parse_model_spec(kTwoBlocks);
  save_weights(config, random_weights(config, 5), dir_ / "w.safetensors");
  const std::string dense_path = (dir_ / "w.safetensors").string();
  const clustering::ClusteredFile file = clustering::cluster_file(
      weights_file(config, load_weights(config, dense_path)), {.clusters = 16});
  st::write_file(dir_ / "c.safetensors", file.file);
  const VitWeights from_file = load_weights(config, dir_ / "c.safetensors");

  const RunWeights at_load = run_weights(config, dense_path, 0, 16);
  EXPECT_EQ(at_load.clustered_sha256, clustering::tensors_sha256(file.file));
  EXPECT_EQ(at_load.clustered_sha256.size(), 64u);
  EXPECT_TRUE(at::equal(at_load.weights.blocks[1].fc1_weight, from_file.blocks[1].fc1_weight));
  EXPECT_TRUE(at::equal(at_load.weights.clustered.at("head.weight").indices,
                        from_file.clustered.at("head.weight").indices));
  // Random weights cluster the same way; 0 leaves the weights as they are.
  EXPECT_FALSE(run_weights(config, "", 5, 16).clustered_sha256.empty());
  const RunWeights as_given = run_weights(config, dense_path, 0, 0);
  EXPECT_TRUE(as_given.clustered_sha256.empty());
  EXPECT_TRUE(as_given.weights.clustered.empty());

  EXPECT_THROW(run_weights(config, dense_path, 0, 1), InputError);
  EXPECT_THROW(run_weights(config, dense_path, 0, 257), InputError);
  try {
    run_weights(config, (dir_ / "c.safetensors").string(), 0, 16);
    ADD_FAILURE() << "clustered clustered weights";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("already clustered"));
  }
}

}  // namespace
}  // namespace tailsweep::agent
