// tailsweep design sample | check | evaluate: EdgeTran's design space from
// the command line (docs/design_space.md): draw architectures, check one, or
// test a sweep's surrogates, step by step, on an independent sample.
#include <filesystem>
#include <fstream>
#include <optional>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "common/design/design_space.h"
#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "common/wire/strict_json.h"
#include "coordinator/cli/commands.h"
#include "coordinator/store/design_steps.h"
#include "coordinator/store/sqlite.h"
#include "coordinator/store/store.h"
#include "coordinator/surrogate/active_learning.h"
#include "coordinator/surrogate/architecture_features.h"

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

struct EvaluateOptions {
  std::string database;
  int64_t sweep = 0;
  int64_t test_sweep = 0;
  std::string target = "latency";
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

std::optional<double> target_value(const store::MeasuredArchitecture& m,
                                   const std::string& target) {
  if (target == "latency") return m.ms_per_input;
  if (target == "energy") return m.joules_per_input;
  return m.peak_w;
}

// The rows of one device's measurements that have the target, as features.
struct Samples {
  surrogate::FeatureRows rows;
  std::vector<double> values;
};
Samples samples_of(const std::vector<store::MeasuredArchitecture>& measured,
                   const std::string& target, std::size_t slots) {
  Samples samples;
  for (const store::MeasuredArchitecture& m : measured) {
    if (const std::optional<double> value = target_value(m, target)) {
      samples.rows.push_back(surrogate::architecture_features(m.architecture, slots));
      samples.values.push_back(*value);
    }
  }
  return samples;
}

// Each step's training set is the first `samples` architectures the device
// measured (the loop measures in order and never twice): refitted here and
// tested on what the same device measured in the test sweep.
void run_evaluate(const EvaluateOptions& options) {
  if (options.target != "latency" && options.target != "energy" && options.target != "peak_power") {
    throw InputError(
        fmt::format("--target '{}': expected latency, energy or peak_power", options.target));
  }
  store::Database db(options.database, store::OpenOptions{.read_only = true});
  store::require_tailsweep_database(db);
  store::Statement loops = db.prepare(
      "SELECT DISTINCT f.device_id, d.name, f.batch, f.selection FROM surrogate_fits f "
      "JOIN devices d ON d.id = f.device_id WHERE f.sweep_id = ? AND f.target = ? "
      "AND f.nmse IS NOT NULL ORDER BY d.name");
  loops.bind(1, options.sweep).bind(2, options.target);
  json out = json::array();
  while (loops.step()) {
    const int64_t device_id = loops.column_int64(0);
    const std::string device = loops.column_text(1);
    const int64_t batch = loops.column_int64(2);
    const std::string selection = loops.column_text(3);
    const auto train_all = store::measured_architectures(db, options.sweep, device_id, batch);
    const auto test_all = store::measured_architectures(db, options.test_sweep, device_id, batch);
    std::size_t slots = 1;
    for (const auto* set : {&train_all, &test_all}) {
      for (const store::MeasuredArchitecture& m : *set) {
        slots = std::max(slots, m.architecture.layers.size());
      }
    }
    const Samples train = samples_of(train_all, options.target, slots);
    const Samples test = samples_of(test_all, options.target, slots);
    if (test.values.empty()) {
      throw InputError(fmt::format("sweep {} has no {} measured on {} at batch {}",
                                   options.test_sweep, options.target, device, batch));
    }
    store::Statement steps = db.prepare(
        "SELECT step, samples FROM surrogate_fits WHERE sweep_id = ? AND device_id = ? AND "
        "target = ? AND nmse IS NOT NULL ORDER BY step");
    steps.bind(1, options.sweep).bind(2, device_id).bind(3, options.target);
    while (steps.step()) {
      const auto n = static_cast<std::size_t>(steps.column_int64(1));
      if (n > train.values.size()) continue;  // the step's measurements are gone
      const surrogate::FeatureRows rows(train.rows.begin(), train.rows.begin() + n);
      const std::vector<double> values(train.values.begin(), train.values.begin() + n);
      const surrogate::TestError error =
          surrogate::test_error(rows, values, test.rows, test.values, {});
      out.push_back({{"device", device},
                     {"selection", selection},
                     {"step", steps.column_int64(0)},
                     {"samples", n},
                     {"test_architectures", test.values.size()},
                     {"test_nmse", error.nmse},
                     {"median_relative_error", error.median_relative_error}});
    }
  }
  if (out.empty()) {
    throw InputError(
        fmt::format("sweep {} has no fitted {} surrogate (a design_space sweep with "
                    "active_learning)",
                    options.sweep, options.target));
  }
  if (options.json) {
    fmt::print("{}\n", out.dump());
    return;
  }
  fmt::print("{:<24}  {:<11}  {:>4}  {:>7}  {:>5}  {:>10}  {:>14}\n", "device", "selection", "step",
             "samples", "test", "test nMSE", "median rel err");
  for (const json& row : out) {
    fmt::print("{:<24}  {:<11}  {:>4}  {:>7}  {:>5}  {:>10.5f}  {:>13.1f}%\n",
               row["device"].get<std::string>(), row["selection"].get<std::string>(),
               row["step"].get<int64_t>(), row["samples"].get<std::size_t>(),
               row["test_architectures"].get<std::size_t>(), row["test_nmse"].get<double>(),
               100 * row["median_relative_error"].get<double>());
  }
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

  auto evaluate = std::make_shared<EvaluateOptions>();
  CLI::App* evaluate_command = design->add_subcommand(
      "evaluate",
      "Test each step's surrogate of an active-learning sweep on the architectures another sweep "
      "measured on the same devices (an independent sample)");
  evaluate_command->footer(
      "Example:\n  tailsweep design evaluate --db fleet.db --sweep 2 --test-sweep 1 "
      "--target latency");
  evaluate_command->add_option("--db", evaluate->database, "the SQLite database file")->required();
  evaluate_command
      ->add_option("--sweep", evaluate->sweep,
                   "a design_space sweep with "
                   "active_learning")
      ->required();
  evaluate_command
      ->add_option("--test-sweep", evaluate->test_sweep,
                   "a design_space sweep whose architectures are the test set (e.g. a uniform "
                   "sample without active_learning)")
      ->required();
  evaluate_command->add_option("--target", evaluate->target, "latency, energy or peak_power")
      ->capture_default_str();
  evaluate_command->add_flag("--json", evaluate->json, "print a JSON array instead of a table");
  evaluate_command->callback([evaluate] { run_evaluate(*evaluate); });
}

}  // namespace tailsweep::cli
