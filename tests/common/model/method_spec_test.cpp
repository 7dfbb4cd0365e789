#include "common/model/method_spec.h"

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

}  // namespace
}  // namespace tailsweep
