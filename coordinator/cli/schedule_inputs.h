#pragma once
// What `tailsweep schedule pomt` reads its two curves from: the files this
// tool itself writes (the report's latency and accuracy-curve CSVs, the
// agent's profile and accuracy-curve JSON documents), a plain two-column
// CSV, or the results database. Each reader says which model N it knows.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "analysis/latency_steps.h"
#include "analysis/pomt_schedule.h"

namespace tailsweep::cli {

struct LatencyInput {
  std::vector<schedule::LatencyPoint> points;  // with their CIs where the source has them
  std::optional<int64_t> model_tokens;         // N, where the source names the model
  std::string source;                          // for the output: "FILE (profile JSON, batch 1)"
};

struct AccuracyInput {
  std::vector<schedule::CurvePoint> points;  // top-1 as a fraction
  std::string source;
};

// A CSV with the header tokens,latency_ms or the report's
// tokens,median_ms,median_ci95_low_ms,median_ci95_high_ms; or a profile JSON
// (`tailsweep-agent profile --out`), whose curve at `batch` it takes
// (needed only when the document has several batches). InputError naming
// the file, line or field otherwise.
LatencyInput read_latency_file(const std::string& path, std::optional<int64_t> batch);

// A CSV with the header tokens,top1 or the report's tokens,top1,top5,images;
// or an accuracy-curve JSON (`tailsweep-agent eval --tokens ... --out`).
AccuracyInput read_accuracy_file(const std::string& path);

struct DatabaseInputs {
  LatencyInput latency;
  AccuracyInput accuracy;
};
// The newest whole-model profile of the device, model and batch (on its
// paired scale, as the coordinator's own schedule job reads it) and the
// newest accuracy curve of the model, in `sweep_id` when given.
DatabaseInputs read_database_curves(const std::string& database_path, const std::string& device,
                                    const std::string& model, int64_t batch,
                                    std::optional<int64_t> sweep_id);

}  // namespace tailsweep::cli
