#include "coordinator/service/sweep_plan.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "analysis/matched_latency.h"
#include "analysis/profile_plan.h"
#include "common/model/method_spec.h"
#include "common/model/model_config.h"
#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/protocol.h"

namespace tailsweep::coordinator {
namespace {

using nlohmann::json;

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

void parse_paired_latency(const JsonFields& l, PairedLatencySettings& latency) {
  if (l.has("batches")) latency.batches = protocol::read_batches(l);
  protocol::read_stopping_rule(l, latency.precision, latency.time_cap_s, latency.warmup_s);
}

CurveSettings parse_curves(const JsonFields& f, const VitConfig& config) {
  f.reject_unknown({"batches", "tokens", "precision", "time_cap_s", "warmup_s"});
  CurveSettings curves;
  if (f.has("batches")) curves.batches = protocol::read_batches(f);
  if (f.has("tokens")) curves.tokens = f.text("tokens");
  parse_token_grid(curves.tokens, config.total_tokens());
  protocol::read_stopping_rule(f, curves.precision, curves.time_cap_s, curves.warmup_s);
  return curves;
}

AccuracySettings parse_accuracy(const JsonFields& f, const VitConfig& config) {
  f.reject_unknown({"dataset", "split", "tokens", "limit", "batch"});
  AccuracySettings accuracy;
  if (f.has("dataset")) accuracy.dataset = f.text("dataset");
  if (f.has("split")) accuracy.split = f.text("split");
  if (f.has("tokens")) accuracy.tokens = f.text("tokens");
  parse_token_grid(accuracy.tokens, config.total_tokens());
  if (f.has("limit")) accuracy.limit = f.integer("limit", 0);
  if (f.has("batch")) accuracy.batch = f.integer("batch", 1);
  return accuracy;
}

EvaluationSettings parse_evaluations(const JsonFields& f, const VitConfig& config) {
  f.reject_unknown(
      {"dataset", "split", "limit", "batch", "methods", "pomt", "matched", "match_tolerance"});
  EvaluationSettings evaluations;
  if (f.has("dataset")) evaluations.dataset = f.text("dataset");
  if (f.has("split")) evaluations.split = f.text("split");
  if (f.has("limit")) evaluations.limit = f.integer("limit", 0);
  if (f.has("batch")) evaluations.batch = f.integer("batch", 1);
  if (f.has("methods")) evaluations.methods = f.string_list("methods");
  for (std::string& method : evaluations.methods) {
    const MethodSpec parsed = parse_method_spec(method);
    validate_for_model(parsed, config);
    method = to_string(parsed);  // canonical text, so duplicates are found
  }
  if (f.has("pomt")) evaluations.pomt = f.boolean("pomt");
  if (f.has("matched")) evaluations.matched = f.boolean("matched");
  if (f.has("match_tolerance")) {
    evaluations.match_tolerance = f.number("match_tolerance");
    if (!(evaluations.match_tolerance > 0 && evaluations.match_tolerance < 1)) {
      f.fail("match_tolerance", "outside (0, 1)");
    }
  }
  return evaluations;
}

ClusteringSettings parse_clustering(const JsonFields& f) {
  f.reject_unknown({"clusters", "latency"});
  ClusteringSettings clustering;
  const json& clusters = f.array("clusters", true);
  for (std::size_t i = 0; i < clusters.size(); ++i) {
    if (!clusters[i].is_number_integer() || clusters[i].get<int64_t>() < 2 ||
        clusters[i].get<int64_t>() > 256) {
      f.fail(fmt::format("clusters[{}]", i), "expected a number of shared values in 2..256");
    }
    const int64_t k = clusters[i].get<int64_t>();
    if (std::find(clustering.clusters.begin(), clustering.clusters.end(), k) !=
        clustering.clusters.end()) {
      f.fail(fmt::format("clusters[{}]", i), fmt::format("{} is listed twice", k));
    }
    clustering.clusters.push_back(k);
  }
  if (!f.has("latency")) return clustering;
  if (f.at("latency").is_boolean() && !f.boolean("latency")) {
    clustering.latency.reset();
    return clustering;
  }
  const JsonFields l = f.object("latency");
  l.reject_unknown({"batches", "precision", "time_cap_s", "warmup_s", "weight_kernel"});
  ClusteringLatencySettings& latency = *clustering.latency;
  parse_paired_latency(l, latency.timing);
  if (l.has("weight_kernel")) latency.weight_kernel = l.text("weight_kernel");
  if (latency.weight_kernel != "auto" && latency.weight_kernel != "dense" &&
      latency.weight_kernel != "lookup") {
    l.fail("weight_kernel",
           fmt::format("'{}' is not auto, dense or lookup", latency.weight_kernel));
  }
  return clustering;
}

// "hdp": {"settings": [...], "pomt": bool, "latency": {...} | false}. A
// setting is written with or without its "hdp:" (heads=0.1,blocks=0.5).
HdpSettings parse_hdp(const JsonFields& f, const VitConfig& config, bool has_pomt_schedule) {
  f.reject_unknown({"settings", "pomt", "latency"});
  HdpSettings hdp;
  const std::vector<std::string> settings = f.string_list("settings");
  if (settings.empty()) f.fail("settings", "expected at least one HDP setting");
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const std::string field = fmt::format("settings[{}]", i);
    const std::string text =
        settings[i].starts_with("hdp:") ? settings[i] : fmt::format("hdp:{}", settings[i]);
    MethodSpec parsed;
    try {
      parsed = parse_method_spec(text);
      validate_for_model(parsed, config);
    } catch (const InputError& error) {
      f.fail(field, error.what());
    }
    if (parsed.kind != MethodKind::kNone || !parsed.hdp) {
      f.fail(field, "expected an HDP setting alone (\"pomt\": true composes it with POMT's R)");
    }
    const std::string canonical = to_string(parsed);
    if (listed(hdp.settings, canonical))
      f.fail(field, fmt::format("{} is listed twice", canonical));
    hdp.settings.push_back(canonical);
  }
  hdp.pomt = has_pomt_schedule;
  if (f.has("pomt")) {
    hdp.pomt = f.boolean("pomt");
    if (hdp.pomt && !has_pomt_schedule) {
      f.fail("pomt", "composing with POMT needs a \"schedule\" and evaluations.pomt (or false)");
    }
  }
  if (f.has("latency")) {
    if (f.at("latency").is_boolean() && !f.boolean("latency")) {
      hdp.latency.reset();
    } else {
      const JsonFields l = f.object("latency");
      l.reject_unknown({"batches", "precision", "time_cap_s", "warmup_s"});
      parse_paired_latency(l, *hdp.latency);
    }
  }
  return hdp;
}

// A paired latency job's common fields.
protocol::ProfileJobSpec paired_latency_spec(const Workload& workload,
                                             const PairedLatencySettings& latency,
                                             std::vector<std::string> methods) {
  protocol::ProfileJobSpec spec;
  spec.model = workload.model;
  spec.weights = workload.weights;
  spec.batches = latency.batches;
  spec.methods = std::move(methods);
  spec.precision = latency.precision;
  spec.time_cap_s = latency.time_cap_s;
  spec.warmup_s = latency.warmup_s;
  spec.seed = workload.seed;
  return spec;
}

// The kernel a device's clustered models run on: the lookup GEMM exists on
// the CPU (and in the GPU model), so "auto" takes it there and decodes at
// load on CUDA and Jetson agents.
std::string clustering_kernel(const ClusteringLatencySettings& latency, const FleetDevice& device) {
  if (latency.weight_kernel != "auto") return latency.weight_kernel;
  return device.kind == "cpu" || device.kind == "sim" ? "lookup" : "dense";
}

protocol::ProfileJobSpec clustering_latency_spec(const Workload& workload,
                                                 const ClusteringLatencySettings& latency,
                                                 const FleetDevice& device) {
  protocol::ProfileJobSpec spec = paired_latency_spec(workload, latency.timing, {"none"});
  spec.paired_clusters = workload.clustering->clusters;
  spec.weight_kernel = clustering_kernel(latency, device);
  return spec;
}

Workload parse_workload(const JsonFields& f) {
  f.reject_unknown({"model", "weights", "seed", "curves", "accuracy", "schedule", "evaluations",
                    "clustering", "hdp"});
  Workload workload;
  // The model by its one name (timm's aliases resolved): jobs, results and
  // the database all use it.
  const VitConfig config = parse_model_spec(f.text("model"));
  workload.model = config.name;
  workload.weights = f.optional_text("weights");
  if (f.has("seed")) workload.seed = static_cast<uint64_t>(f.integer("seed", 0));
  if (f.has("curves")) workload.curves = parse_curves(f.object("curves"), config);
  if (f.has("accuracy")) workload.accuracy = parse_accuracy(f.object("accuracy"), config);
  if (f.has("schedule")) {
    const JsonFields s = f.object("schedule");
    s.reject_unknown({"alpha", "layer", "variants"});
    ScheduleSettings schedule;
    if (s.has("alpha")) schedule.alpha = s.fraction("alpha");
    if (s.has("variants")) {
      const std::vector<std::string> variants = s.string_list("variants");
      for (const std::string& variant : variants) {
        if (variant != "reference" && variant != "aligned") {
          s.fail("variants", fmt::format("'{}' is neither reference nor aligned", variant));
        }
      }
      // The reference is what Top-K and ToMe are matched to: always there.
      if (std::find(variants.begin(), variants.end(), "reference") == variants.end()) {
        s.fail("variants", "must hold \"reference\" (POMT's own schedule, the one matched)");
      }
      schedule.aligned = std::find(variants.begin(), variants.end(), "aligned") != variants.end();
    }
    if (s.has("layer")) schedule.layer = s.integer("layer", 0);
    if (schedule.layer >= config.depth) {
      s.fail("layer", fmt::format("{} is past the last block of {} (depth {})", schedule.layer,
                                  config.name, config.depth));
    }
    if (!workload.curves || !workload.accuracy) {
      f.fail("schedule", "needs both \"curves\" and \"accuracy\" in the same workload");
    }
    workload.schedule = schedule;
  }
  if (f.has("evaluations"))
    workload.evaluations = parse_evaluations(f.object("evaluations"), config);
  if (workload.evaluations && workload.evaluations->pomt && !workload.schedule) {
    f.fail("evaluations.pomt", "POMT's evaluation needs a \"schedule\" (set pomt: false)");
  }
  if (workload.evaluations && !workload.evaluations->pomt) {
    workload.evaluations->matched = false;  // nothing to match against
  }
  if (f.has("clustering")) {
    workload.clustering = parse_clustering(f.object("clustering"));
    if (!workload.evaluations) {
      f.fail("clustering", "needs \"evaluations\" in the same workload (the dataset, limit and "
                           "batch its evaluations use, and the dense baseline)");
    }
  }
  if (f.has("hdp")) {
    if (!workload.evaluations) {
      f.fail("hdp",
             "needs \"evaluations\" in the same workload (the dataset, limit and batch "
             "its evaluations use, and the unpruned baseline)");
    }
    workload.hdp = parse_hdp(f.object("hdp"), config,
                             workload.schedule.has_value() && workload.evaluations->pomt);
  }
  return workload;
}

store::PlannedJob agent_job(std::string kind, std::optional<int64_t> device_id, json spec,
                            int64_t priority) {
  store::PlannedJob job;
  job.kind = std::move(kind);
  job.device_id = device_id;
  job.spec_json = spec.dump();
  job.priority = priority;
  return job;
}

protocol::EvalJobSpec eval_template(const Workload& workload, const EvaluationSettings& settings) {
  protocol::EvalJobSpec spec;
  spec.model = workload.model;
  spec.weights = workload.weights;
  spec.dataset = settings.dataset;
  spec.split = settings.split;
  spec.limit = settings.limit;
  spec.batch = settings.batch;
  spec.seed = workload.seed;
  return spec;
}

protocol::ProfileJobSpec profile_spec(const Workload& workload) {
  protocol::ProfileJobSpec profile;
  profile.model = workload.model;
  profile.weights = workload.weights;
  profile.batches = workload.curves->batches;
  profile.tokens = workload.curves->tokens;
  profile.precision = workload.curves->precision;
  profile.time_cap_s = workload.curves->time_cap_s;
  profile.warmup_s = workload.curves->warmup_s;
  profile.seed = workload.seed;
  return profile;
}

// The methods every device times once its schedule has POMT's R: the
// baseline, the methods evaluated, and each matching candidate. A simulated
// device leaves out methods with Hybrid Dynamic Pruning, which its GPU model
// refuses (what HDP prunes depends on the data; docs/hdp.md).
protocol::ProfileJobSpec latency_template(const Workload& workload, const VitConfig& config,
                                          int64_t batch, bool simulated) {
  protocol::ProfileJobSpec latency = profile_spec(workload);
  latency.tokens.clear();
  latency.batches = {batch};
  latency.methods = {"none"};
  const auto add = [&](const std::string& method) {
    if (!listed(latency.methods, method)) latency.methods.push_back(method);
  };
  for (const std::string& method : workload.evaluations->methods) {
    if (!(simulated && parse_method_spec(method).hdp)) add(method);
  }
  if (workload.evaluations->matched) {
    for (const std::string_view family : schedule::kMatchedFamilies) {
      for (const std::string& method : schedule::matching_candidates(family, config)) add(method);
    }
  }
  return latency;
}

protocol::EvalJobSpec accuracy_curve_spec(const Workload& workload) {
  protocol::EvalJobSpec curve;
  curve.model = workload.model;
  curve.weights = workload.weights;
  curve.dataset = workload.accuracy->dataset;
  curve.split = workload.accuracy->split;
  curve.limit = workload.accuracy->limit;
  curve.batch = workload.accuracy->batch;
  curve.tokens = workload.accuracy->tokens;
  curve.seed = workload.seed;
  return curve;
}

}  // namespace

