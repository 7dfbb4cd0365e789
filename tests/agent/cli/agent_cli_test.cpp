// Drives the real tailsweep-agent executable: help, a real inference, and
// every kind of bad input answered with a non-zero exit and one clear line.
#include <algorithm>
#include <fstream>

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"
#include "agent/engine/tensor_io.h"
#include "agent/engine/vit_weights.h"

namespace tailsweep::agent {
namespace {

using tailsweep::testing::run_command;
using tailsweep::testing::shell_quote;
using ::testing::HasSubstr;

constexpr const char* kModel = "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=7";

class AgentCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_named_tensor(dir_ / "in.safetensors", "input", at::randn({2, 3, 32, 32}));
  }

  tailsweep::testing::CommandResult infer(const std::string& extra) const {
    return run_command(std::string(TAILSWEEP_AGENT_BIN) + " infer --out " +
                       shell_quote((dir_ / "out.safetensors").string()) + " " + extra);
  }
  std::string input() const {
    return " --input " + shell_quote((dir_ / "in.safetensors").string());
  }

  tailsweep::testing::TempDir scratch_{"tailsweep-cli"};
  const std::filesystem::path& dir_ = scratch_.path();
};

int count_lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(AgentCliTest, HelpDescribesTheOptions) {
  const auto result = run_command(std::string(TAILSWEEP_AGENT_BIN) + " infer --help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("--method"));
  EXPECT_THAT(result.out, HasSubstr("pomt:R[@LAYER]"));
  EXPECT_EQ(run_command(std::string(TAILSWEEP_AGENT_BIN) + " --help").exit_code, 0);
}

TEST_F(AgentCliTest, WritesLogitsThatMatchTheEngine) {
  const VitConfig config = parse_model_spec(kModel);
  save_weights(config, random_weights(config, 9), dir_ / "w.safetensors");
  const auto result =
      infer(std::string("--model ") + shell_quote(kModel) + input() +
            " --method tome:4 --weights " + shell_quote((dir_ / "w.safetensors").string()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"method\":\"tome:4\""));
  EXPECT_THAT(result.out, HasSubstr("\"tokens_after_block\":[13,9]"));
  const at::Tensor logits = read_named_tensor(dir_ / "out.safetensors", "logits");
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7}));
  EXPECT_TRUE(at::isfinite(logits).all().item<bool>());
}

TEST_F(AgentCliTest, BadInputGetsOneLineAndANonZeroExit) {
  const VitConfig other =
      parse_model_spec("custom:dim=32,depth=3,heads=2,patch=8,image=32,classes=7");
  save_weights(other, random_weights(other, 1), dir_ / "other.safetensors");
  write_named_tensor(dir_ / "wrong.safetensors", "input", at::randn({1, 3, 16, 16}));
  write_named_tensor(dir_ / "unnamed.safetensors", "pixels", at::randn({1, 3, 32, 32}));
  {
    std::ofstream garbage(dir_ / "garbage.safetensors");
    garbage << "this is not a safetensors file";
  }
  const std::string model = std::string("--model ") + shell_quote(kModel);
  const std::string dir = dir_.string() + "/";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--model deit-huge" + input(), "unknown model 'deit-huge'"},
      {model + input() + " --method topk:x", "method 'topk:x'"},
      {model + input() + " --method pomt:3@9", "past the last block"},
      {model + " --input " + dir + "absent.safetensors", "absent.safetensors"},
      {model + " --input " + dir + "wrong.safetensors", "input has shape [1, 3, 16, 16]"},
      {model + " --input " + dir + "unnamed.safetensors", "no tensor named 'input'"},
      {model + " --input " + dir + "garbage.safetensors", "garbage.safetensors"},
      {model + input() + " --weights " + dir + "other.safetensors", "blocks.2"},
      {model + input() + " --weights " + dir + "garbage.safetensors", "garbage.safetensors"},
  };
  for (const auto& [arguments, expected] : cases) {
    const auto result = infer(arguments);
    EXPECT_NE(result.exit_code, 0) << arguments;
    EXPECT_THAT(result.err, HasSubstr(expected)) << arguments;
    EXPECT_EQ(count_lines(result.err), 1) << arguments << "\n" << result.err;
  }
  // An output folder that does not exist: the run fails, saying where.
  const auto unwritable = run_command(std::string(TAILSWEEP_AGENT_BIN) + " infer " + model +
                                      input() + " --out " + dir + "no/such/dir/out.safetensors");
  EXPECT_NE(unwritable.exit_code, 0);
  EXPECT_THAT(unwritable.err, HasSubstr("no/such/dir"));
}

}  // namespace
}  // namespace tailsweep::agent
