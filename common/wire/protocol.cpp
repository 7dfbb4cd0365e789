#include "common/wire/protocol.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/model/method_spec.h"
#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/wire/strict_json.h"

namespace tailsweep::protocol {
namespace {

using nlohmann::json;

const std::vector<std::string_view> kDeviceKinds = {"cpu", "cuda", "jetson", "sim"};

void check_kind(const JsonFields& fields, const std::string& kind) {
  for (const std::string_view known : kDeviceKinds) {
    if (kind == known) return;
  }
  fields.fail("kind", fmt::format("'{}' is not one of cpu, cuda, jetson, sim", kind));
}

template <typename T>
void put_optional(json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

}  // namespace

// One element of a latency job's "hdp_shares": a method with HDP and, per
// block, shares in [0, 1], as many of each.
HdpMeasuredShares read_hdp_shares(const JsonFields& fields) {
  fields.reject_unknown({"method", "heads_pruned", "blocks_pruned", "source_job_id"});
  HdpMeasuredShares result;
  result.method = fields.text("method");
  if (!parse_method_spec(result.method).hdp) fields.fail("method", "has no HDP to model");
  const auto shares = [&](const char* key) {
    std::vector<double> values;
    const json& list = fields.array(key, true);
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number() || list[i].get<double>() < 0 || list[i].get<double>() > 1) {
        fields.fail(fmt::format("{}[{}]", key, i), "expected a share in [0, 1]");
      }
      values.push_back(list[i].get<double>());
    }
    return values;
  };
  result.heads_pruned = shares("heads_pruned");
  result.blocks_pruned = shares("blocks_pruned");
  if (result.heads_pruned.size() != result.blocks_pruned.size()) {
    fields.fail("blocks_pruned", "expected as many blocks as heads_pruned has");
  }
  if (fields.has("source_job_id")) result.source_job_id = fields.integer("source_job_id", 1);
  return result;
}

RegisterRequest parse_register_request(const json& body) {
  const JsonFields fields(body, "register request");
  fields.reject_unknown({"name", "kind", "tags", "facts", "version", "git_sha"});
  RegisterRequest request;
  request.name = fields.name("name");
  request.kind = fields.text("kind");
  check_kind(fields, request.kind);
  if (fields.has("tags")) request.tags = fields.name_list("tags");
  if (fields.has("facts")) {
    fields.object("facts");  // must be an object
    request.facts = fields.at("facts");
  }
  request.version = fields.text("version");
  request.git_sha = fields.text("git_sha");
  return request;
}

json to_json(const RegisterRequest& request) {
  return {{"name", request.name},   {"kind", request.kind},       {"tags", request.tags},
          {"facts", request.facts}, {"version", request.version}, {"git_sha", request.git_sha}};
}

RegisterResponse parse_register_response(const json& body) {
  const JsonFields fields(body, "register response");
  RegisterResponse response;
  response.agent_id = fields.integer("agent_id", 1);
  response.device_id = fields.integer("device_id", 1);
  response.token = fields.text("token");
  response.lease_ttl_s = fields.number("lease_ttl_s");
  response.heartbeat_interval_s = fields.number("heartbeat_interval_s");
  return response;
}

json to_json(const RegisterResponse& response) {
  return {{"agent_id", response.agent_id},
          {"device_id", response.device_id},
          {"token", response.token},
          {"lease_ttl_s", response.lease_ttl_s},
          {"heartbeat_interval_s", response.heartbeat_interval_s}};
}

LeaseRequest parse_lease_request(const json& body) {
  const JsonFields fields(body, "lease request");
  fields.reject_unknown({"wait_s"});
  LeaseRequest request;
  if (fields.has("wait_s")) {
    request.wait_s = fields.number("wait_s");
    if (!(request.wait_s >= 0 && request.wait_s <= kMaxLeaseWaitS)) {
      fields.fail("wait_s", fmt::format("{} is outside 0..{}", request.wait_s, kMaxLeaseWaitS));
    }
  }
  return request;
}

json to_json(const LeaseRequest& request) { return {{"wait_s", request.wait_s}}; }

LeaseResponse parse_lease_response(const json& body) {
  const JsonFields fields(body, "lease response");
  LeaseResponse response;
  if (fields.is_null("job")) return response;
  const JsonFields job = fields.object("job");
  JobAssignment assignment;
  assignment.job_id = job.integer("job_id", 1);
  assignment.lease_id = job.text("lease_id");
  assignment.kind = job.text("kind");
  job.object("spec");  // must be an object
  assignment.spec = job.at("spec");
  assignment.attempt = job.integer("attempt", 1);
  assignment.expires_at_s = job.number("expires_at_s");
  response.job = std::move(assignment);
  return response;
}

json to_json(const LeaseResponse& response) {
  if (!response.job) return {{"job", nullptr}};
  const JobAssignment& job = *response.job;
  return {{"job",
           {{"job_id", job.job_id},
            {"lease_id", job.lease_id},
            {"kind", job.kind},
            {"spec", job.spec},
            {"attempt", job.attempt},
            {"expires_at_s", job.expires_at_s}}}};
}

