// Fuzzes every reader of untrusted JSON: the strict parser, then each typed
// body of the protocol, the result bodies, the result checks against a job
// and the sweep spec with its planner. Refusals (InputError, nlohmann's
// exceptions, which the router answers 400) are expected; anything else that
// escapes would be a 500 or a crash, and libFuzzer reports it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/util/errors.h"
#include "common/wire/protocol.h"
#include "common/wire/result_document.h"
#include "common/wire/strict_json.h"
#include "coordinator/service/design_sweep.h"
#include "coordinator/service/sweep_plan.h"
#include "coordinator/store/design_steps.h"
#include "coordinator/store/result_bodies.h"
#include "coordinator/store/result_checks.h"
#include "coordinator/store/result_ingest.h"

namespace {

using nlohmann::json;
using namespace tailsweep;

void refused_or_read(const std::function<void()>& read) {
  try {
    read();
  } catch (const InputError& refusal) {
    (void)printable(refusal.what());
  } catch (const json::exception&) {
  }
}

// Reads value as each agent document; one of the current version that is
// read must be read again, unchanged, from what its writer makes of it.
template <typename Body>
void round_trip_as(Body (*parse)(const json&), const json& value) {
  std::optional<Body> body;
  try {
    body = parse(value);
  } catch (const InputError&) {
    return;
  } catch (const json::exception&) {
    return;
  }
  const int64_t version = [&] {
    if constexpr (requires { body->measurement.schema_version; }) {
      return body->measurement.schema_version;
    } else {
      return body->schema_version;
    }
  }();
  if (version < protocol::kResultSchemaVersion) return;
  const json written = protocol::to_json(*body);
  if (protocol::to_json(parse(written)) != written) std::abort();
}

void try_round_trip(const json& value) {
  round_trip_as(&protocol::parse_profile_body, value);
  round_trip_as(&protocol::parse_latency_body, value);
  round_trip_as(&protocol::parse_eval_body, value);
  round_trip_as(&protocol::parse_accuracy_curve_body, value);
  round_trip_as(&protocol::parse_architecture_body, value);
}

// The job specs a result is checked against: one per agent job kind.
const std::vector<std::pair<std::string, std::string>>& job_specs() {
  static const std::vector<std::pair<std::string, std::string>> specs = {
      {"profile", R"({"model": "deit-tiny", "batches": [1, 4], "tokens": "2:197:5"})"},
      {"latency",
       R"({"model": "deit-tiny", "batches": [1], "methods": ["none", "topk:8", "pomt:58"]})"},
      {"latency", R"({"model": "deit-tiny", "batches": [1], "methods": ["none"],
                     "paired_clusters": [16, 64], "weight_kernel": "lookup"})"},
      {"eval", R"({"model": "fmnist-vit", "method": "tome:8", "batch": 64, "limit": 1000})"},
      {"eval", R"({"model": "fmnist-vit", "method": "hdp:heads=0.1", "batch": 64, "limit": 1000})"},
      {"latency",
       R"({"model": "fmnist-vit", "batches": [1], "methods": ["none", "hdp:blocks=0.5"]})"},
      {"accuracy_curve", R"({"model": "fmnist-vit", "tokens": "2:197:5", "limit": 1000})"},
      // The architecture of seeds/json_bodies/architecture_result.json.
      {"architecture", R"({"architecture": {"input": "tokens", "sequence_length": 16,
        "vocabulary": 100, "layers": [
          {"hidden": 32, "heads": 4, "operation": "sa_wma", "feed_forward": [64]},
          {"hidden": 48, "heads": 4, "operation": "l_dct", "feed_forward": [32, 96]}]},
        "batches": [1, 2]})"},
  };
  return specs;
}

const std::vector<coordinator::FleetDevice>& fleet() {
  static const std::vector<coordinator::FleetDevice> devices = {
      {1, "cpu-1", "cpu", false, {"lab"}}, {2, "nano", "sim", true, {"jetson"}}};
  return devices;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  json value;
  try {
    value = parse_strict_json(text, "input");
  } catch (const InputError&) {
    return 0;
  }
  // What is read back must also be writable: the answers are dumps.
  (void)value.dump(-1, ' ', false, json::error_handler_t::replace);

  refused_or_read([&] { protocol::to_json(protocol::parse_register_request(value)); });
  refused_or_read([&] { protocol::parse_register_response(value); });
  refused_or_read([&] { protocol::parse_lease_request(value); });
  refused_or_read([&] { protocol::to_json(protocol::parse_lease_response(value)); });
  refused_or_read([&] { protocol::parse_heartbeat_request(value); });
  refused_or_read([&] { protocol::to_json(protocol::parse_result_request(value)); });
  refused_or_read([&] { protocol::parse_failure_request(value); });
  refused_or_read([&] { protocol::to_json(protocol::parse_profile_job_spec(value)); });
  refused_or_read([&] { protocol::to_json(protocol::parse_eval_job_spec(value)); });
  refused_or_read([&] { protocol::to_json(protocol::parse_architecture_job_spec(value)); });
  refused_or_read([&] { coordinator::to_json(coordinator::parse_design_step_spec(value)); });
  refused_or_read([&] { store::to_json(store::parse_design_step_body(value)); });
  refused_or_read([&] { protocol::parse_error_body(text); });
  refused_or_read([&] {
    coordinator::plan_sweep(coordinator::parse_sweep_spec(value), fleet(), /*max_jobs=*/500);
  });
  refused_or_read([&] { store::parse_schedule_body(value); });
  refused_or_read([&] { store::parse_match_body(value); });
  refused_or_read([&] { coordinator::to_json(coordinator::parse_hdp_latency_job_spec(value)); });
  refused_or_read(
      [&] { protocol::to_json(protocol::hdp_shares_of(protocol::parse_eval_body(value), 1)); });
  // A current document the reader took must survive its own writer: any
  // InputError here escapes and is a crash.
  try_round_trip(value);
  for (const auto& job : job_specs()) {  // (clang 14 cannot capture structured bindings)
    for (const bool simulated : {false, true}) {
      refused_or_read([&] {
        store::check_result_against_job(
            job.second, store::parse_agent_result_body(job.first, value), simulated);
      });
    }
  }
  return 0;
}