SweepSpec parse_sweep_spec(const json& spec) {
  const JsonFields f(spec, "sweep spec");
  f.reject_unknown({"name", "devices", "workloads", "design_space", "max_attempts"});
  SweepSpec result;
  result.name = f.name("name");
  if (f.has("max_attempts")) {
    result.max_attempts = f.integer("max_attempts", 1);
    if (result.max_attempts > kMaxMaxAttempts) {
      f.fail("max_attempts", fmt::format("{} is above {}", result.max_attempts, kMaxMaxAttempts));
    }
  }
  if (f.has("devices")) {
    const JsonFields d = f.object("devices");
    d.reject_unknown({"names", "kinds", "tags", "skip_offline"});
    if (d.has("skip_offline")) result.devices.skip_offline = d.boolean("skip_offline");
    if (d.has("names")) result.devices.names = d.name_list("names");
    if (d.has("kinds")) result.devices.kinds = d.string_list("kinds");
    if (d.has("tags")) result.devices.tags = d.name_list("tags");
  }
  if (f.has("design_space")) result.design_space = parse_design_sweep(f.object("design_space"));
  // Workloads may be left out only by a design-space sweep.
  if (!result.design_space || f.has("workloads")) {
    const json& workloads = f.array("workloads", true);
    for (std::size_t i = 0; i < workloads.size(); ++i) {
      result.workloads.push_back(parse_workload(f.element("workloads", i, workloads[i])));
    }
  }
  return result;
}

