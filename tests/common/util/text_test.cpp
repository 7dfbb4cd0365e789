#include "common/util/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using ::testing::HasSubstr;

TEST(Printable, KeepsPrintableAsciiAndValidUtf8) {
  EXPECT_EQ(printable("deit-tiny 197 tokens {\"a\": 1}"), "deit-tiny 197 tokens {\"a\": 1}");
  EXPECT_EQ(printable("Zürich ✓ 𝄞"), "Zürich ✓ 𝄞");
}

TEST(Printable, EscapesControlCharactersNulAndTerminalSequences) {
  EXPECT_EQ(printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(printable("line\nbreak\r\ttab"), "line\\x0abreak\\x0d\\x09tab");
  EXPECT_EQ(printable("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  // U+009B, a C1 CSI that terminals obey, in UTF-8.
  EXPECT_EQ(printable("\xc2\x9b"
                      "2J"),
            "\\xc2\\x9b2J");
}

TEST(Printable, EscapesBytesThatAreNotUtf8) {
  EXPECT_EQ(printable("\xff"), "\\xff");
  EXPECT_EQ(printable("\xc3"), "\\xc3");                    // truncated sequence
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}

TEST(Printable, IsIdempotent) {
  const std::string once = printable(std::string("a\0\x1b\xff", 4));
  EXPECT_EQ(printable(once), once);
}

TEST(InputErrorMessage, IsPrintableSoANulCannotCutItShort) {
  const InputError error(std::string("unknown field 'a\0b' (known: x)", 30));
  EXPECT_STREQ(error.what(), "unknown field 'a\\x00b' (known: x)");
}

TEST(Names, FollowTheDocumentedCharacterSet) {
  for (const char* good : {"vm", "vm-sim-jetson-nano", "orin-nano-1", "host.lab_2", "A", "7z"}) {
    EXPECT_TRUE(is_valid_name(good)) << good;
  }
  for (const char* bad :
       {"", "-lead", ".hidden", "_x", "a b", "a\nb", "x\\input{y}", "é", "a/b", "a;b"}) {
    EXPECT_FALSE(is_valid_name(bad)) << bad;
  }
  EXPECT_TRUE(is_valid_name(std::string(kMaxNameLength, 'a')));
  EXPECT_FALSE(is_valid_name(std::string(kMaxNameLength + 1, 'a')));
}

TEST(Names, CheckNameSaysTheRule) {
  try {
    check_name("device name", "evil\n\\input{/etc/passwd}");
    FAIL() << "accepted";
  } catch (const InputError& error) {
    EXPECT_THAT(error.what(), HasSubstr("device name \"evil\\x0a\\input{/etc/passwd}\""));
    EXPECT_THAT(error.what(), HasSubstr("A-Z a-z 0-9 . _ -"));
  }
}

TEST(Text, EditDistanceCountsSingleCharacterEdits) {
  EXPECT_EQ(edit_distance("precision", "precision"), 0u);
  EXPECT_EQ(edit_distance("precison", "precision"), 1u);   // a letter left out
  EXPECT_EQ(edit_distance("precsiion", "precision"), 2u);  // two swapped: two edits
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

}  // namespace
}  // namespace tailsweep
