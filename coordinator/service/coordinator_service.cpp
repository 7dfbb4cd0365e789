#include "coordinator/service/coordinator_service.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/crypto.h>

#include "common/util/errors.h"
#include "common/util/json_fields.h"
#include "common/util/parse.h"
#include "common/util/sha256.h"
#include "common/wire/protocol.h"
#include "common/wire/strict_json.h"
#include "coordinator/http/prometheus.h"
#include "coordinator/service/route_helpers.h"
#include "coordinator/service/sweep_plan.h"
#include "coordinator/store/read_only_query.h"

namespace tailsweep::coordinator {
namespace {

using http::ApiError;
using nlohmann::json;

constexpr std::size_t kAgentTokenBytes = 32;

bool same_secret(std::string_view given, std::string_view expected) {
  // Constant time in the contents: a token is not guessed byte by byte.
  return !expected.empty() && given.size() == expected.size() &&
         CRYPTO_memcmp(given.data(), expected.data(), given.size()) == 0;
}

json parse_body(const http::Request& request) {
  if (request.body.empty()) throw ApiError(ErrorCode::kInvalidJson, "the request has no JSON body");
  try {
    return parse_strict_json(request.body, "the request body");
  } catch (const InputError& error) {
    throw ApiError(ErrorCode::kInvalidJson, error.what());
  }
}

}  // namespace

CoordinatorService::CoordinatorService(CoordinatorOptions options)
    : options_(std::move(options)),
      stores_(options_.db_path),
      waiters_(stores_, [this](int64_t agent_id, int64_t device_id,
                               std::chrono::duration<double> wait, http::Responder responder) {
        submit_lease(agent_id, device_id, wait, std::move(responder), /*touch=*/false);
      }),
      sql_queries_(options_.sql_threads, options_.sql_max_waiting) {
  if (options_.enroll_token.empty() || options_.admin_token.empty()) {
    throw InputError("both an enrollment token and an admin token are required");
  }
  stores_.local();  // open now: a bad database fails at start-up, not on the first request
  writer_ = std::make_unique<WriteBatcher>(options_.db_path, [this] { wake_for_new_work(); });
  maintenance_ = std::thread([this] { run_maintenance(); });
}

CoordinatorService::~CoordinatorService() {
  // The waiters and the maintenance thread submit to the writer: they stop
  // first. Then the writer answers what is queued (a lease it cannot serve
  // goes back to the stopped waiters, which answer at once).
  waiters_.stop();
  {
    const std::lock_guard lock(maintenance_mutex_);
    stopping_ = true;
  }
  maintenance_wake_.notify_all();
  maintenance_.join();
  writer_.reset();
}

void CoordinatorService::set_server_stats(std::function<http::ServerStats()> stats) {
  server_stats_ = std::move(stats);
}

void CoordinatorService::require_admin(const http::Request& request) const {
  if (!same_secret(request.bearer_token, options_.admin_token)) {
    throw ApiError(ErrorCode::kUnauthorized, "this route needs the admin token");
  }
}

store::AgentRow CoordinatorService::require_agent(const http::Request& request) {
  if (request.bearer_token.empty()) {
    throw ApiError(ErrorCode::kUnauthorized, "no agent token (Authorization: Bearer ...)");
  }
  const std::string hash = sha256_hex(request.bearer_token);
  {
    const std::lock_guard lock(agents_mutex_);
    const auto found = agents_by_token_hash_.find(hash);
    if (found != agents_by_token_hash_.end()) return found->second;
  }
  const std::optional<store::AgentRow> agent = stores_.local().agent_by_token_hash(hash);
  if (!agent) throw ApiError(ErrorCode::kUnauthorized, "unknown agent token: register again");
  const std::lock_guard lock(agents_mutex_);
  agents_by_token_hash_.emplace(hash, *agent);
  return *agent;
}

http::Response CoordinatorService::healthz(const http::Request&) {
  return http::json_response(200, {{"status", "ok"}});
}

void CoordinatorService::register_agent(http::Request request, http::Responder responder) {
  if (!same_secret(request.bearer_token, options_.enroll_token)) {
    throw ApiError(ErrorCode::kUnauthorized, "registering needs the enrollment token");
  }
  const protocol::RegisterRequest body = protocol::parse_register_request(parse_body(request));
  const std::string token = random_hex(kAgentTokenBytes);
  store::AgentRegistration registration;
  registration.device_name = body.name;
  registration.device_kind = body.kind;
  registration.simulated = body.kind == "sim";
  registration.tags = body.tags;
  registration.facts_json = body.facts.dump();
  registration.token_sha256 = sha256_hex(token);
  registration.version = body.version;
  registration.git_sha = body.git_sha;
  registration.now_s = unix_now_s();
  writer_->submit(
      [this, registration, token](store::Store& store) -> std::optional<http::Response> {
        store::RegisteredAgent agent;
        try {
          agent = store.register_agent(registration);
        } catch (const store::DeviceKindConflict& conflict) {
          throw ApiError(ErrorCode::kDeviceKindConflict, conflict.what());
        }
        protocol::RegisterResponse response;
        response.agent_id = agent.agent_id;
        response.device_id = agent.device_id;
        response.token = token;
        response.lease_ttl_s = options_.lease_ttl_s;
        response.heartbeat_interval_s = options_.heartbeat_interval_s;
        return http::json_response(201, protocol::to_json(response));
      },
      std::move(responder), /*may_make_work=*/false);
}

bool CoordinatorService::agent_due_for_touch(int64_t agent_id, double now_s) {
  constexpr double kTouchPeriodS = 5.0;
  const std::lock_guard lock(agents_mutex_);
  double& touched = agent_touched_at_s_[agent_id];
  if (now_s - touched < kTouchPeriodS) return false;
  touched = now_s;
  return true;
}

void CoordinatorService::wake_for_new_work() {
  waiters_.notify();
  maintenance_wake_.notify_all();  // schedules may be ready to compute
}

void CoordinatorService::lease(http::Request request, http::Responder responder) {
  const store::AgentRow agent = require_agent(request);
  const protocol::LeaseRequest body = request.body.empty()
                                          ? protocol::LeaseRequest{}
                                          : protocol::parse_lease_request(parse_body(request));
  submit_lease(agent.id, agent.device_id, std::chrono::duration<double>(body.wait_s),
               std::move(responder), agent_due_for_touch(agent.id, unix_now_s()));
}

void CoordinatorService::submit_lease(int64_t agent_id, int64_t device_id,
                                      std::chrono::duration<double> wait,
                                      http::Responder responder, bool touch) {
  const double ttl_s = options_.lease_ttl_s;
  const bool waits = wait.count() > 0;
  writer_->submit(
      [agent_id, touch, ttl_s, waits](store::Store& store) -> std::optional<http::Response> {
        if (touch) store.touch_agent(agent_id, unix_now_s());
        if (auto answer = try_lease(store, agent_id, ttl_s)) return answer;
        if (waits) return std::nullopt;  // wait for work, holding no thread
        return http::json_response(200, protocol::to_json(protocol::LeaseResponse{}));
      },
      std::move(responder), /*may_make_work=*/false,
      [this, agent_id, device_id, wait](http::Responder waiting) {
        waiters_.wait(agent_id, device_id, wait, std::move(waiting));
      });
}

void CoordinatorService::heartbeat(http::Request request, http::Responder responder) {
  const store::AgentRow agent = require_agent(request);
  const int64_t job_id = path_id(request, "id");
  const protocol::HeartbeatRequest body = protocol::parse_heartbeat_request(parse_body(request));
  const double ttl_s = options_.lease_ttl_s;
  writer_->submit(
      [agent, job_id, body, ttl_s](store::Store& store) -> std::optional<http::Response> {
        const double now = unix_now_s();
        if (!store.heartbeat(job_id, body.lease_id, agent.id, now, ttl_s)) {
          throw ApiError(ErrorCode::kLeaseLost,
                         fmt::format("job {}: this lease is no longer the job's (expired, "
                                     "cancelled or another agent's); stop and do not post its "
                                     "result",
                                     job_id));
        }
        return http::json_response(200, {{"expires_at_s", now + ttl_s}});
      },
      std::move(responder), /*may_make_work=*/false);
}

void CoordinatorService::result(http::Request request, http::Responder responder) {
  const store::AgentRow agent = require_agent(request);
  const int64_t job_id = path_id(request, "id");
  const protocol::ResultRequest body = protocol::parse_result_request(parse_body(request));
  // Read once, here on a worker thread, not on the writer's while it holds
  // the write lock: the job's kind (never changed once queued) says which
  // document it is.
  const std::optional<store::JobRow> job = stores_.local().job(job_id);
  if (!job) {
    results_refused_ += 1;
    throw ApiError(ErrorCode::kUnknownJob, fmt::format("no job {}", job_id));
  }
  std::shared_ptr<const store::ParsedResult> parsed;
  try {
    parsed =
        std::make_shared<const store::ParsedResult>(store::parse_result(job->kind, body.result));
  } catch (const InputError& error) {
    results_refused_ += 1;
    // An agent whose lease is gone learns that first, whatever it sent.
    if (job->lease_id != body.lease_id || job->lease_agent_id != agent.id) {
      throw ApiError(
          ErrorCode::kLeaseLost,
          fmt::format("job {}: not the job's current lease; the result is refused", job_id));
    }
    throw ApiError(ErrorCode::kInvalidResult, error.what());
  }
  writer_->submit(
      [this, agent, job_id, lease_id = body.lease_id,
       parsed](store::Store& store) -> std::optional<http::Response> {
        store::SubmitOutcome outcome{};
        try {
          outcome = store.submit_result(job_id, lease_id, agent.id, *parsed, unix_now_s());
        } catch (const InputError& error) {
          results_refused_ += 1;
          throw ApiError(ErrorCode::kInvalidResult, error.what());
        }
        switch (outcome) {
          case store::SubmitOutcome::accepted:
            results_accepted_ += 1;
            [[fallthrough]];
          case store::SubmitOutcome::duplicate:
            return http::json_response(200, {{"outcome", std::string(to_string(outcome))}});
          case store::SubmitOutcome::conflict:
            results_refused_ += 1;
            throw ApiError(ErrorCode::kConflict,
                fmt::format("job {}: this lease already delivered a different result", job_id));
          case store::SubmitOutcome::stale_lease:
            results_refused_ += 1;
            throw ApiError(ErrorCode::kLeaseLost,
                fmt::format("job {}: not the job's current lease; the result is refused", job_id));
          case store::SubmitOutcome::unknown_job:
            break;
        }
        results_refused_ += 1;
        throw ApiError(ErrorCode::kUnknownJob, fmt::format("no job {}", job_id));
      },
      std::move(responder), /*may_make_work=*/true);
}

void CoordinatorService::failure(http::Request request, http::Responder responder) {
  const store::AgentRow agent = require_agent(request);
  const int64_t job_id = path_id(request, "id");
  const protocol::FailureRequest body = protocol::parse_failure_request(parse_body(request));
  writer_->submit(
      [agent, job_id, body](store::Store& store) -> std::optional<http::Response> {
        const store::FailOutcome outcome =
            store.fail_job(job_id, body.lease_id, agent.id, body.error, unix_now_s());
        switch (outcome) {
          case store::FailOutcome::requeued:
          case store::FailOutcome::failed:
            return http::json_response(200, {{"outcome", std::string(to_string(outcome))}});
          case store::FailOutcome::stale_lease:
            throw ApiError(ErrorCode::kLeaseLost,
                           fmt::format("job {}: not the job's current lease", job_id));
          case store::FailOutcome::unknown_job:
            break;
        }
        throw ApiError(ErrorCode::kUnknownJob, fmt::format("no job {}", job_id));
      },
      std::move(responder), /*may_make_work=*/true);
}

// A clean exit: the agent says it is leaving, so that its device shows
// offline now rather than a lease TTL later.
void CoordinatorService::agent_goodbye(http::Request request, http::Responder responder) {
  const store::AgentRow agent = require_agent(request);
  if (!request.body.empty()) JsonFields(parse_body(request), "goodbye").reject_unknown({});
  writer_->submit(
      [agent](store::Store& store) -> std::optional<http::Response> {
        store.agent_left(agent.id, unix_now_s());
        return http::json_response(200, {{"agent_id", agent.id}, {"state", "left"}});
      },
      std::move(responder), /*may_make_work=*/false);
}

void CoordinatorService::retire_device(http::Request request, http::Responder responder) {
  require_admin(request);
  const std::string name = request.path_params.at("name");
  writer_->submit(
      [name](store::Store& store) -> std::optional<http::Response> {
        int64_t failed = 0;
        try {
          failed = store.retire_device(name, unix_now_s());
        } catch (const InputError& error) {
          throw ApiError(ErrorCode::kNotFound, error.what());
        }
        return http::json_response(
            200, {{"device", name}, {"state", "retired"}, {"jobs_failed", failed}});
      },
      std::move(responder), /*may_make_work=*/true);
}

void CoordinatorService::create_sweep(http::Request request, http::Responder responder) {
  require_admin(request);
  auto body = std::make_shared<json>(parse_body(request));
  auto spec = std::make_shared<SweepSpec>(parse_sweep_spec(*body));
  writer_->submit(
      [body, spec, max_jobs = options_.max_sweep_jobs,
       ttl_s = options_.lease_ttl_s](store::Store& store) -> std::optional<http::Response> {
        // Planned inside the write: the fleet it sees is the fleet the jobs go to.
        // A retired device is no longer part of it.
        const double now_s = unix_now_s();
        std::vector<FleetDevice> fleet;
        for (const store::DeviceRow& row : store.devices()) {
          const std::string_view state = store::device_state(row, now_s, ttl_s);
          if (state == "retired") continue;
          FleetDevice device{row.id, row.name, row.kind, row.simulated, {}, state != "offline"};
          device.tags = json::parse(row.tags_json).get<std::vector<std::string>>();
          fleet.push_back(std::move(device));
        }
        const std::vector<store::PlannedJob> jobs = plan_sweep(*spec, fleet, max_jobs);
        const int64_t sweep_id = store.create_sweep(spec->name, body->dump(), jobs, now_s);
        // Devices given jobs whose agents are gone: their jobs wait until an
        // agent comes back, which the user should hear now, not at `wait`.
        json offline = json::array();
        for (const FleetDevice& device : fleet) {
          const bool planned = std::any_of(jobs.begin(), jobs.end(), [&](const auto& job) {
            return job.device_id == device.id;
          });
          if (planned && !device.online) offline.push_back(device.name);
        }
        return http::json_response(
            201, {{"sweep_id", sweep_id}, {"jobs", jobs.size()}, {"offline_devices", offline}});
      },
      std::move(responder), /*may_make_work=*/true);
}

http::Response CoordinatorService::sweep_status(const http::Request& request) {
  require_admin(request);
  const int64_t sweep_id = path_id(request, "id");
  store::SweepStatus status;
  try {
    status = stores_.local().sweep_status(sweep_id);
  } catch (const InputError& error) {
    throw ApiError(ErrorCode::kNotFound, error.what());
  }
  json devices = json::array();
  for (const store::DeviceJobCounts& device : status.per_device) {
    devices.push_back({{"device_id", device.device_id ? json(*device.device_id) : json(nullptr)},
                       {"device", device.device},
                       {"jobs", state_counts(device.jobs)}});
  }
  json kinds = json::array();
  for (const auto& [kind, counts] : status.per_kind) {
    kinds.push_back({{"kind", kind}, {"jobs", state_counts(counts)}});
  }
  json failures = json::array();
  for (const store::FailedJob& failed : status.failures) {
    failures.push_back({{"job_id", failed.job_id},
                        {"kind", failed.kind},
                        {"device", failed.device},
                        {"attempts", failed.attempts},
                        {"error", failed.error}});
  }
  return http::json_response(
      200, {{"sweep_id", status.id},
            {"name", status.name},
            {"state", status.state},
            {"created_at_s", status.created_at_s},
            {"finished_at_s", status.finished_at_s ? json(*status.finished_at_s) : json(nullptr)},
            {"jobs", state_counts(status.jobs)},
            {"devices", devices},
            {"kinds", kinds},
            {"failures", failures}});
}

void CoordinatorService::cancel_sweep(http::Request request, http::Responder responder) {
  require_admin(request);
  const int64_t sweep_id = path_id(request, "id");
  writer_->submit(
      [sweep_id](store::Store& store) -> std::optional<http::Response> {
        try {
          store.cancel_sweep(sweep_id, unix_now_s());
        } catch (const InputError& error) {
          throw ApiError(ErrorCode::kNotFound, error.what());
        }
        return http::json_response(200, {{"sweep_id", sweep_id}, {"state", "cancelled"}});
      },
      std::move(responder), /*may_make_work=*/false);
}

http::Response CoordinatorService::devices(const http::Request& request) {
  require_admin(request);
  // Agents long-poll far more often than the lease TTL, so one unseen for
  // that long is gone (store::device_state).
  const double now = unix_now_s();
  json out = json::array();
  for (const store::DeviceRow& row : stores_.local().devices()) {
    out.push_back({{"id", row.id},
                   {"name", row.name},
                   {"kind", row.kind},
                   {"simulated", row.simulated},
                   {"state", store::device_state(row, now, options_.lease_ttl_s)},
                   {"retired_at_s", row.retired_at_s ? json(*row.retired_at_s) : json(nullptr)},
                   {"active_leases", row.active_leases},
                   {"tags", json::parse(row.tags_json)},
                   {"agents", row.agents},
                   {"agent_version", row.agent_version},
                   {"agent_git_sha", row.agent_git_sha},
                   {"first_seen_s", row.first_seen_s},
                   {"last_seen_s", row.last_seen_s},
                   {"facts", json::parse(row.facts_json)}});
  }
  return http::json_response(200, {{"devices", out}});
}

void CoordinatorService::sql(http::Request request, http::Responder responder) {
  require_admin(request);
  on_sql_threads(std::move(request), responder, &CoordinatorService::run_sql);
}

void CoordinatorService::on_sql_threads(
    http::Request request, http::Responder responder,
    http::Response (CoordinatorService::*work)(const http::Request&)) {
  auto shared = std::make_shared<http::Request>(std::move(request));
  const bool queued = sql_queries_.post([this, shared, responder, work]() {
    try {
      responder.send((this->*work)(*shared));
    } catch (...) {
      responder.send(http::error_response_for(std::current_exception()));
    }
  });
  if (!queued) {
    throw ApiError(ErrorCode::kTooManyQueries,
                   fmt::format("{} SQL queries and reports are waiting already; retry when they "
                               "are done",
                               options_.sql_max_waiting));
  }
}

http::Response CoordinatorService::run_sql(const http::Request& request) {
  const json body = parse_body(request);
  const JsonFields fields(body, "sql request");
  fields.reject_unknown({"sql", "max_rows", "timeout_ms"});
  // A caller may ask for less than the server's limits, never more.
  store::QueryLimits limits{options_.sql_max_rows, options_.sql_max_bytes, options_.sql_timeout};
  if (fields.has("max_rows")) {
    limits.max_rows = std::min(limits.max_rows, fields.integer("max_rows", 1));
  }
  if (fields.has("timeout_ms")) {
    limits.timeout =
        std::min(limits.timeout, std::chrono::milliseconds(fields.integer("timeout_ms", 1)));
  }
  const store::QueryResult result =
      store::run_read_only_query(stores_.path(), fields.text("sql"), limits);
  return http::json_response(
      200,
      {{"columns", result.columns},
       {"rows", result.rows},
       {"truncated", result.truncated},
       {"truncated_by", result.truncated_by.empty() ? json(nullptr) : json(result.truncated_by)}});
}

}  // namespace tailsweep::coordinator
