#include "common/model/method_spec.h"

#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using ::testing::HasSubstr;

TEST(MethodSpec, ParsesEveryForm) {
  EXPECT_EQ(parse_method_spec("none").kind, MethodKind::kNone);

  const MethodSpec random = parse_method_spec("random:100");
  EXPECT_EQ(random.kind, MethodKind::kRandom);
  EXPECT_EQ(random.keep_tokens, 100);

  const MethodSpec topk = parse_method_spec("topk:12");
  EXPECT_EQ(topk.kind, MethodKind::kTopK);
  EXPECT_EQ(topk.r, 12);

  const MethodSpec pomt = parse_method_spec("pomt:58");
  EXPECT_EQ(pomt.kind, MethodKind::kPomt);
  EXPECT_EQ(pomt.r, 58);
  EXPECT_EQ(pomt.layer, 3);
  EXPECT_EQ(parse_method_spec("pomt:58@5").layer, 5);

  const MethodSpec tome = parse_method_spec("tome:16");
  EXPECT_EQ(tome.kind, MethodKind::kTome);
  EXPECT_EQ(tome.tome_form, TomeForm::kConstant);
  EXPECT_EQ(tome.r, 16);

  const MethodSpec inflect = parse_method_spec("tome:16,-1");
  EXPECT_EQ(inflect.tome_form, TomeForm::kInflect);
  EXPECT_EQ(inflect.r, 16);
  EXPECT_DOUBLE_EQ(inflect.tome_inflect, -1.0);

  const MethodSpec list = parse_method_spec("tome:[8,4,0,2]");
  EXPECT_EQ(list.tome_form, TomeForm::kList);
  EXPECT_EQ(list.tome_list, (std::vector<int64_t>{8, 4, 0, 2}));
}

TEST(MethodSpec, CanonicalTextRoundTrips) {
  for (const char* text : {"none", "random:2", "topk:0", "pomt:58", "pomt:10@7", "tome:16",
                           "tome:16,-1", "tome:8,0.5", "tome:[1,2,3]"}) {
    const MethodSpec spec = parse_method_spec(text);
    EXPECT_EQ(to_string(spec), text);
    EXPECT_EQ(parse_method_spec(to_string(spec)), spec) << text;
  }
}

TEST(MethodSpec, RefusesMalformedSpecsWithTheGrammar) {
  for (const char* text : {"",
                           "nothing",
                           "topk",
                           "topk:",
                           "topk:-1",
                           "topk:1.5",
                           "topk:12x",
                           "random:1",
                           "random:abc",
                           "pomt:5@",
                           "pomt:5@x",
                           "pomt:@3",
                           "tome:",
                           "tome:[",
                           "tome:[]",
                           "tome:[1,,2]",
                           "tome:[1,2,]",
                           "tome:16,",
                           "tome:16,abc",
                           "tome:16,nan",
                           "ToMe:16",
                           "topk:99999999999999999999"}) {
    try {
      parse_method_spec(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr("pomt:R[@LAYER]")) << text;
    }
  }
}

// HDP alone or after a token method; keys in any order, the rest defaulted.
TEST(MethodSpec, HybridDynamicPruningParsesAloneAndComposed) {
  const MethodSpec alone = parse_method_spec("hdp:blocks=0.5,heads=0.1");
  EXPECT_EQ(alone.kind, MethodKind::kNone);
  ASSERT_TRUE(alone.hdp);
  EXPECT_DOUBLE_EQ(alone.hdp->head_threshold, 0.1);
  EXPECT_DOUBLE_EQ(alone.hdp->block_keep, 0.5);
  EXPECT_FALSE(alone.hdp->approximate);
  EXPECT_EQ(alone.hdp->frac_bits, 8);
  EXPECT_EQ(to_string(alone), "hdp:heads=0.1,blocks=0.5,approx=0,frac=8");
  EXPECT_EQ(to_string(parse_method_spec("none+hdp:approx=1")),
            "hdp:heads=0,blocks=1,approx=1,frac=8");
  const MethodSpec composed = parse_method_spec("pomt:58@4+hdp:heads=0.25,approx=1,frac=4");
  EXPECT_EQ(composed.kind, MethodKind::kPomt);
  EXPECT_EQ(composed.r, 58);
  EXPECT_EQ(composed.layer, 4);
  EXPECT_EQ(composed.hdp->frac_bits, 4);
  for (const char* text : {"hdp:heads=0.1,blocks=0.5,approx=0,frac=8",
                           "pomt:58+hdp:heads=0.125,blocks=1,approx=1,frac=0",
                           "tome:[1,2]+hdp:heads=0,blocks=0.3333,approx=0,frac=16"}) {
    EXPECT_EQ(to_string(parse_method_spec(text)), text);
    EXPECT_EQ(parse_method_spec(to_string(parse_method_spec(text))), parse_method_spec(text));
  }
  EXPECT_NE(parse_method_spec("pomt:58"), composed);
}

