#include "agent/fleet/coordinator_client.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/util/errors.h"
#include "common/wire/error_codes.h"
#include "common/wire/strict_json.h"

namespace tailsweep::agent {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// How long past the server's own wait a long-poll may take before the
// client gives up on it (a slow network, a busy coordinator).
constexpr milliseconds kLongPollMargin{15'000};
// A heartbeat that takes longer than this is not going to help the lease.
constexpr milliseconds kHeartbeatTimeout{10'000};

std::string describe(const HttpResult& answer) {
  const protocol::ErrorBody error = protocol::parse_error_body(answer.body);
  return fmt::format("{} {}: {}", answer.status, error.code, error.message);
}

// The answer's code from the one error table; nullopt for a code this
// build does not know, or a body that is not an error.
std::optional<ErrorCode> error_code(const HttpResult& answer) {
  return parse_error_code(protocol::parse_error_body(answer.body).code);
}

// The answers every route treats alike: 401 means the token is unknown;
// 5xx and 429 mean "try again later".
void throw_if_unauthorized_or_unavailable(const HttpResult& answer, std::string_view route) {
  if (answer.status == 401) {
    throw Unauthorized(fmt::format("{}: the coordinator does not accept this token ({})", route,
                                   describe(answer)));
  }
  if (answer.status >= 500 || answer.status == 429) {
    throw CoordinatorUnavailable(fmt::format("{}: {}", route, describe(answer)), answer.status);
  }
}

[[noreturn]] void throw_unexpected(const HttpResult& answer, std::string_view route) {
  throw UnexpectedAnswer(fmt::format("{}: unexpected answer {}", route, describe(answer)),
                         answer.status);
}

// A 2xx body's "outcome" field, or UnexpectedAnswer.
std::string outcome_field(const HttpResult& answer, std::string_view route) {
  try {
    return parse_strict_json(answer.body, "the answer").at("outcome").get<std::string>();
  } catch (const std::exception&) {  // InputError from the parser, json::exception from at()
    throw UnexpectedAnswer(fmt::format("{}: {} without an \"outcome\": {}", route, answer.status,
                                       printable(answer.body.substr(0, 200))),
                           answer.status);
  }
}

bool is_success(const HttpResult& answer) { return answer.status >= 200 && answer.status < 300; }

// Parses a 2xx body with a strict protocol parser; a body that does not fit
// is the coordinator's fault, not the user's, so it is not an InputError.
template <typename Parse>
auto parse_answer(const HttpResult& answer, std::string_view route, Parse parse) {
  try {
    return parse(parse_strict_json(answer.body, "the answer"));
  } catch (const json::exception& error) {
    throw UnexpectedAnswer(fmt::format("{}: unreadable answer: {}", route, error.what()),
                           answer.status);
  } catch (const InputError& error) {
    throw UnexpectedAnswer(fmt::format("{}: {}", route, error.what()), answer.status);
  }
}

std::string job_path(int64_t job_id, std::string_view what) {
  return fmt::format("/v1/jobs/{}/{}", job_id, what);
}

}  // namespace

std::string_view to_string(ResultOutcome outcome) {
  switch (outcome) {
    case ResultOutcome::accepted:
      return "accepted";
    case ResultOutcome::duplicate:
      return "duplicate";
    case ResultOutcome::stale:
      return "stale";
    case ResultOutcome::conflict:
      return "conflict";
    case ResultOutcome::unknown_job:
      return "unknown_job";
    case ResultOutcome::rejected:
      return "rejected";
  }
  return "?";
}

std::string_view to_string(HeartbeatOutcome outcome) {
  return outcome == HeartbeatOutcome::renewed ? "renewed" : "lease_lost";
}

std::string_view to_string(FailureOutcome outcome) {
  switch (outcome) {
    case FailureOutcome::requeued:
      return "requeued";
    case FailureOutcome::failed:
      return "failed";
    case FailureOutcome::refused:
      return "refused";
  }
  return "?";
}

Answer<ResultOutcome> result_outcome_of(const HttpResult& answer) {
  constexpr std::string_view route = "result";
  throw_if_unauthorized_or_unavailable(answer, route);
  if (is_success(answer)) {
    const std::string outcome = outcome_field(answer, route);
    if (outcome == "accepted") return {ResultOutcome::accepted, ""};
    if (outcome == "duplicate") return {ResultOutcome::duplicate, ""};
    throw_unexpected(answer, route);
  }
  const std::string detail = describe(answer);
  const std::optional<ErrorCode> code = error_code(answer);
  if (code == ErrorCode::kConflict) return {ResultOutcome::conflict, detail};
  // Any other 409 is a lost lease (lease_lost; stale_lease from older
  // coordinators): the job is someone else's now.
  if (answer.status == 409) return {ResultOutcome::stale, detail};
  if (code == ErrorCode::kUnknownJob) return {ResultOutcome::unknown_job, detail};
  // Any other 4xx (a malformed result, a body over the limit, a route this
  // coordinator lacks) will be answered the same way however often it is sent.
  if (answer.status >= 400 && answer.status < 500) return {ResultOutcome::rejected, detail};
  throw_unexpected(answer, route);
}

Answer<HeartbeatOutcome> heartbeat_outcome_of(const HttpResult& answer) {
  constexpr std::string_view route = "heartbeat";
  throw_if_unauthorized_or_unavailable(answer, route);
  if (is_success(answer)) return {HeartbeatOutcome::renewed, ""};
  // 409 lease_lost, or 404: the job is gone altogether. Either way the lease is not ours.
  if (answer.status == 409 || answer.status == 404) {
    return {HeartbeatOutcome::lease_lost, describe(answer)};
  }
  throw_unexpected(answer, route);
}

Answer<FailureOutcome> failure_outcome_of(const HttpResult& answer) {
  constexpr std::string_view route = "failure";
  throw_if_unauthorized_or_unavailable(answer, route);
  if (is_success(answer)) {
    const std::string outcome = outcome_field(answer, route);
    if (outcome == "requeued") return {FailureOutcome::requeued, ""};
    if (outcome == "failed") return {FailureOutcome::failed, ""};
    throw_unexpected(answer, route);
  }
  if (answer.status == 409 || answer.status == 404) {
    return {FailureOutcome::refused, describe(answer)};
  }
  throw_unexpected(answer, route);
}

CoordinatorClient::CoordinatorClient(ClientOptions options, std::string agent_token)
    : options_(options), http_(std::move(options)), agent_token_(std::move(agent_token)) {}

HttpResult CoordinatorClient::post(const std::string& path, const json& body,
                                   const std::string& token, std::optional<milliseconds> timeout) {
  return http_.request("POST", path, body.dump(), token, timeout);
}

protocol::RegisterResponse CoordinatorClient::register_agent(
    const protocol::RegisterRequest& request, const std::string& enrollment_token) {
  constexpr std::string_view route = "register";
  const HttpResult answer =
      post("/v1/agents/register", protocol::to_json(request), enrollment_token);
  if (answer.status == 401) {
    throw Unauthorized(fmt::format("register: the coordinator refused the enrollment token ({})",
                                   describe(answer)));
  }
  throw_if_unauthorized_or_unavailable(answer, route);
  if (!is_success(answer)) throw_unexpected(answer, route);
  protocol::RegisterResponse response = parse_answer(
      answer, route, [](const json& body) { return protocol::parse_register_response(body); });
  agent_token_ = response.token;
  return response;
}

std::optional<protocol::JobAssignment> CoordinatorClient::lease(std::chrono::duration<double> wait,
                                                                const std::atomic<bool>* stop) {
  constexpr std::string_view route = "lease";
  const double wait_s = std::clamp(wait.count(), 0.0, protocol::kMaxLeaseWaitS);
  const auto timeout =
      std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(wait_s)) +
      kLongPollMargin;
  const HttpResult answer =
      http_.request("POST", "/v1/lease", protocol::to_json(protocol::LeaseRequest{wait_s}).dump(),
                    agent_token_, timeout, stop);
  throw_if_unauthorized_or_unavailable(answer, route);
  if (!is_success(answer)) throw_unexpected(answer, route);
  return parse_answer(answer, route,
                      [](const json& body) { return protocol::parse_lease_response(body); })
      .job;
}

bool CoordinatorClient::goodbye(milliseconds timeout) {
  try {
    return is_success(post("/v1/agents/goodbye", json::object(), agent_token_, timeout));
  } catch (const TransportError&) {
    return false;
  }
}

Answer<HeartbeatOutcome> CoordinatorClient::heartbeat(int64_t job_id, const std::string& lease_id) {
  return heartbeat_outcome_of(post(job_path(job_id, "heartbeat"),
                                   protocol::to_json(protocol::HeartbeatRequest{lease_id}),
                                   agent_token_, kHeartbeatTimeout));
}

Answer<ResultOutcome> CoordinatorClient::post_result(int64_t job_id, const std::string& lease_id,
                                                     const json& result) {
  return result_outcome_of(post(job_path(job_id, "result"),
                                protocol::to_json(protocol::ResultRequest{lease_id, result}),
                                agent_token_));
}

Answer<FailureOutcome> CoordinatorClient::post_failure(int64_t job_id, const std::string& lease_id,
                                                       const std::string& error) {
  return failure_outcome_of(post(job_path(job_id, "failure"),
                                 protocol::to_json(protocol::FailureRequest{lease_id, error}),
                                 agent_token_));
}

// ---- HeartbeatLoop ----

HeartbeatLoop::HeartbeatLoop(ClientOptions options, std::string agent_token, int64_t job_id,
                             std::string lease_id, milliseconds interval, Log log)
    : options_(std::move(options)),
      agent_token_(std::move(agent_token)),
      job_id_(job_id),
      lease_id_(std::move(lease_id)),
      // A floor so that a nonsense interval from the coordinator cannot spin.
      interval_(std::max(interval, milliseconds{10})),
      log_(std::move(log)),
      thread_([this] { run(); }) {}

HeartbeatLoop::~HeartbeatLoop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool HeartbeatLoop::stop_requested_within(milliseconds delay) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, delay, [this] { return stopping_; });
}

void HeartbeatLoop::run() {
  // Its own connection: HttpClient is one per thread.
  CoordinatorClient client(options_, agent_token_);
  while (!stop_requested_within(interval_)) {
    try {
      const Answer<HeartbeatOutcome> answer = client.heartbeat(job_id_, lease_id_);
      if (answer.outcome == HeartbeatOutcome::renewed) {
        ++renewals_;
        continue;
      }
      lease_lost_ = true;
      log_(fmt::format("job {}: lease lost ({}); stopping the job at its next sample", job_id_,
                       answer.detail));
      return;
    } catch (const Unauthorized& error) {
      lease_lost_ = true;
      log_(fmt::format("job {}: lease lost: {}", job_id_, error.what()));
      return;
    } catch (const std::exception& error) {
      // No answer, 5xx, or something odd: the lease outlives a few missed beats.
      log_(fmt::format("job {}: heartbeat failed, next in {} ms: {}", job_id_, interval_.count(),
                       error.what()));
    }
  }
}

}  // namespace tailsweep::agent
