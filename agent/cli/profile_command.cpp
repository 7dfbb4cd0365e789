// tailsweep-agent profile: latency against the token count, to a stated
// precision (agent/profiling.h; docs/profile.md).
#include <signal.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agent/cli/commands.h"
#include "agent/device/device_spec.h"
#include "agent/measure/architecture_profiling.h"
#include "agent/measure/profiling.h"
#include "analysis/profile_plan.h"
#include "common/design/architecture.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/cli_main.h"
#include "common/util/errors.h"
#include "common/wire/result_document.h"
#include "common/wire/strict_json.h"

namespace tailsweep::agent {
namespace {

struct ProfileCommandOptions {
  ProfileRequest request;
  std::string batches = "1";  // the flags' text, parsed into the request once
  std::string tokens;
  std::string out;
  std::vector<std::string> hdp_share_files;  // eval results whose HDP shares a sim device models
  std::string architecture_file;             // --arch: a design-space architecture instead
};

// The HDP shares of an eval result file (`tailsweep-agent eval --out`).
protocol::HdpMeasuredShares read_hdp_shares_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw InputError(fmt::format("--hdp-shares {}: cannot read the file", path));
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  try {
    return protocol::hdp_shares_of(protocol::parse_eval_body(parse_strict_json(text, "the file")),
                                   std::nullopt);
  } catch (const InputError& error) {
    throw InputError(fmt::format("--hdp-shares {}: {}", path, error.what()));
  }
}

// Set by SIGINT or SIGTERM: the curve so far is written, not lost. A second
// signal ends the process at once (SA_RESETHAND).
std::atomic<bool> interrupt_requested{false};

void request_interrupt(int) { interrupt_requested.store(true); }

void stop_measuring_on_signals() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = request_interrupt;
  action.sa_flags = SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

design::Architecture read_architecture_file(const ProfileCommandOptions& options) {
  const nlohmann::json document = read_json_file(options.architecture_file, "--arch");
  try {
    return design::parse_architecture(document);
  } catch (const InputError& error) {
    throw InputError(fmt::format("--arch {}: {}", options.architecture_file, error.what()));
  }
}

void run_profile_command(ProfileCommandOptions options) {
  std::ofstream out_file;
  if (!options.out.empty()) {
    // Fail now, not after an hour of measuring.
    out_file.open(options.out, std::ios::trunc);
    if (!out_file) throw InputError(fmt::format("cannot write --out {}", options.out));
  }
  options.request.batches = parse_batch_list(options.batches);
  // Comma-separated, space-separated or both, like every list option.
  std::vector<std::string> methods;
  for (const std::string& item : options.request.methods) {
    for (std::string& method : split_method_list(item)) methods.push_back(std::move(method));
  }
  options.request.methods = std::move(methods);
  for (const std::string& path : options.hdp_share_files) {
    options.request.hdp_shares.push_back(read_hdp_shares_file(path));
  }
  if (!options.tokens.empty()) {
    options.request.tokens = parse_token_grid(
        options.tokens, parse_model_spec(options.request.run.model).total_tokens());
  }
  stop_measuring_on_signals();
  options.request.interrupt = &interrupt_requested;
  const nlohmann::json report =
      options.architecture_file.empty()
          ? run_profiling(options.request)
          : run_architecture_profiling(options.request, read_architecture_file(options));
  if (options.out.empty()) {
    fmt::print("{}\n", report.dump());
  } else {
    out_file << report.dump() << "\n";
    if (!out_file.flush()) throw InputError(fmt::format("cannot write --out {}", options.out));
    // Said on stderr whether or not it is a terminal: a log shows where the result went.
    fmt::print(stderr, "tailsweep-agent: wrote {} point(s) of {} to {}\n",
               report.at("points").size(),
               report.contains("model") ? report.at("model").at("name").get<std::string>()
                                        : report.at("architecture_id").get<std::string>(),
               options.out);
  }
  if (report.at("interrupted").get<bool>()) {
    throw std::runtime_error(
        fmt::format("interrupted after {} of {} points; those are in {} (\"interrupted\": true)",
                    report.at("points").size(), report.at("points_planned").get<std::size_t>(),
                    options.out.empty() ? std::string("the output") : options.out));
  }
}

}  // namespace

