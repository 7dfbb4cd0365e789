// One rule for --coordinator everywhere, and errors that say what to write.
#include "common/util/coordinator_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/util/errors.h"

namespace tailsweep {
namespace {

using ::testing::HasSubstr;

std::string refusal(std::string_view url) {
  try {
    checked_coordinator_url(url);
  } catch (const InputError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(CoordinatorUrl, TakesHttpAndHttpsWithAHost) {
  EXPECT_EQ(checked_coordinator_url("http://127.0.0.1:8470"), "http://127.0.0.1:8470");
  EXPECT_EQ(checked_coordinator_url("https://coord.lab:8470/"), "https://coord.lab:8470");
  EXPECT_EQ(checked_coordinator_url("http://[::1]:8470"), "http://[::1]:8470");
}

TEST(CoordinatorUrl, SaysWhatToWriteInstead) {
  EXPECT_THAT(refusal("127.0.0.1:8470"),
              HasSubstr("has no scheme: write http://127.0.0.1:8470 (or https://127.0.0.1:8470"));
  EXPECT_THAT(refusal("ftp://host:1"), HasSubstr("the scheme is http or https, not 'ftp'"));
  EXPECT_THAT(refusal("http://127.0.0.1:8470/v1"),
              HasSubstr("leave out the path ('/v1'), the commands add the API's paths "
                        "themselves: write http://127.0.0.1:8470"));
  EXPECT_THAT(refusal("http://"), HasSubstr("names no host"));
  EXPECT_THAT(refusal(""), HasSubstr("give the coordinator's URL"));
}

}  // namespace
}  // namespace tailsweep
