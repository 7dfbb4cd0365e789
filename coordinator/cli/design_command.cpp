// tailsweep design sample | check: EdgeTran's design space from the command
// line (docs/design_space.md): draw architectures, or check one.
#include <filesystem>
#include <fstream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/design/design_space.h"
#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "common/wire/strict_json.h"
#include "coordinator/cli/commands.h"

namespace tailsweep::cli {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

struct SampleOptions {
  std::string space;  // empty: the default space
  std::size_t count = 16;
  std::string sampler = "lhs";
  uint64_t seed = 0;
  std::string out;
  bool json = false;
};

struct CheckOptions {
  std::string architecture;
  std::string space;  // empty: no membership check
  bool json = false;
};

design::DesignSpace space_from(const std::string& path) {
  return path.empty() ? design::parse_design_space(json::object())
                      : design::parse_design_space(read_json_file(path, "the design space"));
}

// One line per architecture: what a user compares at a glance.
json summary(const design::Architecture& architecture) {
  json widths = json::array();
  json operations = json::array();
  for (const design::EncoderLayer& layer : architecture.layers) {
    widths.push_back(layer.hidden);
    operations.push_back(design::to_string(layer.operation));
  }
  return {{"id", design::architecture_id(architecture)},
          {"layers", architecture.layers.size()},
          {"hidden", widths},
          {"operations", operations},
          {"parameters", architecture.parameter_count()},
          {"gflops_batch_1", architecture.forward_flops(1) / 1e9}};
}

void print_table(const std::vector<design::Architecture>& architectures) {
  fmt::print("{:<22}  {:>6}  {:>10}  {:>9}  {}\n", "id", "layers", "parameters", "GFLOPs/1",
             "hidden and operation per layer");
  for (const design::Architecture& architecture : architectures) {
    std::string layers;
    for (const design::EncoderLayer& layer : architecture.layers) {
      layers += fmt::format("{}{}:{}", layers.empty() ? "" : " ", layer.hidden,
                            design::to_string(layer.operation));
    }
    fmt::print("{:<22}  {:>6}  {:>9.2f}M  {:>9.2f}  {}\n", design::architecture_id(architecture),
               architecture.layers.size(), architecture.parameter_count() / 1e6,
               architecture.forward_flops(1) / 1e9, layers);
  }
}

void run_sample(const SampleOptions& options) {
  const design::DesignSpace space = space_from(options.space);
  if (options.sampler != "lhs" && options.sampler != "uniform") {
    throw InputError(fmt::format("--sampler: '{}' is not lhs or uniform", options.sampler));
  }
  const std::vector<design::Architecture> architectures =
      options.sampler == "lhs" ? design::sample_latin_hypercube(space, options.count, options.seed)
                               : design::sample_uniform(space, options.count, options.seed);
  if (!options.out.empty()) {
    std::error_code error;
    fs::create_directories(options.out, error);
    if (error) {
      throw InputError(fmt::format("cannot create {}: {}", options.out, error.message()));
    }
    for (const design::Architecture& architecture : architectures) {
      const fs::path path =
          fs::path(options.out) / (design::architecture_id(architecture) + ".json");
      std::ofstream file(path);
      file << design::to_json(architecture).dump(2) << "\n";
      if (!file) throw InputError(fmt::format("cannot write {}", path.string()));
    }
  }
  if (options.json) {
    json lines = json::array();
    for (const design::Architecture& architecture : architectures) {
      lines.push_back(summary(architecture));
    }
    fmt::print("{}\n", lines.dump());
    return;
  }
  fmt::print("{} architectures ({} sampler, seed {}) of a space of {:.2g}\n", architectures.size(),
             options.sampler, options.seed, space.size());
  print_table(architectures);
  if (!options.out.empty()) fmt::print("written to {}/<id>.json\n", options.out);
}

void run_check(const CheckOptions& options) {
  const design::Architecture architecture =
      design::parse_architecture(read_json_file(options.architecture, "the architecture"));
  if (!options.space.empty()) design::check_in_space(architecture, space_from(options.space));
  if (options.json) {
    fmt::print("{}\n", summary(architecture).dump());
    return;
  }
  print_table({architecture});
  if (!options.space.empty()) fmt::print("in the design space {}\n", options.space);
}

}  // namespace

void register_design_commands(CLI::App& app) {
  CLI::App* design = app.add_subcommand(
      "design", "EdgeTran's design space of heterogeneous encoders (docs/design_space.md)");
  design->require_subcommand(1);

  auto sample = std::make_shared<SampleOptions>();
  CLI::App* sample_command =
      design->add_subcommand("sample", "Draw distinct architectures from a design space");
  sample_command->footer(
      "Example:\n  tailsweep design sample --count 16 --sampler lhs --seed 1 --out archs/");
  sample_command->add_option("--space", sample->space,
                             "design space JSON (default: FlexiBERT 2.0's, docs/design_space.md)");
  sample_command->add_option("--count", sample->count, "how many")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}));
  sample_command->add_option("--sampler", sample->sampler, "lhs (Latin hypercube) or uniform")
      ->capture_default_str();
  sample_command->add_option("--seed", sample->seed, "the same seed draws the same architectures")
      ->capture_default_str();
  sample_command->add_option("--out", sample->out, "also write each as DIR/<id>.json");
  sample_command->add_flag("--json", sample->json, "print a JSON array instead of a table");
  sample_command->callback([sample] { run_sample(*sample); });

  auto check = std::make_shared<CheckOptions>();
  CLI::App* check_command = design->add_subcommand(
      "check", "Read an architecture strictly: its id, parameters and FLOPs, or what is wrong");
  check_command->footer("Example:\n  tailsweep design check archs/arch-c40280a287f6e00a.json");
  check_command->add_option("architecture", check->architecture, "architecture JSON")->required();
  check_command->add_option("--space", check->space, "also require it to lie in this space");
  check_command->add_flag("--json", check->json, "print one JSON object instead of a table");
  check_command->callback([check] { run_check(*check); });
}

}  // namespace tailsweep::cli
