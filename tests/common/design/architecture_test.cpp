// Heterogeneous encoders as data: counted against published models, read
// strictly, and named by a stable id.
#include "common/design/architecture.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep::design {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

Architecture uniform(InputKind input, int64_t layers, int64_t hidden, int64_t heads,
                     int64_t feed_forward) {
  Architecture architecture;
  architecture.input = input;
  architecture.layers.assign(static_cast<std::size_t>(layers),
                             EncoderLayer{hidden, heads, Operation::sa_sdp, {feed_forward}});
  return architecture;
}

std::string refusal(const json& document) {
  try {
    parse_architecture(document);
  } catch (const InputError& error) {
    return error.what();
  }
  return "accepted";
}

// Uniform architectures are models whose counts are published: BERT-base
// (109,482,240 with its pooler, 590,592, and token types, 1,536; 512
// positions) and timm's deit_tiny_patch16_224 (5,717,416 with its final
// norm, 384, and its 1000-class head, 193,000).
TEST(Architecture, ParameterCountsMatchBertBaseAndDeitTiny) {
  Architecture bert = uniform(InputKind::tokens, 12, 768, 12, 3072);
  bert.sequence_length = 512;
  EXPECT_DOUBLE_EQ(bert.parameter_count(), 109'482'240 - 590'592 - 1'536);
  Architecture deit = uniform(InputKind::patches, 12, 192, 3, 768);
  deit.sequence_length = 197;
  EXPECT_DOUBLE_EQ(deit.parameter_count(), 5'717'416 - 384 - 193'000);
}

// A width change adds its projection; sa_wma its d x d per head; the
// parameter-free mixers nothing.
TEST(Architecture, EachOperationAndProjectionCountsWhatItAdds) {
  const auto layer = [](double h) {  // sa_sdp, one 256-wide feed-forward layer
    return 4 * (h * h + h) + 4 * h + (h * 256 + 256) + (256 * h + h);
  };
  const double embeddings = 30'522 * 128 + 128 * 128 + 2 * 128;  // vocabulary, positions, norm
  Architecture one = uniform(InputKind::tokens, 1, 128, 2, 256);
  EXPECT_DOUBLE_EQ(one.parameter_count(), embeddings + layer(128));
  one.layers[0].operation = Operation::sa_wma;
  EXPECT_DOUBLE_EQ(one.parameter_count(), embeddings + layer(128) + 2 * 64 * 64);
  one.layers[0].operation = Operation::l_dft;
  EXPECT_DOUBLE_EQ(one.parameter_count(), embeddings + layer(128) - 4 * (128 * 128 + 128));
  Architecture wider = uniform(InputKind::tokens, 2, 128, 2, 256);
  wider.layers[1].hidden = 256;
  EXPECT_DOUBLE_EQ(wider.parameter_count(),
                   embeddings + layer(128) + (128 * 256 + 256) + layer(256));
}

// deit-tiny's forward pass at 197 tokens: the same GEMMs VitConfig counts
// (tests/common/model), less the classifier's.
TEST(Architecture, FlopsCountTheGemmsAndTheAttentionMatmuls) {
  Architecture deit = uniform(InputKind::patches, 12, 192, 3, 768);
  deit.sequence_length = 197;
  const double n = 197, h = 192;
  const double per_layer = 2 * (n * 4 * h * h + 2 * n * n * h + 2 * n * h * 768);
  const double patches = 2 * 196 * 768 * h;
  EXPECT_DOUBLE_EQ(deit.forward_flops(1), patches + 12 * per_layer);
  EXPECT_DOUBLE_EQ(deit.forward_flops(8), 8 * deit.forward_flops(1));
  // A mixer replaces the attention's work by two passes of FFTs.
  Architecture fnet = uniform(InputKind::tokens, 1, 256, 4, 512);
  fnet.layers[0].operation = Operation::l_dft;
  EXPECT_NEAR(fnet.forward_flops(1),
              2 * 128 * 2 * 256 * 512 + 128 * 5 * 256 * 8 + 256 * 5 * 128 * 7, 1e-6);
}

TEST(Architecture, ReadsWhatItWritesAndItsIdIsStable) {
  const json document = json::parse(R"({
    "input": "tokens", "sequence_length": 128, "vocabulary": 30522,
    "layers": [
      {"hidden": 256, "heads": 4, "operation": "sa_sdp", "feed_forward": [1024]},
      {"hidden": 512, "heads": 8, "operation": "l_dct", "feed_forward": [2048, 512, 256]}
    ]})");
  const Architecture architecture = parse_architecture(document);
  EXPECT_EQ(to_json(architecture), document);
  EXPECT_EQ(parse_architecture(to_json(architecture)), architecture);
  // The id hashes the canonical JSON: fixed across machines and versions,
  // and the same as Python's json.dumps(d, sort_keys=True,
  // separators=(",", ":")) gives (docs/design_space.md).
  EXPECT_EQ(architecture_id(architecture), "arch-c40280a287f6e00a");
  EXPECT_THAT(architecture_id(architecture), ::testing::MatchesRegex("arch-[0-9a-f]{16}"));
  Architecture other = architecture;
  other.layers[1].feed_forward.back() = 512;
  EXPECT_NE(architecture_id(other), architecture_id(architecture));
  // Defaults are written out, so a document with and without them is one architecture.
  json shorter = document;
  shorter.erase("vocabulary");
  EXPECT_EQ(architecture_id(parse_architecture(shorter)), architecture_id(architecture));
  // Patches: the sequence follows from the image.
  const Architecture vit = parse_architecture(json::parse(R"({
    "input": "patches", "image_size": 32, "patch_size": 8,
    "layers": [{"hidden": 64, "heads": 2, "operation": "sa_wma", "feed_forward": [128]}]})"));
  EXPECT_EQ(vit.sequence_length, 17);
  EXPECT_EQ(to_json(vit).at("in_channels"), 3);
}

