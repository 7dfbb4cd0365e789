// The one route table of the coordinator (docs/protocol.md lists each
// route's body, statuses and errors), and /metrics.
#include <fmt/format.h>

#include "coordinator/http/prometheus.h"
#include "coordinator/service/coordinator_service.h"

namespace tailsweep::coordinator {

http::Router CoordinatorService::router() {
  http::Router router;
  const auto sync = [this](http::Response (CoordinatorService::*handler)(const http::Request&)) {
    return [this, handler](const http::Request& request) { return (this->*handler)(request); };
  };
  // Writers answer after the group commit. What they throw before queueing
  // (bad token, bad body) answers at once.
  const auto async = [this](void (CoordinatorService::*handler)(http::Request, http::Responder)) {
    return [this, handler](http::Request request, http::Responder responder) {
      try {
        (this->*handler)(std::move(request), responder);
      } catch (...) {
        responder.send(http::error_response_for(std::current_exception()));
      }
    };
  };
  router.add_sync("GET", "/healthz", sync(&CoordinatorService::healthz));
  router.add_sync("GET", "/metrics", sync(&CoordinatorService::metrics));
  // the dashboard's page and assets (no token: they hold none; docs/dashboard.md)
  router.add_sync("GET", "/", sync(&CoordinatorService::dashboard_page));
  router.add_sync("GET", "/assets/{name}", sync(&CoordinatorService::dashboard_asset));
  // agents
  router.add("POST", "/v1/agents/register", async(&CoordinatorService::register_agent));
  router.add("POST", "/v1/lease", async(&CoordinatorService::lease));
  router.add("POST", "/v1/jobs/{id}/heartbeat", async(&CoordinatorService::heartbeat));
  router.add("POST", "/v1/jobs/{id}/result", async(&CoordinatorService::result));
  router.add("POST", "/v1/jobs/{id}/failure", async(&CoordinatorService::failure));
  router.add("POST", "/v1/agents/goodbye", async(&CoordinatorService::agent_goodbye));
  // users (admin token)
  router.add("POST", "/v1/sweeps", async(&CoordinatorService::create_sweep));
  router.add_sync("GET", "/v1/sweeps", sync(&CoordinatorService::sweeps));
  router.add_sync("GET", "/v1/sweeps/{id}", sync(&CoordinatorService::sweep_status));
  router.add("GET", "/v1/sweeps/{id}/report", async(&CoordinatorService::sweep_report));
  router.add("POST", "/v1/sweeps/{id}/cancel", async(&CoordinatorService::cancel_sweep));
  router.add_sync("GET", "/v1/devices", sync(&CoordinatorService::devices));
  router.add("POST", "/v1/devices/{name}/retire", async(&CoordinatorService::retire_device));
  router.add("POST", "/v1/sql", async(&CoordinatorService::sql));
  return router;
}

http::Response CoordinatorService::metrics(const http::Request&) {
  using http::MetricFamily;
  using http::MetricType;
  const store::QueueCounts counts = stores_.local().queue_counts();
  std::vector<MetricFamily> families;
  MetricFamily jobs{"tailsweep_jobs", "Jobs by state", MetricType::gauge, {}};
  for (const auto& [state, count] : counts.jobs) {
    jobs.samples.push_back({{{"state", state}}, static_cast<double>(count)});
  }
  families.push_back(std::move(jobs));
  const auto gauge = [&](const char* name, const char* help, double value) {
    families.push_back({name, help, MetricType::gauge, {{{}, value}}});
  };
  gauge("tailsweep_queue_depth", "Jobs queued and ready to lease",
        static_cast<double>(counts.jobs.count("queued") ? counts.jobs.at("queued") : 0));
  gauge("tailsweep_active_leases", "Jobs leased to an agent now",
        static_cast<double>(counts.active_leases));
  gauge("tailsweep_agents", "Agents registered", static_cast<double>(counts.agents));
  gauge("tailsweep_devices", "Devices known", static_cast<double>(counts.devices));
  gauge("tailsweep_lease_waiters", "Agents long-polling for work now",
        static_cast<double>(waiters_.waiting()));
  families.push_back({"tailsweep_results_total",
                      "Results posted, by outcome",
                      MetricType::counter,
                      {{{{"outcome", "accepted"}}, static_cast<double>(results_accepted_.load())},
                       {{{"outcome", "refused"}}, static_cast<double>(results_refused_.load())}}});
  if (server_stats_) {
    const http::ServerStats stats = server_stats_();
    gauge("tailsweep_http_open_connections", "Open HTTP connections",
          static_cast<double>(stats.open_connections));
    gauge("tailsweep_http_buffered_body_bytes",
          "Request body bytes reserved by requests being read or handled",
          static_cast<double>(stats.buffered_body_bytes));
    families.push_back({"tailsweep_http_requests_total",
                        "HTTP requests read",
                        MetricType::counter,
                        {{{}, static_cast<double>(stats.requests_total)}}});
    MetricFamily responses{"tailsweep_http_responses_total",
                           "HTTP responses by status class",
                           MetricType::counter,
                           {}};
    for (std::size_t i = 0; i < stats.responses_by_class.size(); ++i) {
      responses.samples.push_back({{{"class", fmt::format("{}xx", i + 1)}},
                                   static_cast<double>(stats.responses_by_class[i])});
    }
    families.push_back(std::move(responses));
  }
  http::Response response;
  response.body = http::render_prometheus(families);
  response.content_type = std::string(http::kPrometheusContentType);
  return response;
}

}  // namespace tailsweep::coordinator
