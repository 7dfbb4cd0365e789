#pragma once
// What every measurement document's run shares (docs/profile.md): the
// options' checks, the protocol, measuring a plan's points in rounds or
// blocks with the power sensor watching, and writing the points, the
// rounds and the settings into the document's structs. A latency curve, a
// method latency job (agent/measure/profiling.cpp) and a design-space
// architecture (agent/measure/architecture_profiling.cpp) each plan their
// points and fill the rest of their document.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/device/power.h"
#include "agent/measure/latency_samplers.h"
#include "agent/measure/point_measurement.h"
#include "agent/measure/profiling.h"
#include "common/wire/result_document.h"

namespace tailsweep::agent {

class ComputeDevice;

using MethodNames = std::vector<std::string>;

enum class Protocol { kRounds, kBlocks, kFixedTime };
Protocol protocol_of(const ProfileRequest& options);

// The measuring options every kind shares: precision, protocol, rounds,
// time cap, warm-up, power period. InputError naming the flag.
void check_measurement_options(const ProfileRequest& options);

// What to measure, in the order of the first visit, and what each point's
// ratio is taken to: on a curve, its batch's largest token count; among
// methods, its batch's "none" on the weights as given when the job lists it.
struct PointPlan {
  MeasurementPlan measurement;
  // When the points are methods: each timed configuration (a method on a
  // weight variant; the variants as given first), with its canonical method
  // text and its K (0: the weights as given).
  std::vector<TimedConfiguration> configurations;
  MethodNames methods;
  std::vector<int64_t> clusters;
  MethodNames labels;  // for progress: "none", "topk:8 k=64"
};

struct Measured {
  MeasurementOutcome outcome;
  std::size_t capped = 0;  // points that hit the time cap short of the precision
};

// Warms up on the sentinel, then measures by the request's protocol; power
// from power_sampler when given.
Measured measure_all(PointSampler& sampler, const ProfileRequest& options, Protocol protocol,
                     const PointPlan& plan, const power::Sampler* power_sampler);

// The power sensor of a real device, read while measuring: the document's
// "power" object (with the idle baseline, read for a second before the
// model is built) and the sampler, null without a sensor or with period 0.
struct PowerWatch {
  protocol::PowerInfoBody info;
  std::unique_ptr<power::Sampler> sampler;
};
PowerWatch watch_power(const ComputeDevice& device, int period_ms);
// A simulated device's "power" object: never simulated.
protocol::PowerInfoBody simulated_power_info();

// The measured points in a stable order: batch, then method, then tokens.
std::vector<const PointResult*> in_stable_order(const MeasurementOutcome& outcome);
protocol::ProfilePoint point_body(const PointResult& result, const MeasurementPlan& plan,
                                  const MethodNames& methods, const std::vector<int64_t>& clusters);
// The document's "method", "rounds", "interrupted" and "points_planned".
protocol::MeasurementBody measurement_body(const ProfileRequest& options, Protocol protocol,
                                           const PointPlan& plan, const Measured& measured,
                                           int threads);
// On stderr: points at the time cap, drift past the precision, a load
// average above the measuring threads.
void warn_about(const protocol::MeasurementBody& measurement, std::size_t points,
                const ProfileRequest& options, int threads);

}  // namespace tailsweep::agent
