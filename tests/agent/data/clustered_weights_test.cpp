#include "agent/data/clustered_weights.h"

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/util/errors.h"

namespace tailsweep::clustering {
namespace {

using ::testing::HasSubstr;
namespace st = safetensors;

st::Tensor random_tensor(std::vector<int64_t> shape, unsigned seed) {
  std::mt19937 generator(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::size_t count = 1;
  for (const int64_t dim : shape) count *= static_cast<std::size_t>(dim);
  std::vector<float> values(count);
  for (float& value : values) value = normal(generator);
  return st::from_float32(values, std::move(shape));
}

// A small model's worth: two Linear matrices, a patch embedding, a bias, a
// LayerNorm weight and the position embedding.
st::File dense_file() {
  st::File file;
  file.metadata["format"] = "pt";
  file.tensors.emplace("patch_embed.proj.weight", random_tensor({8, 1, 2, 2}, 1));
  file.tensors.emplace("blocks.0.attn.qkv.weight", random_tensor({24, 8}, 2));
  file.tensors.emplace("blocks.0.attn.qkv.bias", random_tensor({24}, 3));
  file.tensors.emplace("blocks.0.norm1.weight", random_tensor({8}, 4));
  file.tensors.emplace("head.weight", random_tensor({10, 8}, 5));
  file.tensors.emplace("pos_embed", random_tensor({1, 5, 8}, 6));
  return file;
}

std::string refusal(const st::File& file) {
  try {
    decode_clustered(file, "c.safetensors");
  } catch (const InputError& error) {
    return error.what();
  }
  ADD_FAILURE() << "accepted";
  return "";
}

TEST(ClusteredWeights, TheDefaultClustersTheWeightMatricesOnly) {
  EXPECT_TRUE(is_weight_matrix("blocks.3.mlp.fc1.weight", {1536, 384}));
  EXPECT_TRUE(is_weight_matrix("patch_embed.proj.weight", {384, 3, 16, 16}));
  EXPECT_FALSE(is_weight_matrix("blocks.3.norm1.weight", {384}));
  EXPECT_FALSE(is_weight_matrix("blocks.3.mlp.fc1.bias", {1536}));
  EXPECT_FALSE(is_weight_matrix("pos_embed", {1, 197, 384}));

  const ClusteredFile out = cluster_file(dense_file(), {.clusters = 16});
  std::vector<std::string> names;
  for (const ClusteredTensor& tensor : out.clustered) names.push_back(tensor.name);
  EXPECT_EQ(names, (std::vector<std::string>{"blocks.0.attn.qkv.weight", "head.weight",
                                             "patch_embed.proj.weight"}));
  EXPECT_EQ(out.kept_dense, (std::vector<std::string>{"blocks.0.attn.qkv.bias",
                                                      "blocks.0.norm1.weight", "pos_embed"}));
  const st::Tensor& indices = out.file.tensors.at("blocks.0.attn.qkv.weight.indices");
  EXPECT_EQ(indices.dtype, st::DType::U8);
  EXPECT_EQ(indices.shape, (std::vector<int64_t>{24, 8}));
  EXPECT_EQ(out.file.tensors.at("head.weight.codebook").shape, (std::vector<int64_t>{16}));
  EXPECT_FALSE(out.file.tensors.contains("head.weight"));
  EXPECT_TRUE(out.file.tensors.contains("pos_embed"));
  // Matrices: 4 bytes a weight become 1, plus a 64-byte codebook each.
  EXPECT_EQ(out.dense_bytes, 4u * (32 + 192 + 24 + 8 + 80 + 40));
  EXPECT_EQ(out.clustered_bytes, (32 + 192 + 80) + 3 * 16 * 4 + 4u * (24 + 8 + 40));
  const nlohmann::json how = nlohmann::json::parse(out.file.metadata.at(kClusteringMetadataKey));
  EXPECT_EQ(how["clusters"], 16);
  EXPECT_EQ(how["init"], "linear");
  EXPECT_EQ(out.file.metadata.at("format"), "pt");
  EXPECT_TRUE(is_clustered(out.file));
  EXPECT_FALSE(is_clustered(dense_file()));
}

TEST(ClusteredWeights, AllClustersEveryFloatTensor) {
  const ClusteredFile out = cluster_file(dense_file(), {.clusters = 4, .all_tensors = true});
  EXPECT_EQ(out.clustered.size(), 6u);
  EXPECT_TRUE(out.kept_dense.empty());
}

TEST(ClusteredWeights, DecodingGivesEachWeightItsSharedValueThroughSerialisation) {
  const st::File dense = dense_file();
  const ClusteredFile out = cluster_file(dense, {.clusters = 8, .init = KMeansInit::kQuantile});
  const st::File decoded = decode_clustered(st::parse(st::serialize(out.file)), "c.safetensors");
  ASSERT_EQ(decoded.tensors.size(), dense.tensors.size());
  for (const auto& [name, tensor] : dense.tensors) {
    SCOPED_TRACE(name);
    const st::Tensor& back = decoded.tensors.at(name);
    EXPECT_EQ(back.shape, tensor.shape);
    const std::vector<float> before = st::to_float32(tensor, name);
    const std::vector<float> after = st::to_float32(back, name);
    if (!is_weight_matrix(name, tensor.shape)) {
      EXPECT_EQ(after, before);
      continue;
    }
    const std::vector<float> codebook =
        st::to_float32(out.file.tensors.at(name + kCodebookSuffix), name);
    const st::Tensor& indices = out.file.tensors.at(name + kIndicesSuffix);
    for (std::size_t i = 0; i < after.size(); ++i) {
      ASSERT_EQ(after[i], codebook.at(static_cast<std::size_t>(indices.data[i])));
      // The nearest shared value, within half the codebook's widest gap.
      ASSERT_LT(std::abs(after[i] - before[i]), 0.5f * (codebook.back() - codebook.front()));
    }
  }
  // A dense file passes through unchanged.
  EXPECT_EQ(decode_clustered(dense, "d").tensors.size(), dense.tensors.size());
}

TEST(ClusteredWeights, RefusesAlreadyClusteredAndNonFloatInput) {
  const ClusteredFile out = cluster_file(dense_file(), {.clusters = 4});
  EXPECT_THROW(cluster_file(out.file, {.clusters = 4}), InputError);
  st::File half = dense_file();
  half.tensors.at("head.weight").dtype = st::DType::F16;
  half.tensors.at("head.weight").data.resize(80 * 2);
  try {
    cluster_file(half, {.clusters = 4});
    ADD_FAILURE() << "accepted F16";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("'head.weight' is F16"));
  }
  st::File not_finite = dense_file();
  float nan = NAN;
  std::memcpy(not_finite.tensors.at("head.weight").data.data(), &nan, sizeof nan);
  try {
    cluster_file(not_finite, {.clusters = 4});
    ADD_FAILURE() << "accepted NaN";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("'head.weight'"));
  }
}

TEST(ClusteredWeights, ACorruptClusteredFileIsRefusedNamingTheTensor) {
  const st::File good = cluster_file(dense_file(), {.clusters = 4}).file;
  const std::string name = "blocks.0.attn.qkv.weight";

  st::File past_end = good;
  past_end.tensors.at(name + kIndicesSuffix).data[5] = std::byte{4};  // codebook has 4
  EXPECT_THAT(refusal(past_end),
              HasSubstr("c.safetensors: clustered tensor 'blocks.0.attn.qkv.weight': index 4 at "
                        "element 5 is past the codebook's 4 values"));

  st::File no_codebook = good;
  no_codebook.tensors.erase(name + kCodebookSuffix);
  EXPECT_THAT(refusal(no_codebook), HasSubstr("'blocks.0.attn.qkv.weight': '.indices' without"));

  st::File no_indices = good;
  no_indices.tensors.erase(name + kIndicesSuffix);
  EXPECT_THAT(refusal(no_indices), HasSubstr("a codebook without its '.indices'"));

  st::File both = good;
  both.tensors.emplace(name, random_tensor({24, 8}, 9));
  EXPECT_THAT(refusal(both), HasSubstr("present both dense and clustered"));

  st::File wide_indices = good;
  wide_indices.tensors.at(name + kIndicesSuffix).dtype = st::DType::I8;
  EXPECT_THAT(refusal(wide_indices), HasSubstr("indices are I8, not U8"));

  st::File bad_codebook = good;
  bad_codebook.tensors.at(name + kCodebookSuffix) = random_tensor({2, 2}, 1);
  EXPECT_THAT(refusal(bad_codebook), HasSubstr("1-D F32 tensor of 1..256 values"));

  st::File nan_codebook = good;
  float nan = NAN;
  std::memcpy(nan_codebook.tensors.at(name + kCodebookSuffix).data.data(), &nan, sizeof nan);
  EXPECT_THAT(refusal(nan_codebook), HasSubstr("not finite"));
}

}  // namespace
}  // namespace tailsweep::clustering