bool selects(const DeviceSelector& selector, const FleetDevice& device) {
  if (selector.skip_offline && !device.online) return false;
  if (!selector.names.empty() && !listed(selector.names, device.name)) return false;
  if (!selector.kinds.empty() && !listed(selector.kinds, device.kind)) return false;
  if (!selector.tags.empty()) {
    return std::any_of(device.tags.begin(), device.tags.end(),
                       [&](const std::string& tag) { return listed(selector.tags, tag); });
  }
  return true;
}

std::vector<store::PlannedJob> plan_sweep(const SweepSpec& spec,
                                          const std::vector<FleetDevice>& fleet,
                                          std::size_t max_jobs) {
  std::vector<FleetDevice> devices;
  for (const FleetDevice& device : fleet) {
    if (selects(spec.devices, device)) devices.push_back(device);
  }
  if (devices.empty()) {
    throw InputError(
        fmt::format("sweep {}: the device selector matches none of the {} "
                    "registered devices",
                    spec.name, fleet.size()));
  }
  const bool has_real_device = std::any_of(devices.begin(), devices.end(),
                                           [](const FleetDevice& d) { return !d.simulated; });
  std::vector<store::PlannedJob> jobs;
  // Checked as jobs are added, so a spec that would expand to millions is
  // refused before it costs the memory.
  const auto add = [&](store::PlannedJob job) {
    if (jobs.size() == max_jobs) {
      throw InputError(
          fmt::format("sweep {}: it plans more than {} jobs, the coordinator's limit per sweep "
                      "(--max-sweep-jobs); split it, or select fewer devices, batches or methods",
                      spec.name, max_jobs));
    }
    job.max_attempts = spec.max_attempts;
    jobs.push_back(std::move(job));
  };
  for (const Workload& workload : spec.workloads) {
    const VitConfig config = parse_model_spec(workload.model);
    if ((workload.accuracy || workload.evaluations) && !has_real_device) {
      throw InputError(fmt::format(
          "sweep {}: {} asks for accuracy, which only a real (non-simulated) device measures, "
          "and none is selected",
          spec.name, workload.model));
    }
    std::vector<std::pair<const FleetDevice*, std::size_t>> profile_jobs;
    if (workload.curves) {
      for (const FleetDevice& device : devices) {
        profile_jobs.emplace_back(&device, jobs.size());
        add(agent_job("profile", device.id, protocol::to_json(profile_spec(workload)),
                      kProfilePriority));
      }
    }
    std::optional<std::size_t> accuracy_job;
    if (workload.accuracy) {
      accuracy_job = jobs.size();
      add(agent_job("accuracy_curve", std::nullopt,
                    protocol::to_json(accuracy_curve_spec(workload)), kAccuracyPriority));
    }
    if (workload.schedule) {
      for (const auto& [device, profile_index] : profile_jobs) {
        for (const int64_t batch : workload.curves->batches) {
          ScheduleJobSpec schedule;
          schedule.device_id = device->id;
          schedule.model = workload.model;
          schedule.batch = batch;
          schedule.alpha = workload.schedule->alpha;
          schedule.layer = workload.schedule->layer;
          schedule.tokens_total = config.total_tokens();
          schedule.aligned = workload.schedule->aligned;
          if (workload.evaluations && workload.evaluations->pomt) {
            schedule.pomt_eval = protocol::to_json(eval_template(workload, *workload.evaluations));
            schedule.latency_job =
                protocol::to_json(latency_template(workload, config, batch, device->simulated));
            schedule.matched = workload.evaluations->matched;
            schedule.match_tolerance = workload.evaluations->match_tolerance;
            if (workload.hdp && workload.hdp->pomt) {
              schedule.hdp_methods = workload.hdp->settings;
            }
            schedule.device_simulated = device->simulated;
          }
          store::PlannedJob job;
          job.kind = "schedule";
          job.runner = std::string(store::kRunnerCoordinator);
          job.device_id = device->id;
          job.spec_json = to_json(schedule).dump();
          job.depends_on = {profile_index, *accuracy_job};
          add(std::move(job));
        }
      }
    }
    if (workload.evaluations) {
      std::vector<std::string> methods = {"none"};
      for (const std::string& method : workload.evaluations->methods) {
        if (!listed(methods, method)) methods.push_back(method);
      }
      if (workload.hdp) {
        for (const std::string& method : workload.hdp->settings) {
          if (!listed(methods, method)) methods.push_back(method);
        }
      }
      std::vector<std::size_t> hdp_evals;  // the jobs that measure the HDP settings
      for (const std::string& method : methods) {
        protocol::EvalJobSpec eval = eval_template(workload, *workload.evaluations);
        eval.method = method;
        if (workload.hdp && listed(workload.hdp->settings, method))
          hdp_evals.push_back(jobs.size());
        add(agent_job("eval", std::nullopt, protocol::to_json(eval), kEvalPriority));
      }
      if (workload.clustering) {
        for (const int64_t clusters : workload.clustering->clusters) {
          protocol::EvalJobSpec eval = eval_template(workload, *workload.evaluations);
          eval.clusters = clusters;
          add(agent_job("eval", std::nullopt, protocol::to_json(eval), kEvalPriority));
        }
        if (const auto& latency = workload.clustering->latency) {
          for (const FleetDevice& device : devices) {
            add(agent_job("latency", device.id,
                          protocol::to_json(clustering_latency_spec(workload, *latency, device)),
                          kLatencyPriority));
          }
        }
      }
      if (workload.hdp && workload.hdp->latency) {
        std::vector<std::string> timed = {"none"};
        timed.insert(timed.end(), workload.hdp->settings.begin(), workload.hdp->settings.end());
        const protocol::ProfileJobSpec latency =
            paired_latency_spec(workload, *workload.hdp->latency, timed);
        for (const FleetDevice& device : devices) {
          if (!device.simulated) {
            add(agent_job("latency", device.id, protocol::to_json(latency), kLatencyPriority));
            continue;
          }
          // Its model's input comes from the settings' evaluations.
          store::PlannedJob job = hdp_latency_job(device.id, latency);
          job.depends_on = hdp_evals;
          add(std::move(job));
        }
      }
    }
  }
  if (spec.design_space) {
    // The same sample on every device, so that their surrogates and fronts
    // compare like with like.
    std::vector<std::vector<std::size_t>> sample_jobs(devices.size());
    for (const nlohmann::json& architecture : architecture_job_specs(*spec.design_space)) {
      for (std::size_t d = 0; d < devices.size(); ++d) {
        sample_jobs[d].push_back(jobs.size());
        add(agent_job("architecture", devices[d].id, architecture, kArchitecturePriority));
      }
    }
    if (spec.design_space->active_learning) {
      // Each device's loop starts once its first sample is measured.
      for (std::size_t d = 0; d < devices.size(); ++d) {
        store::PlannedJob step =
            agent_job("design_step", devices[d].id, to_json(DesignStepSpec{1, *spec.design_space}),
                      kDesignStepPriority);
        step.runner = std::string(store::kRunnerCoordinator);
        step.depends_on = sample_jobs[d];
        add(std::move(step));
      }
    }
  }
  if (jobs.empty()) throw InputError(fmt::format("sweep {}: it asks for no work", spec.name));
  return jobs;
}