TEST(MethodSpec, HybridDynamicPruningRefusesOutOfRangeAndUnknownKeys) {
  for (const auto& [text, why] : std::vector<std::pair<const char*, const char*>>{
           {"hdp:", "at least one of"},
           {"hdp:heads=1.5", "in [0, 1]"},
           {"hdp:heads=-0.1", "in [0, 1]"},
           {"hdp:blocks=0", "in (0, 1]"},
           {"hdp:blocks=1.01", "in (0, 1]"},
           {"hdp:approx=2", "0 or 1"},
           {"hdp:frac=17", "0..16"},
           {"hdp:frac=-1", "not a non-negative integer"},
           {"hdp:rows=0.5", "unknown hdp key 'rows'"},
           {"hdp:heads", "not KEY=VALUE"},
           {"hdp:heads=0.1,heads=0.2", "given twice"},
           {"hdp:heads=nan", "not a number"},
           {"pomt:58+topk:8", "'+' joins a token method to hdp"},
           {"pomt:58+", "'+' joins"},
           // An error names the whole spec, not the part it was reading.
           {"+hdp:heads=0.1", "method '+hdp:heads=0.1': unknown method"},
           {"topk:x+hdp:heads=0.1", "method 'topk:x+hdp:heads=0.1': R 'x'"}}) {
    try {
      parse_method_spec(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const InputError& error) {
      EXPECT_THAT(error.what(), HasSubstr(why)) << text;
    }
  }
}

TEST(MethodSpec, ValidatesAgainstTheModel) {
  const VitConfig tiny = parse_model_spec("deit-tiny");
  EXPECT_NO_THROW(validate_for_model(parse_method_spec("random:197"), tiny));
  EXPECT_THROW(validate_for_model(parse_method_spec("random:198"), tiny), InputError);
  EXPECT_NO_THROW(validate_for_model(parse_method_spec("pomt:10@11"), tiny));
  EXPECT_THROW(validate_for_model(parse_method_spec("pomt:10@12"), tiny), InputError);
  EXPECT_THROW(validate_for_model(parse_method_spec("tome:[1,1,1,1,1,1,1,1,1,1,1,1,1]"), tiny),
               InputError);
}

// ToMe's parse_r, values worked out by hand from its Python source.
TEST(TomeSchedule, MatchesParseR) {
  EXPECT_EQ(tome_requested_r(parse_method_spec("tome:16,-1"), 12),
            (std::vector<int64_t>{32, 29, 26, 23, 20, 17, 14, 11, 8, 5, 2, 0}));
  EXPECT_EQ(tome_requested_r(parse_method_spec("tome:13"), 4),
            (std::vector<int64_t>{13, 13, 13, 13}));
  // inflect 0.5: min = int(8*0.5) = 4, max = 12, step = 8/3
  EXPECT_EQ(tome_requested_r(parse_method_spec("tome:8,0.5"), 4),
            (std::vector<int64_t>{4, 6, 9, 12}));
  EXPECT_EQ(tome_requested_r(parse_method_spec("tome:[3,1]"), 4),
            (std::vector<int64_t>{3, 1, 0, 0}));
  EXPECT_EQ(tome_requested_r(parse_method_spec("topk:5"), 3), (std::vector<int64_t>{0, 0, 0}));
  // A single layer: no division by zero, r itself.
  EXPECT_EQ(tome_requested_r(parse_method_spec("tome:7,-1"), 1), (std::vector<int64_t>{14}));
}

TEST(MethodList, CommasSeparateSpecsButNotTheirOwnCommas) {
  EXPECT_EQ(split_method_list("none"), (std::vector<std::string>{"none"}));
  EXPECT_EQ(split_method_list("none,topk:8,pomt:58@3"),
            (std::vector<std::string>{"none", "topk:8", "pomt:58@3"}));
  EXPECT_EQ(
      split_method_list("hdp:heads=0.1,blocks=0.5,tome:8,4,tome:[4,4,2],none"),
      (std::vector<std::string>{"hdp:heads=0.1,blocks=0.5", "tome:8,4", "tome:[4,4,2]", "none"}));
  EXPECT_EQ(split_method_list("pomt:58+hdp:heads=0.1,approx=1,random:50"),
            (std::vector<std::string>{"pomt:58+hdp:heads=0.1,approx=1", "random:50"}));
  EXPECT_THROW(split_method_list("none,,topk:8"), InputError);
  EXPECT_THROW(split_method_list(""), InputError);
  // Each item still meets the grammar.
  for (const std::string& item : split_method_list("hdp:heads=0.1,blocks=0.5,tome:8,4")) {
    EXPECT_NO_THROW(parse_method_spec(item)) << item;
  }
}

}  // namespace
}  // namespace tailsweep
