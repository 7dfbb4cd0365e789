// tailsweep schedule pomt: POMT's schedule from a latency and an accuracy
// curve, read from the files the tool writes or from the results database
// (schedule_inputs.h), without a coordinator (analysis/pomt_schedule.h).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "analysis/latency_steps.h"
#include "analysis/pomt_schedule.h"
#include "common/util/errors.h"
#include "coordinator/cli/commands.h"
#include "coordinator/cli/schedule_inputs.h"

namespace tailsweep::cli {
namespace {

struct ScheduleOptions {
  std::string latency_path;
  std::string accuracy_path;
  std::string database_path;
  std::string device;
  std::string model;
  std::optional<int64_t> batch;
  std::optional<int64_t> sweep_id;
  double alpha = 0.5;
  std::optional<int64_t> tokens_total;
  std::string align = "reference";  // or "steps"
};

// At most `count` of `tokens`, then how many more.
std::string some_of(const std::vector<int64_t>& tokens, std::size_t count = 8) {
  if (tokens.size() <= count) return fmt::format("{}", fmt::join(tokens, ", "));
  return fmt::format("{}, ... ({} in all)",
                     fmt::join(tokens.begin(), tokens.begin() + static_cast<long>(count), ", "),
                     tokens.size());
}

void run_pomt(const ScheduleOptions& options) {
  const bool from_files = !options.latency_path.empty() || !options.accuracy_path.empty();
  const bool from_database = !options.database_path.empty();
  if (from_files == from_database) {
    throw InputError(
        "give either --latency FILE and --accuracy FILE, or --db FILE with --device, --model and "
        "--batch");
  }
  LatencyInput latency;
  AccuracyInput accuracy;
  if (from_files) {
    if (options.latency_path.empty() || options.accuracy_path.empty()) {
      throw InputError("--latency and --accuracy go together");
    }
    if (!options.device.empty() || !options.model.empty() || options.sweep_id) {
      throw InputError("--device, --model and --sweep choose curves in a database (--db)");
    }
    latency = read_latency_file(options.latency_path, options.batch);
    accuracy = read_accuracy_file(options.accuracy_path);
  } else {
    if (options.device.empty() || options.model.empty() || !options.batch) {
      throw InputError("--db needs --device, --model and --batch");
    }
    DatabaseInputs inputs = read_database_curves(options.database_path, options.device,
                                                 options.model, *options.batch, options.sweep_id);
    latency = std::move(inputs.latency);
    accuracy = std::move(inputs.accuracy);
  }

  std::vector<schedule::CurvePoint> latency_ms;
  for (const auto& point : latency.points) latency_ms.push_back({point.tokens, point.median_ms});
  const schedule::TokensTotal tokens_total = schedule::resolve_tokens_total(
      options.tokens_total, latency.model_tokens, latency_ms, accuracy.points);
  const schedule::GridMismatch mismatch = schedule::grid_mismatch(latency_ms, accuracy.points);
  if (mismatch.any()) {
    // pomt_schedule uses the counts both curves have; say what it left out.
    fmt::print(stderr,
               "warning: the two grids do not line up; the schedule uses only the counts both "
               "have.\n  latency only: {}\n  accuracy only: {}\n",
               mismatch.latency_only.empty() ? "none" : some_of(mismatch.latency_only),
               mismatch.accuracy_only.empty() ? "none" : some_of(mismatch.accuracy_only));
  }
  if (tokens_total.source == "curve") {
    fmt::print(stderr,
               "note: N = {} tokens, the largest count on the curves (give --tokens-total when "
               "the model has more)\n",
               tokens_total.value);
  }
  const schedule::PomtSchedule result =
      schedule::pomt_schedule(latency_ms, accuracy.points, options.alpha, tokens_total.value);
  nlohmann::json steps = nlohmann::json::array();
  std::vector<std::pair<int64_t, int64_t>> step_bounds;
  for (const auto& step : schedule::find_latency_steps(latency.points)) {
    steps.push_back({{"tokens_below", step.tokens_below},
                     {"tokens_above", step.tokens_above},
                     {"height_ms", step.height_ms},
                     {"saved_from_full_ms", step.saved_from_full_ms}});
    step_bounds.emplace_back(step.tokens_below, step.tokens_above);
  }
  // The reference's R, or the step-aligned one (pomt_schedule.h).
  int64_t r = result.r;
  int64_t tokens_after = result.tokens_after_pruning;
  nlohmann::json aligned_to = nullptr;
  if (options.align == "steps") {
    const schedule::AlignedSchedule aligned =
        schedule::align_to_steps(result, step_bounds, tokens_total.value);
    r = aligned.r;
    tokens_after = aligned.tokens_after_pruning;
    if (aligned.moved()) {
      aligned_to = {{"tokens_below", aligned.step_below}, {"tokens_above", aligned.step_above}};
    }
  }
  const nlohmann::json out = {{"method", "pomt"},
                              {"align", options.align},
                              {"alpha", options.alpha},
                              {"tokens_total", tokens_total.value},
                              {"tokens_total_from", tokens_total.source},
                              {"latency_source", latency.source},
                              {"accuracy_source", accuracy.source},
                              {"n_star", result.n_star},
                              {"R", r},
                              {"tokens_after_pruning", tokens_after},
                              {"reference_R", result.r},
                              {"aligned_below_step", aligned_to},
                              {"utility", result.utility},
                              {"latency_at_n_star_ms", result.latency_at_n_star_ms},
                              {"baseline_latency_ms", result.baseline_latency_ms},
                              {"accuracy_at_n_star", result.accuracy_at_n_star},
                              {"grid_points", result.grid.size()},
                              {"latency_only_tokens", mismatch.latency_only},
                              {"accuracy_only_tokens", mismatch.accuracy_only},
                              {"steps", steps}};
  fmt::print("{}\n", out.dump(2));
}

}  // namespace

void register_schedule_command(CLI::App& app) {
  auto options = std::make_shared<ScheduleOptions>();
  CLI::App* schedule = app.add_subcommand("schedule", "Token-pruning schedules from curves");
  schedule->footer(
      "Example:\n  tailsweep schedule pomt --db results.db --device local-cpu --model fmnist-vit "
      "--batch 1");
  schedule->require_subcommand(1);
  CLI::App* pomt = schedule->add_subcommand(
      "pomt",
      "POMT's schedule, exactly as its reference code: U(n) = a(1 - L/max L) + (1-a) A/max A, "
      "n* = argmax U, R = (N-1) - (n*+1); prints JSON with R and n_star (docs/report.md). The "
      "curves come from files (--latency and --accuracy) or from the database (--db with "
      "--device, --model and --batch)");
  pomt->footer(
      "Examples:\n"
      "  tailsweep schedule pomt --latency report/latency-local-cpu-fmnist-vit-b1.csv \\\n"
      "      --accuracy report/accuracy-curve-fmnist-vit-fashion-mnist-random.csv --align steps\n"
      "  tailsweep schedule pomt --latency profile.json --batch 4 --accuracy curve.json\n"
      "  tailsweep schedule pomt --db results.db --device local-cpu --model fmnist-vit --batch 1");
  pomt->add_option("--latency", options->latency_path,
                   "L(n): the report's latency-*.csv, a CSV with header tokens,latency_ms, or a "
                   "profile JSON (tailsweep-agent profile --out)")
      ->check(CLI::ExistingFile);
  pomt->add_option("--accuracy", options->accuracy_path,
                   "A(n): the report's accuracy-curve-*.csv, a CSV with header tokens,top1, or an "
                   "accuracy-curve JSON (tailsweep-agent eval --tokens ... --out)")
      ->check(CLI::ExistingFile);
  pomt->add_option("--db", options->database_path,
                   "read both curves from this results database instead")
      ->check(CLI::ExistingFile);
  pomt->add_option("--device", options->device, "with --db: the device's name");
  pomt->add_option("--model", options->model, "with --db: the model");
  pomt->add_option("--batch", options->batch,
                   "with --db: the batch; with a profile JSON of several batches: which one")
      ->check(CLI::PositiveNumber);
  pomt->add_option("--sweep", options->sweep_id,
                   "with --db: only this sweep's jobs (default: the newest of any)")
      ->check(CLI::PositiveNumber);
  pomt->add_option("--alpha", options->alpha, "weight of latency against accuracy")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  pomt->add_option("--tokens-total", options->tokens_total,
                   "N, tokens with CLS (default: the profile's model, else the largest count on "
                   "the curves); refused when it contradicts them")
      ->check(CLI::Range(int64_t{2}, int64_t{100000}));
  pomt->add_option("--align", options->align,
                   "reference: R as POMT's code computes it (n* + 2 tokens remain); steps: the "
                   "same n*, but R lands at or below a step of L(n) that n* + 2 would cross")
      ->capture_default_str()
      ->check(CLI::IsMember({"reference", "steps"}));
  pomt->callback([options] { run_pomt(*options); });
}

}  // namespace tailsweep::cli
