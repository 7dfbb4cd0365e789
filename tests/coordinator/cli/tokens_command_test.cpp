#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/run_command.h"

namespace tailsweep {
namespace {

using tailsweep::testing::run_command;
using ::testing::HasSubstr;

TEST(TokensCommand, PrintsTheScheduleAsJson) {
  const auto result =
      run_command(std::string(TAILSWEEP_BIN) + " tokens --model deit-tiny --method pomt:58 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json.at("tokens_after_block").at(3), 139);
  EXPECT_EQ(json.at("tokens_into_block").at(3), 197);
  EXPECT_LT(json.at("gflops").get<double>(), json.at("gflops_baseline").get<double>());
}

TEST(TokensCommand, PrintsATableAndRefusesBadSpecs) {
  const auto table =
      run_command(std::string(TAILSWEEP_BIN) + " tokens --model deit-small --method tome:16,-1");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("GFLOP"));
  const auto bad =
      run_command(std::string(TAILSWEEP_BIN) + " tokens --model deit-tiny --method tome");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("method 'tome'"));
  const auto no_model = run_command(std::string(TAILSWEEP_BIN) + " tokens");
  EXPECT_NE(no_model.exit_code, 0);
  EXPECT_THAT(no_model.err, HasSubstr("--model"));
}

}  // namespace
}  // namespace tailsweep
