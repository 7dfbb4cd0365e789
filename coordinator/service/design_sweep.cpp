#include "coordinator/service/design_sweep.h"

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/protocol.h"

namespace tailsweep::coordinator {

DesignSweepSettings parse_design_sweep(const JsonFields& fields) {
  fields.reject_unknown(
      {"space", "sampler", "count", "seed", "batches", "precision", "time_cap_s", "warmup_s"});
  DesignSweepSettings settings;
  if (fields.has("space")) {
    try {
      settings.space = design::parse_design_space(fields.at("space"));
    } catch (const InputError& error) {
      throw InputError(
          fmt::format("{}: {}: {}", fields.what(), fields.child_path("space"), error.what()));
    }
  }
  if (fields.has("sampler")) settings.sampler = fields.text("sampler");
  if (settings.sampler != "lhs" && settings.sampler != "uniform") {
    fields.fail("sampler", fmt::format("'{}' is neither lhs nor uniform", settings.sampler));
  }
  if (fields.has("count")) settings.count = fields.integer("count", 1);
  if (settings.count > kMaxDesignSample) {
    fields.fail("count", fmt::format("{} is above {}", settings.count, kMaxDesignSample));
  }
  if (fields.has("seed")) settings.seed = static_cast<uint64_t>(fields.integer("seed", 0));
  if (fields.has("batches")) settings.batches = protocol::read_batches(fields);
  protocol::read_stopping_rule(fields, settings.precision, settings.time_cap_s, settings.warmup_s);
  // A space too small for the sample is refused now, not when the sweep is planned.
  if (settings.space.size() < static_cast<double>(settings.count)) {
    fields.fail("count", fmt::format("{} architectures from a space of {:.0f}", settings.count,
                                     settings.space.size()));
  }
  return settings;
}

std::vector<design::Architecture> design_sample(const DesignSweepSettings& settings) {
  const auto count = static_cast<std::size_t>(settings.count);
  return settings.sampler == "lhs"
             ? design::sample_latin_hypercube(settings.space, count, settings.seed)
             : design::sample_uniform(settings.space, count, settings.seed);
}

std::vector<nlohmann::json> architecture_job_specs(const DesignSweepSettings& settings) {
  std::vector<nlohmann::json> specs;
  for (design::Architecture& architecture : design_sample(settings)) {
    protocol::ArchitectureJobSpec spec;
    spec.architecture = std::move(architecture);
    spec.batches = settings.batches;
    spec.precision = settings.precision;
    spec.time_cap_s = settings.time_cap_s;
    spec.warmup_s = settings.warmup_s;
    spec.seed = settings.seed;
    specs.push_back(protocol::to_json(spec));
  }
  return specs;
}

}  // namespace tailsweep::coordinator
