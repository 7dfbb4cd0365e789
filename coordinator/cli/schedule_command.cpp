// tailsweep schedule pomt: POMT's schedule from a latency and an accuracy
// curve in CSV files, without a coordinator (analysis/pomt_schedule.h).
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis/latency_steps.h"
#include "analysis/pomt_schedule.h"
#include "common/util/errors.h"
#include "common/util/parse.h"
#include "coordinator/cli/commands.h"

namespace tailsweep::cli {
namespace {

struct ScheduleOptions {
  std::string latency_csv;
  std::string accuracy_csv;
  double alpha = 0.5;
  int64_t tokens_total = 197;
  std::string align = "reference";  // or "steps"
};

// A two-column CSV with exactly the header `expected_header`
// ("tokens,latency_ms" or "tokens,top1"); blank lines are skipped.
std::vector<schedule::CurvePoint> read_curve_csv(const std::string& path,
                                                 const std::string& expected_header) {
  std::ifstream file(path);
  if (!file) throw InputError(fmt::format("cannot read {}", path));
  std::string line;
  std::getline(file, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != expected_header) {
    throw InputError(
        fmt::format("{}: the header is '{}', expected '{}'", path, line, expected_header));
  }
  std::vector<schedule::CurvePoint> points;
  for (int number = 2; std::getline(file, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const auto fields = split(line, ',');
    const auto tokens = fields.size() == 2 ? parse_integer(fields[0]) : std::nullopt;
    const auto value = fields.size() == 2 ? parse_double(fields[1]) : std::nullopt;
    if (!tokens || !value) {
      throw InputError(fmt::format("{}:{}: '{}' is not TOKENS,NUMBER", path, number, line));
    }
    points.push_back({*tokens, *value});
  }
  if (points.empty()) throw InputError(fmt::format("{}: no data rows", path));
  return points;
}

void run_pomt(const ScheduleOptions& options) {
  const auto latency = read_curve_csv(options.latency_csv, "tokens,latency_ms");
  const auto accuracy = read_curve_csv(options.accuracy_csv, "tokens,top1");
  const schedule::PomtSchedule result =
      schedule::pomt_schedule(latency, accuracy, options.alpha, options.tokens_total);
  std::vector<schedule::LatencyPoint> curve;
  for (const auto& point : latency)
    curve.push_back({point.tokens, point.value, point.value, point.value});
  nlohmann::json steps = nlohmann::json::array();
  std::vector<std::pair<int64_t, int64_t>> step_bounds;
  // Without confidence intervals in the CSV, only height and slope can tell a step.
  for (const auto& step : schedule::find_latency_steps(curve)) {
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
        schedule::align_to_steps(result, step_bounds, options.tokens_total);
    r = aligned.r;
    tokens_after = aligned.tokens_after_pruning;
    if (aligned.moved()) {
      aligned_to = {{"tokens_below", aligned.step_below}, {"tokens_above", aligned.step_above}};
    }
  }
  const nlohmann::json out = {{"method", "pomt"},
                              {"align", options.align},
                              {"alpha", options.alpha},
                              {"tokens_total", options.tokens_total},
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
                              {"steps", steps}};
  fmt::print("{}\n", out.dump(2));
}

}  // namespace

void register_schedule_command(CLI::App& app) {
  auto options = std::make_shared<ScheduleOptions>();
  CLI::App* schedule = app.add_subcommand("schedule", "Token-pruning schedules from curves");
  schedule->footer(
      "Example:\n  tailsweep schedule pomt --latency L.csv --accuracy A.csv --alpha 0.5");
  schedule->require_subcommand(1);
  CLI::App* pomt = schedule->add_subcommand(
      "pomt",
      "POMT's schedule, exactly as its reference code: U(n) = a(1 - L/max L) + (1-a) A/max A, "
      "n* = argmax U, R = (N-1) - (n*+1); prints JSON with R and n_star (docs/report.md)");
  pomt->footer(
      "Example:\n  tailsweep schedule pomt --latency L.csv --accuracy A.csv --alpha 0.5 --align "
      "steps");
  pomt->add_option("--latency", options->latency_csv, "CSV with header tokens,latency_ms")
      ->required()
      ->check(CLI::ExistingFile);
  pomt->add_option("--accuracy", options->accuracy_csv, "CSV with header tokens,top1")
      ->required()
      ->check(CLI::ExistingFile);
  pomt->add_option("--alpha", options->alpha, "weight of latency against accuracy")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  pomt->add_option("--tokens-total", options->tokens_total,
                   "N, tokens with CLS (197 for DeiT at 224)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{2}, int64_t{100000}));
  pomt->add_option("--align", options->align,
                   "reference: R as POMT's code computes it (n* + 2 tokens remain); steps: the "
                   "same n*, but R lands at or below a step of L(n) that n* + 2 would cross")
      ->capture_default_str()
      ->check(CLI::IsMember({"reference", "steps"}));
  pomt->callback([options] { run_pomt(*options); });
}

}  // namespace tailsweep::cli
