#include "common/wire/strict_json.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using ::testing::HasSubstr;

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::string nested_objects(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"a\":";
  text += "1";
  text += std::string(depth, '}');
  return text;
}

std::string refusal(std::string_view text) {
  try {
    parse_strict_json(text, "the body");
  } catch (const InputError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(StrictJson, ParsesOrdinaryDocuments) {
  const nlohmann::json value =
      parse_strict_json(R"({"a": [1, 2.5, "x", null, true], "b": {"c": {}}})", "the body");
  EXPECT_EQ(value.at("a").size(), 5u);
  EXPECT_TRUE(value.at("b").at("c").is_object());
}

TEST(StrictJson, AcceptsNestingUpToTheLimitAndRefusesOneMore) {
  EXPECT_NO_THROW(parse_strict_json(nested_arrays(kMaxJsonDepth), "the body"));
  EXPECT_NO_THROW(parse_strict_json(nested_objects(kMaxJsonDepth), "the body"));
  EXPECT_THAT(refusal(nested_arrays(kMaxJsonDepth + 1)),
              HasSubstr("the body is refused: nested deeper than 64"));
  EXPECT_THAT(refusal(nested_objects(kMaxJsonDepth + 1)), HasSubstr("nested deeper than 64"));
  EXPECT_THAT(refusal(R"({"a":[{"b":1}]})").substr(0, 10), "(accepted)");
}

// The shapes that crashed the coordinator and the agent (exit 139): refused
// while parsing, before a deep value exists to be copied or dumped.
TEST(StrictJson, RefusesHostileDepthWithoutRecursing) {
  EXPECT_THAT(refusal(nested_objects(70'000)), HasSubstr("nested deeper than"));
  EXPECT_THAT(refusal(nested_arrays(1'000'000)), HasSubstr("nested deeper than"));
  // Unterminated: still refused for depth, not read to the end.
  EXPECT_THAT(refusal(std::string(100'000, '[')), HasSubstr("nested deeper than"));
}

TEST(StrictJson, HonoursASmallerLimit) {
  EXPECT_NO_THROW(parse_strict_json("[[1]]", "x", 2));
  EXPECT_THROW(parse_strict_json("[[[1]]]", "x", 2), InputError);
}

TEST(StrictJson, RefusesDuplicateKeysAtAnyDepth) {
  EXPECT_THAT(refusal(R"({"a": 1, "a": 2})"), HasSubstr("duplicate key \"a\""));
  EXPECT_THAT(refusal(R"({"x": [{"k": 1, "k": 1}]})"), HasSubstr("duplicate key \"k\""));
  // The same key in sibling objects is fine.
  EXPECT_NO_THROW(parse_strict_json(R"([{"k": 1}, {"k": 2}, {"o": {"k": 3}}])", "x"));
}

TEST(StrictJson, SyntaxErrorsAndOverflowingNumbersAreInputErrors) {
  EXPECT_THAT(refusal("{\"a\": }"), HasSubstr("the body is not valid JSON"));
  EXPECT_THAT(refusal(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(refusal("{} x"), HasSubstr("not valid JSON"));
  // nlohmann throws out_of_range (not parse_error) here: still an InputError.
  EXPECT_THAT(refusal(R"({"precision": 1e400})"), HasSubstr("not valid JSON"));
}

TEST(StrictJson, AKeyWithANulIsQuotedWhole) {
  const std::string text = std::string("{\"a\\u0000b\": 1, \"a\\u0000b\": 2}");
  EXPECT_THAT(refusal(text), HasSubstr("duplicate key \"a\\x00b\""));
}

}  // namespace
}  // namespace tailsweep