HeartbeatRequest parse_heartbeat_request(const json& body) {
  const JsonFields fields(body, "heartbeat");
  fields.reject_unknown({"lease_id"});
  return {fields.text("lease_id")};
}

json to_json(const HeartbeatRequest& request) { return {{"lease_id", request.lease_id}}; }

ResultRequest parse_result_request(const json& body) {
  const JsonFields fields(body, "result");
  fields.reject_unknown({"lease_id", "result"});
  ResultRequest request;
  request.lease_id = fields.text("lease_id");
  fields.object("result");  // must be an object; its contents are checked by kind when stored
  request.result = fields.at("result");
  return request;
}

json to_json(const ResultRequest& request) {
  return {{"lease_id", request.lease_id}, {"result", request.result}};
}

FailureRequest parse_failure_request(const json& body) {
  const JsonFields fields(body, "failure");
  fields.reject_unknown({"lease_id", "error"});
  return {fields.text("lease_id"), fields.text("error")};
}

json to_json(const FailureRequest& request) {
  return {{"lease_id", request.lease_id}, {"error", request.error}};
}

json to_json(const HdpMeasuredShares& shares) {
  json out = {{"method", shares.method},
              {"heads_pruned", shares.heads_pruned},
              {"blocks_pruned", shares.blocks_pruned}};
  put_optional(out, "source_job_id", shares.source_job_id);
  return out;
}

std::vector<int64_t> read_batches(const JsonFields& fields) {
  const json& batches = fields.array("batches", true);
  std::vector<int64_t> out;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (!batches[i].is_number_integer() || batches[i].get<int64_t>() < 1) {
      fields.fail(fmt::format("batches[{}]", i), "expected a batch size >= 1");
    }
    out.push_back(batches[i].get<int64_t>());
  }
  return out;
}

void read_stopping_rule(const JsonFields& fields, double& precision, double& time_cap_s,
                        double& warmup_s) {
  if (fields.has("precision")) precision = fields.number("precision");
  if (!(precision > 0 && precision < 1)) {
    fields.fail("precision", fmt::format("{} is outside (0, 1)", precision));
  }
  if (fields.has("time_cap_s")) time_cap_s = fields.number("time_cap_s");
  if (fields.has("warmup_s")) warmup_s = fields.number("warmup_s");
  if (!(time_cap_s > 0) || !(warmup_s >= 0)) {
    fields.fail("time_cap_s", "time_cap_s must be positive and warmup_s not negative");
  }
}

ArchitectureJobSpec parse_architecture_job_spec(const json& spec) {
  const JsonFields fields(spec, "architecture job");
  fields.reject_unknown({"architecture", "batches", "precision", "time_cap_s", "warmup_s", "seed"});
  ArchitectureJobSpec result;
  try {
    result.architecture = design::parse_architecture(fields.at("architecture"));
  } catch (const InputError& error) {
    // Its message names the path from "architecture: " on.
    throw InputError(fmt::format("{}: {}", fields.what(), error.what()));
  }
  if (fields.has("batches")) result.batches = read_batches(fields);
  read_stopping_rule(fields, result.precision, result.time_cap_s, result.warmup_s);
  if (fields.has("seed")) result.seed = static_cast<uint64_t>(fields.integer("seed", 0));
  return result;
}

json to_json(const ArchitectureJobSpec& spec) {
  return {{"architecture", design::to_json(spec.architecture)},
          {"batches", spec.batches},
          {"precision", spec.precision},
          {"time_cap_s", spec.time_cap_s},
          {"warmup_s", spec.warmup_s},
          {"seed", spec.seed}};
}

