#include "coordinator/service/design_step.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/design/design_space.h"
#include "common/util/errors.h"
#include "coordinator/service/design_sweep.h"
#include "coordinator/store/design_steps.h"
#include "coordinator/surrogate/active_learning.h"
#include "coordinator/surrogate/architecture_features.h"
#include "coordinator/surrogate/tree_ensemble.h"

namespace tailsweep::coordinator {
namespace {

using store::MeasuredArchitecture;

// The measured values of a target, or nullopt where the device gave none.
std::optional<double> target_value(const MeasuredArchitecture& m, const std::string& target) {
  if (target == "latency") return m.ms_per_input;
  if (target == "energy") return m.joules_per_input;
  return m.peak_w;
}

// What one target's surrogate needs: the rows that have it and its values.
struct TargetData {
  std::string target;
  surrogate::FeatureRows rows;
  std::vector<double> values;
  std::vector<std::string> ids;
  std::optional<std::string> missing_reason;  // of the rows without a value
};

std::size_t layer_slots(const design::DesignSpace& space) {
  return static_cast<std::size_t>(*std::max_element(space.layers.begin(), space.layers.end()));
}

std::vector<TargetData> target_data(const std::vector<MeasuredArchitecture>& measured,
                                    const ActiveLearningSettings& al, std::size_t slots) {
  std::vector<TargetData> out;
  for (const std::string& target : al.targets) {
    TargetData data{target, {}, {}, {}, std::nullopt};
    for (const MeasuredArchitecture& m : measured) {
      if (const std::optional<double> value = target_value(m, target)) {
        data.rows.push_back(surrogate::architecture_features(m.architecture, slots));
        data.values.push_back(*value);
        data.ids.push_back(m.id);
      } else if (!data.missing_reason) {
        data.missing_reason = m.power_null_reason.value_or("not measured");
      }
    }
    out.push_back(std::move(data));
  }
  return out;
}

surrogate::EnsembleSettings ensemble_settings(const DesignSweepSettings& settings, int64_t step) {
  surrogate::EnsembleSettings ensemble;
  ensemble.members = static_cast<std::size_t>(settings.active_learning->members);
  ensemble.seed = settings.seed * 7919 + static_cast<uint64_t>(step);
  return ensemble;
}

// Random candidates not yet measured: a fresh seeded draw each step and device.
std::vector<design::Architecture> candidate_pool(const DesignSweepSettings& settings,
                                                 const std::set<std::string>& measured,
                                                 int64_t device_id, int64_t step) {
  const double size = settings.space.size();
  const auto pool = static_cast<std::size_t>(
      std::min<double>(static_cast<double>(settings.active_learning->pool), size));
  const uint64_t seed = settings.seed ^ (static_cast<uint64_t>(device_id) << 32) ^
                        (static_cast<uint64_t>(step) * 0x9E3779B97F4A7C15ull);
  std::vector<design::Architecture> candidates;
  for (design::Architecture& a : design::sample_uniform(settings.space, pool, seed)) {
    if (!measured.contains(design::architecture_id(a))) candidates.push_back(std::move(a));
  }
  return candidates;
}

}  // namespace

DesignStepOutcome plan_design_step(store::Store& store, const store::JobRow& job) {
  if (!job.sweep_id || !job.device_id) {
    throw InputError(fmt::format("design_step job {} has no sweep or device", job.id));
  }
  const DesignStepSpec spec = parse_design_step_spec(nlohmann::json::parse(job.spec_json));
  const DesignSweepSettings& settings = spec.settings;
  const ActiveLearningSettings& al = *settings.active_learning;
  store::Database& db = store.database();
  const int64_t batch = settings.batches.front();
  const std::vector<MeasuredArchitecture> measured =
      store::measured_architectures(db, *job.sweep_id, *job.device_id, batch);
  std::set<std::string> measured_ids;
  for (const MeasuredArchitecture& m : measured) measured_ids.insert(m.id);
  const std::size_t slots = layer_slots(settings.space);

  store::DesignStepBody body;
  body.device_id = *job.device_id;
  body.step = spec.step;
  body.batch = batch;
  body.selection = al.selection;
  body.measured = static_cast<int64_t>(measured_ids.size());
  // Every target's held-out error; the loop has converged when each fitted
  // target's last `patience` errors stayed under the limit.
  std::vector<TargetData> data = target_data(measured, al, slots);
  bool all_converged = true;
  std::size_t fitted = 0;
  for (std::size_t t = 0; t < data.size(); ++t) {
    store::SurrogateFit fit;
    fit.target = data[t].target;
    fit.samples = static_cast<int64_t>(data[t].values.size());
    if (data[t].values.size() < static_cast<std::size_t>(kMinSamplesToFit)) {
      fit.null_reason =
          data[t].missing_reason
              ? fmt::format("no {}: {}", fit.target, *data[t].missing_reason)
              : fmt::format("{} samples; a held-out error needs {}", fit.samples, kMinSamplesToFit);
    } else {
      const surrogate::HeldOutFit held = surrogate::held_out_fit(
          data[t].rows, data[t].values, ensemble_settings(settings, spec.step),
          settings.seed + static_cast<uint64_t>(spec.step) * 31 + t);
      fit.train = static_cast<int64_t>(held.train);
      fit.test = static_cast<int64_t>(held.test);
      fit.nmse = held.nmse;
      fit.scale = held.scale;
      std::vector<double> history =
          store::nmse_by_step(db, *job.sweep_id, *job.device_id, fit.target);
      history.push_back(held.nmse);
      fit.converged =
          surrogate::converged(history, al.max_nmse, static_cast<std::size_t>(al.patience));
      all_converged = all_converged && fit.converged;
      ++fitted;
    }
    body.fits.push_back(std::move(fit));
  }
  const bool converged = fitted > 0 && all_converged;
  body.phase = converged ? "minima" : "explore";
  const int64_t remaining = al.budget - body.measured;
  std::vector<design::Architecture> picks;
  if (remaining <= 0) {
    body.stop = "budget";
  } else {
    std::vector<design::Architecture> pool =
        candidate_pool(settings, measured_ids, *job.device_id, spec.step);
    const auto room = static_cast<std::size_t>(std::min<int64_t>(al.batch, remaining));
    if (pool.empty()) {
      body.stop = "space";
    } else if (!converged && (al.selection == "random" || fitted == 0)) {
      pool.resize(std::min(room, pool.size()));
      picks = std::move(pool);
    } else {
      surrogate::FeatureRows pool_rows;
      for (const design::Architecture& a : pool) {
        pool_rows.push_back(surrogate::architecture_features(a, slots));
      }
      std::vector<double> score(pool.size(), 0.0);
      std::set<std::size_t> minima;
      for (const TargetData& target : data) {
        if (target.values.size() < static_cast<std::size_t>(kMinSamplesToFit)) continue;
        const surrogate::TreeEnsemble ensemble(target.rows, target.values,
                                               ensemble_settings(settings, spec.step));
        const surrogate::Prediction p = ensemble.predict(pool_rows);
        const double scale = surrogate::twice_max(target.values);
        for (std::size_t i = 0; i < pool.size(); ++i) score[i] += p.stddev[i] / scale;
        // ProTran's last phase: measure the predicted minimum while it is
        // predicted to beat the best measured.
        const auto best = std::min_element(p.mean.begin(), p.mean.end()) - p.mean.begin();
        const double measured_best = *std::min_element(target.values.begin(), target.values.end());
        if (p.mean[static_cast<std::size_t>(best)] < measured_best) {
          minima.insert(static_cast<std::size_t>(best));
        }
      }
      std::vector<std::size_t> chosen;
      if (converged) {
        chosen.assign(minima.begin(), minima.end());
        if (chosen.size() > room) chosen.resize(room);
        if (chosen.empty()) body.stop = "converged";
      } else {
        chosen = surrogate::largest(score, room);
      }
      for (const std::size_t i : chosen) picks.push_back(pool[i]);
    }
  }
  std::vector<store::PlannedJob> jobs;
  for (design::Architecture& a : picks) {
    body.queued.push_back(design::architecture_id(a));
    store::PlannedJob planned;
    planned.kind = "architecture";
    planned.device_id = *job.device_id;
    planned.spec_json = architecture_job_spec(settings, std::move(a)).dump();
    planned.priority = kArchitecturePriority;
    planned.max_attempts = job.max_attempts;
    jobs.push_back(std::move(planned));
  }
  if (!jobs.empty()) {
    store::PlannedJob next;
    next.kind = "design_step";
    next.runner = std::string(store::kRunnerCoordinator);
    next.device_id = *job.device_id;
    next.spec_json = to_json(DesignStepSpec{spec.step + 1, settings}).dump();
    next.priority = kDesignStepPriority;
    next.max_attempts = job.max_attempts;
    for (std::size_t i = 0; i < jobs.size(); ++i) next.depends_on.push_back(i);
    jobs.push_back(std::move(next));
  }
  return {std::move(body), std::move(jobs)};
}

void apply_design_step(store::Store& store, const store::JobRow& job,
                       const DesignStepOutcome& outcome, double now_s) {
  store::Transaction transaction(store.database());
  store.complete_coordinator_job(job.id, store::to_json(outcome.body).dump(), now_s);
  if (!outcome.jobs.empty()) store.add_jobs(*job.sweep_id, outcome.jobs, now_s);
  transaction.commit();
}

void run_design_step(store::Store& store, const store::JobRow& job, double now_s) {
  apply_design_step(store, job, plan_design_step(store, job), now_s);
}

}  // namespace tailsweep::coordinator
