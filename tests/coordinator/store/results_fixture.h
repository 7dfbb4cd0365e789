#pragma once
// Result bodies shaped like the docs' examples, the job specs they answer,
// and a fixture that submits one body for one freshly planned job.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "coordinator/store/result_bodies.h"
#include "store_fixture.h"

namespace tailsweep::store {

inline constexpr double kResultsTtlS = 30;

// Shaped exactly like the example in docs/profile.md (its "..." samples
// replaced by numbers), with a second point.
inline nlohmann::json profile_body() {
  return nlohmann::json::parse(R"json({
  "tool": "tailsweep-agent profile", "version": "0.1.0", "git_sha": "deadbeef", "build_type": "Release",
  "started_at": "2026-11-23T06:39:43Z", "elapsed_s": 14.85,
  "model": {"name": "deit-tiny", "dim": 192, "depth": 12, "heads": 3, "tokens": 197},
  "weights": "random(seed=0)",
  "mode": "model",
  "method": {"precision": 0.01, "confidence": 0.95, "min_samples": 10, "time_cap_s": 10,
             "warmup_s": 2, "order_seed": 0, "points_at_time_cap": 0,
             "protocol": "adaptive: to the precision, random order"},
  "power": {"available": false,
            "reason": "no INA3221 VDD_IN/POM_5V_IN rail under /sys/bus/i2c/drivers (not a Jetson); no /sys/class/powercap/intel-rapl:0 (no RAPL)"},
  "device": {
    "kind": "cpu", "name": "AMD EPYC", "simulated": false,
    "host": {"cpu_model": "AMD EPYC", "logical_cpus": 2, "governor": null, "cpu_cur_khz": null,
             "cpu_max_khz": null, "clocks_pinned": null, "memory_bytes": 25276514304,
             "kernel": "6.18.44-fc-v595", "jetson": false, "device_model": null, "l4t_release": null,
             "nvpmodel_mode": null, "temperatures": [],
             "unavailable": {"governor": "no cpufreq for cpu0 (a VM, or the driver is not loaded)"}},
    "runtime": {"torch_version": "1.13.0", "blas_library": ".../openblas-openmp/libblas.so.3",
                "blas_config": "OpenBLAS 0.3.21 ...", "gemm_backend": "onednn 2.6.3 (packed weights)",
                "intra_op_threads": 2, "blas_threads": 2, "hardware_threads": 2}
  },
  "points": [
    {"batch": 1, "tokens": 197, "visit_index": 26,
     "median_ms": 21.976, "mean_ms": 22.183, "stddev_ms": 0.94, "min_ms": 21.553, "max_ms": 25.425,
     "p5_ms": 21.592, "p25_ms": 21.807, "p75_ms": 22.07, "p95_ms": 23.532, "mad_ms": 0.144, "iqr_ms": 0.263,
     "median_ci95_low_ms": 21.781, "median_ci95_high_ms": 22.074,
     "median_ci95_relative_half_width": 0.0089,
     "samples": 3, "stable": true, "reached_precision": true,
     "power": null,
     "raw_ms": [22.205, 21.781, 21.976]},
    {"batch": 1, "tokens": 100, "visit_index": 3,
     "median_ms": 11.5, "mean_ms": 11.6, "stddev_ms": 0.5, "min_ms": 11.0, "max_ms": 13.0,
     "p5_ms": 11.1, "p25_ms": 11.3, "p75_ms": 11.7, "p95_ms": 12.5, "mad_ms": 0.2, "iqr_ms": 0.4,
     "samples": 4, "stable": true, "reached_precision": false,
     "power": null,
     "raw_ms": [11.0, 11.5, 11.5, 13.0]}
  ]
})json");
}

// profile_body() over tokens from..to at batch 1: L(n) = 10 + 0.01 n ms up
// to `last_below`, then 4 ms higher (one step), each with a tight CI.
inline nlohmann::json staircase_profile_body(int64_t from, int64_t to, int64_t last_below) {
  nlohmann::json body = profile_body();
  const nlohmann::json point = body["points"][0];
  body["points"] = nlohmann::json::array();
  for (int64_t tokens = from; tokens <= to; ++tokens) {
    nlohmann::json row = point;
    const double median = (tokens <= last_below ? 10.0 : 14.0) + 0.01 * static_cast<double>(tokens);
    row["tokens"] = tokens;
    row["visit_index"] = tokens - from;
    row["median_ms"] = row["mean_ms"] = median;
    row["median_ci95_low_ms"] = median - 0.05;
    row["median_ci95_high_ms"] = median + 0.05;
    row["raw_ms"] = {median - 0.01, median, median + 0.01};
    row["min_ms"] = row["p5_ms"] = row["p25_ms"] = median - 0.01;
    row["max_ms"] = row["p75_ms"] = row["p95_ms"] = median + 0.01;
    body["points"].push_back(row);
  }
  return body;
}

inline nlohmann::json eval_body() {
  return nlohmann::json::parse(
      R"({"model": "deit-tiny", "weights_sha256": "ab12", "dataset": "fashion-mnist",
    "split": "test", "method": "pomt:58", "batch": 8, "images": 1000, "top1": 0.81, "top5": 0.99,
    "latency": {"median_ms": 4.25, "p95_ms": 4.5},
    "device": {"kind": "cpu", "name": "AMD EPYC", "simulated": false}})");
}

inline nlohmann::json accuracy_curve_body() {
  using nlohmann::json;
  json body = eval_body();
  body["method"] = "random";
  body["points"] = json::parse(R"([{"tokens": 197, "top1": 0.81, "top5": 0.99, "images": 1000},
                                   {"tokens": 50, "top1": 0.6, "top5": 0.9, "images": 1000}])");
  return body;
}

// The spec of a job that the bodies above answer.
inline nlohmann::json job_spec(const std::string& kind) {
  using nlohmann::json;
  if (kind == "profile") return {{"model", "deit-tiny"}, {"batches", {1}}, {"tokens", "100,197"}};
  if (kind == "latency") {
    return {{"model", "deit-tiny"}, {"batches", {1}}, {"methods", {"none", "pomt:95@3"}}};
  }
  if (kind == "eval") {
    return {{"model", "deit-tiny"}, {"method", "pomt:58"}, {"batch", 8}, {"limit", 1000}};
  }
  return {{"model", "deit-tiny"}, {"tokens", "2:197:3"}, {"batch", 64}, {"limit", 1000}};
}

class ResultsTest : public StoreTest {
 protected:
  // Plans one job of this kind for a fresh agent, leases it and submits body.
  SubmitOutcome submit(const std::string& kind, const nlohmann::json& body,
                       std::optional<nlohmann::json> spec = std::nullopt, bool simulated = false) {
    agent_ = register_agent((simulated ? "sim-" : "cpu-") + std::to_string(++devices_), simulated);
    PlannedJob job;
    job.kind = kind;
    job.device_id = agent_.device_id;
    job.spec_json = spec.value_or(job_spec(kind)).dump();
    store().create_sweep("s", "{}", {job}, 1);
    lease_ = store().lease_job(agent_.agent_id, 10, kResultsTtlS).value();
    return store().submit_result(lease_.job_id, lease_.lease_id, agent_.agent_id, body.dump(), 11);
  }

  RegisteredAgent agent_;
  Lease lease_;
  int devices_ = 0;
};

}  // namespace tailsweep::store