void register_profile_command(CLI::App& app) {
  auto options = std::make_shared<ProfileCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "profile",
      "Measure latency against the token count (tokens dropped at random after the position "
      "embedding), each point to a stated precision; JSON out (docs/profile.md)");
  command->footer(
      "Example:\n  tailsweep-agent profile --model fmnist-vit --tokens 2:197:5 --batch 1,4 --out "
      "curve.json\n  tailsweep-agent profile --arch arch.json --batch 1,8 --out arch-result.json "
      "(one design-space architecture, as `tailsweep design sample --out` writes them)");
  add_model_run_options(command, options->request.run,
                        "seed for the visiting order, the inputs and random weights");
  add_weight_kernel_option(command, options->request.run);
  add_clusters_option(command, options->request.run);
  command->add_option("--device", options->request.device, device_spec_help())
      ->capture_default_str();
  command->add_option("--batch", options->batches, "batch sizes, e.g. 1,4")
      ->capture_default_str();
  CLI::Option* tokens =
      command->add_option("--tokens", options->tokens,
                          "FROM:TO[:STEP] or a list N1,N2,... (counts include CLS, 2..model's)");
  CLI::Option* methods =
      command->add_option("--methods", options->request.methods,
                          "instead of a curve: time these method specs on the full input, "
                          "comma-separated, e.g. --methods none,topk:8,tome:8,pomt:58@3 (points "
                          "carry \"method\")");
  tokens->excludes(methods);
  CLI::Option* architecture =
      command
          ->add_option("--arch", options->architecture_file,
                       "instead of a curve: time this design-space architecture (JSON, "
                       "docs/design_space.md) with random weights from --seed, each batch on "
                       "its full sequence; energy and peak power where there is a sensor")
          ->excludes(tokens)
          ->excludes(methods);
  // --model is what a curve or methods time; --arch brings its own model.
  CLI::Option* model = command->get_option("--model")->required(false);
  architecture->excludes(model);
  for (const char* name : {"--weights", "--clusters", "--weight-kernel"}) {
    architecture->excludes(command->get_option(name));
  }
  command
      ->add_option("--paired-clusters", options->request.paired_clusters,
                   "with --methods: time each method also on the weights clustered at load to "
                   "each K (2..256), in the same rounds, paired with the dense none "
                   "(points carry \"clusters\"; docs/cluster.md), e.g. --paired-clusters 16 64")
      ->delimiter(',')
      ->needs(methods);
  command
      ->add_option("--hdp-shares", options->hdp_share_files,
                   "with --methods on a sim: device: model each HDP method from the shares of "
                   "heads and blocks that an eval on a real device pruned (its --out file, one "
                   "per method; docs/hdp.md)")
      ->needs(methods);
  command->callback([options, tokens, methods, architecture, model] {
    if (tokens->count() == 0 && methods->count() == 0 && architecture->count() == 0) {
      throw CLI::RequiredError("--tokens, --methods or --arch");
    }
    if (architecture->count() == 0 && model->count() == 0) throw CLI::RequiredError("--model");
    run_profile_command(*options);
  });
  command
      ->add_option("--precision", options->request.precision,
                   "stop a point when the median's 95% CI is within this fraction of it")
      ->capture_default_str();
  command
      ->add_option("--mode", options->request.mode,
                   "model: the whole forward pass; block: one transformer block")
      ->capture_default_str();
  command->add_option("--out", options->out, "write the JSON here (default: stdout)");
  command
      ->add_option("--warmup", options->request.warmup_s, "warm-up seconds before the first point")
      ->capture_default_str();
  command
      ->add_option("--time-cap", options->request.time_cap_s,
                   "seconds of sampled time per point at most, all rounds together")
      ->capture_default_str();
  command
      ->add_option("--protocol", options->request.protocol,
                   "rounds: every point visited in each round, a slice at a time, the CI over "
                   "the round medians; blocks: each point to the precision in one go")
      ->capture_default_str()
      ->check(CLI::IsMember({"rounds", "blocks"}));
  command
      ->add_option("--slice", options->request.slice_s,
                   "rounds: seconds of samples per point per round, at least")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--min-slice-samples", options->request.min_slice_samples,
                   "rounds: samples per point per round, at least")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  command
      ->add_option("--min-rounds", options->request.min_rounds,
                   "rounds: rounds before a point may stop (6 is the fewest with a 95% CI)")
      ->capture_default_str()
      ->check(CLI::Range(6, 1000000));
  command
      ->add_option("--min-samples", options->request.min_samples,
                   "blocks: samples per point at least")
      ->capture_default_str()
      ->check(CLI::Range(6, 1000000));
  command
      ->add_option("--fixed-time", options->request.fixed_time_s,
                   "instead: sample every point for this many seconds, most tokens first "
                   "(POMT's protocol, for comparison; 0 = off)")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
  command
      ->add_option("--power-period", options->request.power_period_ms,
                   "read the power sensor every this many ms while measuring (0 = no power, "
                   "e.g. to check that reading it does not disturb what is timed)")
      ->capture_default_str()
      ->check(tailsweep::cli::kNonNegative);
}

}  // namespace tailsweep::agent
