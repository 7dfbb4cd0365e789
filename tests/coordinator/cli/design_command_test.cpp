// tailsweep design sample | check (docs/design_space.md): seeded draws written
// as files that check reads back; bad architectures refused in one line.
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"

namespace tailsweep {
namespace {

using tailsweep::testing::run_command;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const std::string kBin = TAILSWEEP_BIN;

TEST(DesignCommand, SamplesAreSeededWrittenAndCheckedBack) {
  tailsweep::testing::TempDir scratch("tailsweep-design");
  const std::string out = (scratch / "archs").string();
  const auto first = run_command(kBin + " design sample --count 6 --seed 3 --json --out " + out);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto again = run_command(kBin + " design sample --count 6 --seed 3 --json");
  EXPECT_EQ(first.out, again.out);  // the seed decides
  const nlohmann::json drawn = nlohmann::json::parse(first.out);
  ASSERT_EQ(drawn.size(), 6u);
  for (const nlohmann::json& architecture : drawn) {
    const std::string file = out + "/" + architecture.at("id").get<std::string>() + ".json";
    ASSERT_TRUE(fs::exists(file)) << file;
    const auto check = run_command(kBin + " design check --json " + file);
    ASSERT_EQ(check.exit_code, 0) << check.err;
    EXPECT_EQ(nlohmann::json::parse(check.out), architecture);
  }
  const auto table = run_command(kBin + " design sample --count 3 --sampler uniform");
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("3 architectures (uniform sampler, seed 0)"));
}

TEST(DesignCommand, BadInputIsOneLineAndExitTwo) {
  tailsweep::testing::TempDir scratch("tailsweep-design");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(scratch / name) << text;
    return (scratch / name).string();
  };
  const std::string bad_heads = write("heads.json", R"({"input": "tokens", "layers": [
      {"hidden": 256, "heads": 3, "operation": "sa_sdp", "feed_forward": [1024]}]})");
  auto result = run_command(kBin + " design check " + bad_heads);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("layers[0].heads: 3 heads do not divide hidden 256"));
  const std::string outside = write("outside.json", R"({"input": "tokens", "layers": [
      {"hidden": 256, "heads": 4, "operation": "sa_sdp", "feed_forward": [1000]}]})");
  const std::string space = write("space.json", R"({"layers": [1, 2]})");
  result = run_command(kBin + " design check " + outside + " --space " + space);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("layers[0].feed_forward[0]: 1000 is not in the design space"));
  result = run_command(kBin + " design check " + (scratch / "missing.json").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err,
              HasSubstr("cannot read the architecture " + (scratch / "missing.json").string()));
  result = run_command(kBin + " design sample --space " + write("typo.json", R"({"layer": [2]})"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("layer: unknown field"));
  result = run_command(kBin + " design sample --sampler sobol");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("not lhs or uniform"));
}

}  // namespace
}  // namespace tailsweep