ProfileJobSpec parse_profile_job_spec(const json& spec) {
  const JsonFields fields(spec, "profile job");
  fields.reject_unknown({"model", "weights", "batches", "tokens", "methods", "precision", "mode",
                         "protocol", "time_cap_s", "warmup_s", "seed", "paired_clusters",
                         "weight_kernel", "hdp_shares"});
  ProfileJobSpec result;
  result.model = fields.text("model");
  result.weights = fields.optional_text("weights");
  if (fields.has("batches")) result.batches = read_batches(fields);
  if (fields.has("tokens")) result.tokens = fields.text("tokens");
  if (fields.has("methods")) result.methods = fields.string_list("methods");
  if (result.tokens.empty() == result.methods.empty()) {
    fields.fail("tokens",
                "give either \"tokens\" (a curve) or \"methods\" (each timed on the "
                "full input)");
  }
  if (fields.has("mode")) result.mode = fields.text("mode");
  if (result.mode != "model" && result.mode != "block") {
    fields.fail("mode", fmt::format("'{}' is neither model nor block", result.mode));
  }
  if (fields.has("protocol")) result.protocol = fields.text("protocol");
  if (result.protocol != "rounds" && result.protocol != "blocks") {
    fields.fail("protocol", fmt::format("'{}' is neither rounds nor blocks", result.protocol));
  }
  read_stopping_rule(fields, result.precision, result.time_cap_s, result.warmup_s);
  if (fields.has("seed")) result.seed = static_cast<uint64_t>(fields.integer("seed", 0));
  if (fields.has("paired_clusters")) {
    const json& list = fields.array("paired_clusters", true);
    for (std::size_t i = 0; i < list.size(); ++i) {
      const bool in_range = list[i].is_number_integer() && list[i].get<int64_t>() >= 2 &&
                            list[i].get<int64_t>() <= 256;
      if (!in_range || std::find(result.paired_clusters.begin(), result.paired_clusters.end(),
                                 list[i].get<int64_t>()) != result.paired_clusters.end()) {
        fields.fail(fmt::format("paired_clusters[{}]", i), "expected a K in 2..256, each once");
      }
      result.paired_clusters.push_back(list[i].get<int64_t>());
    }
    if (result.methods.empty()) fields.fail("paired_clusters", "only a latency job (\"methods\")");
  }
  if (fields.has("weight_kernel")) result.weight_kernel = fields.text("weight_kernel");
  if (result.weight_kernel != "dense" && result.weight_kernel != "lookup") {
    fields.fail("weight_kernel",
                fmt::format("'{}' is neither dense nor lookup", result.weight_kernel));
  }
  if (fields.has("hdp_shares")) {
    const json& list = fields.array("hdp_shares", true);
    for (std::size_t i = 0; i < list.size(); ++i) {
      result.hdp_shares.push_back(read_hdp_shares(fields.element("hdp_shares", i, list[i])));
      const std::string& method = result.hdp_shares.back().method;
      if (std::find(result.methods.begin(), result.methods.end(), method) == result.methods.end()) {
        fields.fail(fmt::format("hdp_shares[{}].method", i),
                    fmt::format("'{}' is not one of the job's methods", method));
      }
    }
  }
  return result;
}

json to_json(const ProfileJobSpec& spec) {
  json out = {{"model", spec.model}, {"batches", spec.batches},       {"precision", spec.precision},
              {"mode", spec.mode},   {"time_cap_s", spec.time_cap_s}, {"warmup_s", spec.warmup_s},
              {"seed", spec.seed}};
  if (spec.methods.empty()) {
    out["tokens"] = spec.tokens;
  } else {
    out["methods"] = spec.methods;
  }
  put_optional(out, "weights", spec.weights);
  if (spec.protocol != "rounds") out["protocol"] = spec.protocol;
  if (!spec.paired_clusters.empty()) out["paired_clusters"] = spec.paired_clusters;
  if (spec.weight_kernel != "dense") out["weight_kernel"] = spec.weight_kernel;
  if (!spec.hdp_shares.empty()) {
    json& list = out["hdp_shares"] = json::array();
    for (const HdpMeasuredShares& shares : spec.hdp_shares) list.push_back(to_json(shares));
  }
  return out;
}

EvalJobSpec parse_eval_job_spec(const json& spec) {
  const JsonFields fields(spec, "eval job");
  fields.reject_unknown({"model", "weights", "dataset", "split", "limit", "method", "tokens",
                         "batch", "seed", "clusters"});
  EvalJobSpec result;
  result.model = fields.text("model");
  result.weights = fields.optional_text("weights");
  if (fields.has("dataset")) result.dataset = fields.text("dataset");
  if (fields.has("split")) result.split = fields.text("split");
  if (fields.has("limit")) result.limit = fields.integer("limit", 0);
  if (fields.has("method")) result.method = fields.text("method");
  result.tokens = fields.optional_text("tokens");
  if (fields.has("batch")) result.batch = fields.integer("batch", 1);
  if (fields.has("seed")) result.seed = static_cast<uint64_t>(fields.integer("seed", 0));
  if (fields.has("clusters")) {
    result.clusters = fields.integer("clusters", 0);
    if (result.clusters == 1 || result.clusters > 256) {
      fields.fail("clusters", "expected 0 (the weights as given) or 2..256");
    }
  }
  return result;
}

json to_json(const EvalJobSpec& spec) {
  json out = {{"model", spec.model}, {"dataset", spec.dataset}, {"split", spec.split},
              {"limit", spec.limit}, {"method", spec.method},   {"batch", spec.batch},
              {"seed", spec.seed}};
  put_optional(out, "weights", spec.weights);
  put_optional(out, "tokens", spec.tokens);
  if (spec.clusters != 0) out["clusters"] = spec.clusters;
  return out;
}

ErrorBody parse_error_body(std::string_view text) {
  try {
    const json body = parse_strict_json(text, "an error answer");
    const json& error = body.at("error");
    return {error.at("code").get<std::string>(), error.at("message").get<std::string>()};
  } catch (const std::exception&) {  // InputError from the parser, json::exception from at()
    return {"unknown", printable(text.substr(0, 200))};
  }
}

}  // namespace tailsweep::protocol