ScheduleJobSpec parse_schedule_job_spec(const json& spec) {
  const JsonFields f(spec, "schedule job");
  f.reject_unknown({"device_id", "model", "batch", "alpha", "layer", "tokens_total", "pomt_eval",
                    "latency_job", "matched", "match_tolerance", "aligned", "hdp_methods",
                    "device_simulated"});
  ScheduleJobSpec result;
  result.device_id = f.integer("device_id", 1);
  result.model = f.text("model");
  result.batch = f.integer("batch", 1);
  result.alpha = f.fraction("alpha");
  result.layer = f.integer("layer", 0);
  result.tokens_total = f.integer("tokens_total", 2);
  if (f.has("pomt_eval") && !f.is_null("pomt_eval")) {
    f.object("pomt_eval");
    result.pomt_eval = f.at("pomt_eval");
  }
  if (f.has("latency_job") && !f.is_null("latency_job")) {
    protocol::parse_profile_job_spec(f.at("latency_job"));  // refused now, not on an agent
    result.latency_job = f.at("latency_job");
  }
  if (f.has("matched")) result.matched = f.boolean("matched");
  if (f.has("match_tolerance")) result.match_tolerance = f.number("match_tolerance");
  if (f.has("aligned")) result.aligned = f.boolean("aligned");
  if (f.has("hdp_methods")) result.hdp_methods = f.string_list("hdp_methods");
  for (std::size_t i = 0; i < result.hdp_methods.size(); ++i) {
    const MethodSpec method = parse_method_spec(result.hdp_methods[i]);
    if (method.kind != MethodKind::kNone || !method.hdp) {
      f.fail(fmt::format("hdp_methods[{}]", i), "expected an HDP setting alone");
    }
  }
  if (f.has("device_simulated")) result.device_simulated = f.boolean("device_simulated");
  if (!(result.match_tolerance > 0 && result.match_tolerance < 1)) {
    f.fail("match_tolerance", "outside (0, 1)");
  }
  return result;
}

