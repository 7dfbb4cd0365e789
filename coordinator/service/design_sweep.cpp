#include "coordinator/service/design_sweep.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/protocol.h"

namespace tailsweep::coordinator {
namespace {

ActiveLearningSettings parse_active_learning(const JsonFields& f) {
  f.reject_unknown(
      {"batch", "budget", "pool", "targets", "max_nmse", "patience", "selection", "members"});
  ActiveLearningSettings al;
  if (f.has("batch")) al.batch = f.integer("batch", 1);
  if (f.has("budget")) al.budget = f.integer("budget", 1);
  if (al.budget > kMaxDesignSample) {
    f.fail("budget", fmt::format("{} is above {}", al.budget, kMaxDesignSample));
  }
  if (f.has("pool")) al.pool = f.integer("pool", 1);
  if (al.pool < al.batch || al.pool > 100'000) {
    f.fail("pool", fmt::format("{} is outside batch ({})..100000", al.pool, al.batch));
  }
  if (f.has("targets")) {
    al.targets = f.string_list("targets");
    if (al.targets.empty())
      f.fail("targets", "expected at least one of latency, energy, peak_power");
    for (std::size_t i = 0; i < al.targets.size(); ++i) {
      const std::string& target = al.targets[i];
      if (target != "latency" && target != "energy" && target != "peak_power") {
        f.fail(fmt::format("targets[{}]", i),
               fmt::format("'{}' is not latency, energy or peak_power", target));
      }
      if (std::find(al.targets.begin(), al.targets.begin() + static_cast<std::ptrdiff_t>(i),
                    target) != al.targets.begin() + static_cast<std::ptrdiff_t>(i)) {
        f.fail(fmt::format("targets[{}]", i), fmt::format("'{}' is listed twice", target));
      }
    }
  }
  if (f.has("max_nmse")) al.max_nmse = f.number("max_nmse");
  if (!(al.max_nmse > 0 && al.max_nmse < 1)) {
    f.fail("max_nmse", fmt::format("{} is outside (0, 1)", al.max_nmse));
  }
  if (f.has("patience")) al.patience = f.integer("patience", 1);
  if (al.patience > 100) f.fail("patience", fmt::format("{} is above 100", al.patience));
  if (f.has("selection")) al.selection = f.text("selection");
  if (al.selection != "uncertainty" && al.selection != "random") {
    f.fail("selection", fmt::format("'{}' is neither uncertainty nor random", al.selection));
  }
  if (f.has("members")) al.members = f.integer("members", 2);
  if (al.members > 64) f.fail("members", fmt::format("{} is above 64", al.members));
  return al;
}

}  // namespace

DesignSweepSettings parse_design_sweep(const JsonFields& fields) {
  fields.reject_unknown({"space", "sampler", "count", "seed", "batches", "precision", "time_cap_s",
                         "warmup_s", "active_learning"});
  DesignSweepSettings settings;
  settings.source = fields.raw();
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
  if (fields.has("active_learning")) {
    settings.active_learning = parse_active_learning(fields.object("active_learning"));
    if (settings.active_learning->budget < settings.count) {
      fields.fail("active_learning.budget",
                  fmt::format("{} is below the first sample's {} (count)",
                              settings.active_learning->budget, settings.count));
    }
    if (settings.count < kMinSamplesToFit) {
      fields.fail("count", fmt::format("{}: the first sample needs {} or more architectures to "
                                       "fit a surrogate with a held-out error",
                                       settings.count, kMinSamplesToFit));
    }
  }
  return settings;
}

std::vector<design::Architecture> design_sample(const DesignSweepSettings& settings) {
  const auto count = static_cast<std::size_t>(settings.count);
  return settings.sampler == "lhs"
             ? design::sample_latin_hypercube(settings.space, count, settings.seed)
             : design::sample_uniform(settings.space, count, settings.seed);
}

nlohmann::json architecture_job_spec(const DesignSweepSettings& settings,
                                     design::Architecture architecture) {
  protocol::ArchitectureJobSpec spec;
  spec.architecture = std::move(architecture);
  spec.batches = settings.batches;
  spec.precision = settings.precision;
  spec.time_cap_s = settings.time_cap_s;
  spec.warmup_s = settings.warmup_s;
  spec.seed = settings.seed;
  return protocol::to_json(spec);
}

std::vector<nlohmann::json> architecture_job_specs(const DesignSweepSettings& settings) {
  std::vector<nlohmann::json> specs;
  for (design::Architecture& architecture : design_sample(settings)) {
    specs.push_back(architecture_job_spec(settings, std::move(architecture)));
  }
  return specs;
}

DesignStepSpec parse_design_step_spec(const nlohmann::json& spec) {
  const JsonFields f(spec, "design_step job");
  f.reject_unknown({"step", "design_space"});
  DesignStepSpec result;
  result.step = f.integer("step", 1);
  result.settings = parse_design_sweep(f.object("design_space"));
  if (!result.settings.active_learning) {
    f.fail("design_space.active_learning", "missing: a design step is a step of that loop");
  }
  return result;
}

nlohmann::json to_json(const DesignStepSpec& spec) {
  return {{"step", spec.step}, {"design_space", spec.settings.source}};
}

}  // namespace tailsweep::coordinator
