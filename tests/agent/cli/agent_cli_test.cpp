// Drives the real tailsweep-agent executable: help, a real inference, and
// every kind of bad input answered with a non-zero exit and one clear line.
#include <algorithm>
#include <fstream>

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "../../support/run_command.h"
#include "../../support/temp_dir.h"
#include "agent/data/safetensors.h"
#include "agent/engine/tensor_io.h"
#include "agent/engine/vit_weights.h"

namespace tailsweep::agent {
namespace {

using tailsweep::testing::run_command;
using tailsweep::testing::shell_quote;
using ::testing::HasSubstr;
namespace st = tailsweep::safetensors;

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

// Every command's --help ends with at least one example.
TEST_F(AgentCliTest, EveryCommandShowsAnExample) {
  for (const char* command : {"", "infer", "profile", "train", "eval", "cluster", "run"}) {
    const auto help = run_command(std::string(TAILSWEEP_AGENT_BIN) + " " + command + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, HasSubstr("Example:\n  tailsweep-agent ")) << command;
  }
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

TEST_F(AgentCliTest, ClusterWritesAFileThatInferReadsAndRefusesBadInputWithExit2) {
  const VitConfig config = parse_model_spec(kModel);
  save_weights(config, random_weights(config, 9), dir_ / "w.safetensors");
  const std::string agent = TAILSWEEP_AGENT_BIN;
  const std::string model = std::string(" --model ") + shell_quote(kModel);
  const std::string dir = dir_.string() + "/";
  const auto result = run_command(agent + " cluster" + model + " --weights " + dir +
                                   "w.safetensors --clusters 32 --out " + dir + "c.safetensors");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // 2 blocks x 4 matrices, the patch embedding and the head.
  EXPECT_THAT(result.out, HasSubstr("\"clustered_count\":10"));
  EXPECT_THAT(result.out, HasSubstr("\"not_converged\":0"));
  EXPECT_THAT(result.err, HasSubstr("clustered 10 tensors to 32 values each"));
  for (const char* kernel : {"dense", "lookup"}) {
    const auto inferred = infer(model + input() + " --method pomt:2@0 --weights " + dir +
                                "c.safetensors --weight-kernel " + kernel);
    EXPECT_EQ(inferred.exit_code, 0) << inferred.err;
    EXPECT_THAT(inferred.out, HasSubstr(std::string("\"weight_kernel\":\"") + kernel));
  }
  // Clustering at load gives the codebooks the file holds.
  const std::string sha_field = "\"clustered_weights_sha256\":\"";
  const auto sha_in = [&](const std::string& out) {
    const auto at = out.find(sha_field);
    return at == std::string::npos ? std::string() : out.substr(at + sha_field.size(), 64);
  };
  ASSERT_EQ(sha_in(result.out).size(), 64u) << result.out;
  const auto at_load = infer(model + input() + " --weights " + dir +
                             "w.safetensors --clusters 32 --weight-kernel lookup");
  ASSERT_EQ(at_load.exit_code, 0) << at_load.err;
  EXPECT_EQ(sha_in(at_load.out), sha_in(result.out));
  EXPECT_THAT(at_load.out, HasSubstr("\"clusters\":32"));
  // A simulated device models the lookup kernel's weight bytes.
  const auto simulated =
      run_command(agent + " profile" + model + " --device sim:jetson-nano --tokens 17 --weights " +
                  dir + "c.safetensors --weight-kernel lookup");
  EXPECT_EQ(simulated.exit_code, 0) << simulated.err;
  EXPECT_THAT(simulated.out, HasSubstr("\"weight_kernel\":\"lookup\""));

  {
    std::ofstream garbage(dir_ / "garbage.safetensors");
    garbage << "not safetensors";
  }
  st::File corrupt = st::read_file(dir_ / "c.safetensors");
  corrupt.tensors.erase("head.weight.codebook");
  st::write_file(dir_ / "corrupt.safetensors", corrupt);
  const std::string out = " --out " + dir + "x.safetensors";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" cluster" + model + " --clusters 1" + out, "--clusters: Value 1 not in range 2 to 256"},
      {" cluster" + model + " --clusters 257" + out, "not in range 2 to 256"},
      {" cluster" + model + " --init forgy" + out, "--init"},
      {" cluster" + model + " --weights " + dir + "c.safetensors" + out, "already clustered"},
      {" cluster" + model + " --weights " + dir + "garbage.safetensors" + out, "garbage"},
      {" infer" + model + input() + " --out " + dir + "o.safetensors --weights " + dir +
           "corrupt.safetensors",
       "clustered tensor 'head.weight': '.indices' without its '.codebook' tensor"},
      {" infer" + model + input() + " --out " + dir + "o.safetensors --weight-kernel lookup",
       "the lookup kernel needs clustered weights"},
      {" profile" + model + " --device sim:jetson-nano --tokens 17 --weight-kernel lookup",
       "--weight-kernel lookup needs clustered weights"},
      {" infer" + model + input() + " --out " + dir + "o.safetensors --weight-kernel sparse",
       "--weight-kernel"},
      {" infer" + model + input() + " --out " + dir + "o.safetensors --clusters 1", "--clusters"},
      {" infer" + model + input() + " --out " + dir + "o.safetensors --clusters 16 --weights " +
           dir + "c.safetensors",
       "already clustered"},
  };
  for (const auto& [arguments, expected] : cases) {
    const auto refused = run_command(agent + arguments);
    EXPECT_EQ(refused.exit_code, 2) << arguments;
    EXPECT_THAT(refused.err, HasSubstr(expected)) << arguments;
    EXPECT_EQ(count_lines(refused.err), 1) << arguments << "\n" << refused.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.safetensors"));
}

}  // namespace
}  // namespace tailsweep::agent