json to_json(const ScheduleJobSpec& spec) {
  return {{"device_id", spec.device_id},
          {"model", spec.model},
          {"batch", spec.batch},
          {"alpha", spec.alpha},
          {"layer", spec.layer},
          {"tokens_total", spec.tokens_total},
          {"pomt_eval", spec.pomt_eval ? *spec.pomt_eval : json(nullptr)},
          {"latency_job", spec.latency_job ? *spec.latency_job : json(nullptr)},
          {"matched", spec.matched},
          {"match_tolerance", spec.match_tolerance},
          {"aligned", spec.aligned},
          {"hdp_methods", spec.hdp_methods},
          {"device_simulated", spec.device_simulated}};
}

HdpLatencyJobSpec parse_hdp_latency_job_spec(const json& spec) {
  const JsonFields f(spec, "hdp_latency job");
  f.reject_unknown({"device_id", "latency_job"});
  HdpLatencyJobSpec result;
  result.device_id = f.integer("device_id", 1);
  f.object("latency_job");
  result.latency_job = protocol::parse_profile_job_spec(f.at("latency_job"));
  if (result.latency_job.methods.empty()) f.fail("latency_job", "expected a latency job (methods)");
  return result;
}

json to_json(const HdpLatencyJobSpec& spec) {
  return {{"device_id", spec.device_id}, {"latency_job", protocol::to_json(spec.latency_job)}};
}

store::PlannedJob hdp_latency_job(int64_t device_id, protocol::ProfileJobSpec latency) {
  store::PlannedJob job;
  job.kind = "hdp_latency";
  job.runner = std::string(store::kRunnerCoordinator);
  job.device_id = device_id;
  job.spec_json = to_json(HdpLatencyJobSpec{device_id, std::move(latency)}).dump();
  return job;
}

}  // namespace tailsweep::coordinator
