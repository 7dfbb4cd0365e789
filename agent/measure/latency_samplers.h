#pragma once
// What a profile's points run on (agent/measure/point_measurement.h's
// PointSampler): the engine on this machine's CPU or one of its CUDA GPUs,
// or the kernel-level model of a simulated GPU. A method point's index names
// a timed configuration: one method on one weight variant, so that a paired
// clustering job times the dense and clustered models in the same rounds
// (docs/cluster.md).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "agent/device/device_facts.h"
#include "agent/device/device_spec.h"
#include "agent/engine/engine_sampler.h"
#include "agent/measure/point_measurement.h"
#include "agent/measure/profiling.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"

namespace tailsweep::agent {

class ComputeDevice;

struct TimedConfiguration {
  std::size_t method = 0;   // an index into the request's methods
  std::size_t variant = 0;  // an index into the sampler's variants()
};

class LatencySampler : public PointSampler {
 public:
  // The models held, in variant order; weight_bytes 0 where no model was built.
  virtual const std::vector<WeightVariant>& variants() const = 0;
  // The results' `device` object.
  virtual nlohmann::json device_json(const HostFacts& host) const = 0;
  // What Hybrid Dynamic Pruning does on a method point, per block, from one
  // untimed pass; empty when its method has none.
  virtual std::vector<HdpCounts> hdp_per_block(const ProfilePoint& point) = 0;
};

// Builds the sampler for the request's device. InputError on weights that do
// not fit, a lookup kernel without clustered weights, and the like.
std::unique_ptr<LatencySampler> make_latency_sampler(
    const ProfileRequest& request, const DeviceSpec& device_spec,
    const ComputeDevice* compute_device, const VitConfig& config,
    const std::vector<int64_t>& batches, const std::vector<MethodSpec>& methods,
    const std::vector<TimedConfiguration>& configurations);

}  // namespace tailsweep::agent