TEST(Architecture, BadDocumentsAreRefusedNamingTheField) {
  const json good = json::parse(R"({"input": "tokens", "layers": [
      {"hidden": 256, "heads": 4, "operation": "sa_sdp", "feed_forward": [1024]}]})");
  const auto with = [&](const std::string& pointer, const json& value) {
    json document = good;
    document[json::json_pointer(pointer)] = value;
    return refusal(document);
  };
  EXPECT_EQ(refusal(good), "accepted");
  EXPECT_THAT(with("/layers/0/heads", 3),
              HasSubstr("layers[0].heads: 3 heads do not divide hidden 256"));
  EXPECT_THAT(with("/layers/0/operation", "c_5"), HasSubstr("unknown operation 'c_5'"));
  EXPECT_THAT(with("/layers/0/feed_forward", json::array({1, 2, 3, 4})),
              HasSubstr("layers[0].feed_forward (count): 4 is not in 1..3"));
  EXPECT_THAT(with("/layers/0/feed_forward", json::array()), HasSubstr("at least one"));
  EXPECT_THAT(with("/layers/0/hidden", "256"), HasSubstr("layers[0].hidden: expected an integer"));
  EXPECT_THAT(with("/layers/0/width", 2), HasSubstr("layers[0].width: unknown field"));
  EXPECT_THAT(with("/image_size", 224), HasSubstr("image_size: unknown field"));
  EXPECT_THAT(with("/input", "audio"), HasSubstr("'audio' is not tokens or patches"));
  EXPECT_THAT(with("/layers", json::array()), HasSubstr("at least one"));
  EXPECT_THAT(with("/layers/0/hidden", 100000), HasSubstr("layers[0].hidden"));
  json huge = good;
  huge["layers"] = json::array();
  for (int i = 0; i < 64; ++i) {
    huge["layers"].push_back(json::parse(
        R"({"hidden": 8192, "heads": 8, "operation": "sa_sdp", "feed_forward": [65536]})"));
  }
  EXPECT_THAT(refusal(huge), HasSubstr("parameters, over the limit"));
  EXPECT_THAT(refusal(json::parse(R"({"input": "patches", "image_size": 30, "patch_size": 8,
      "layers": [{"hidden": 64, "heads": 2, "operation": "sa_sdp", "feed_forward": [128]}]})")),
              HasSubstr("8 does not divide image_size 30"));
  EXPECT_THAT(refusal(json::array()), HasSubstr("expected a JSON object"));
}

}  // namespace
}  // namespace tailsweep::design
