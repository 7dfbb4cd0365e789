#include "coordinator/http/router.h"

#include <atomic>
#include <cstdio>
#include <stdexcept>

#include <fmt/core.h>

#include "common/util/errors.h"
#include "coordinator/http/url.h"

namespace tailsweep::http {

// ---- Responder -------------------------------------------------------------

class Responder::State {
 public:
  explicit State(Sink sink) : sink_(std::move(sink)) {}
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  ~State() {
    if (sent_.load()) return;
    // The last copy went away unanswered (a handler bug, or a queue shut down
    // under a long-poll): answer rather than leave the client hanging.
    std::fputs("tailsweep http: a handler dropped its responder without answering\n", stderr);
    try {
      sink_(error_response(ErrorCode::kInternal, "the handler finished without a response"));
    } catch (...) {
      // Destructors must not throw; the connection's own timeouts clean up.
    }
  }

  void send(Response response) {
    if (sent_.exchange(true)) return;
    Sink sink = std::move(sink_);  // only the winner touches sink_ after the exchange
    sink(std::move(response));     // and dropping it here releases the connection early
  }

  bool sent() const { return sent_.load(); }

 private:
  std::atomic<bool> sent_{false};
  Sink sink_;
};

Responder::Responder(Sink sink) : state_(std::make_shared<State>(std::move(sink))) {}

void Responder::send(Response response) const { state_->send(std::move(response)); }

bool Responder::sent() const { return state_->sent(); }

// ---- errors ----------------------------------------------------------------

Response error_response_for(std::exception_ptr error) {
  if (!error) return error_response(ErrorCode::kInternal, "internal server error");
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    return error_response(e.code(), e.what());
  } catch (const InputError& e) {
    return error_response(ErrorCode::kBadRequest, e.what());
  } catch (const nlohmann::json::exception& e) {
    return error_response(ErrorCode::kInvalidJson, e.what());
  } catch (const std::exception& e) {
    // Internal details go to the log, not to the client.
    std::fputs(fmt::format("tailsweep http: internal error: {}\n", e.what()).c_str(), stderr);
  } catch (...) {
    std::fputs("tailsweep http: internal error: a non-standard exception\n", stderr);
  }
  return error_response(ErrorCode::kInternal, "internal server error");
}

// ---- routing ---------------------------------------------------------------

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

}  // namespace

void Router::add(std::string method, std::string_view pattern, Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument(fmt::format("route pattern \"{}\" must start with '/'", pattern));
  }
  if (method.empty() || !handler) {
    throw std::invalid_argument(fmt::format("route \"{}\" needs a method and a handler", pattern));
  }
  Route route{std::move(method), std::string(pattern), {}, std::move(handler)};
  for (std::string_view segment : split_path(pattern)) {
    const bool is_parameter = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
    const std::string_view text = is_parameter ? segment.substr(1, segment.size() - 2) : segment;
    if (text.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument(
          fmt::format("route pattern \"{}\": a parameter must be a whole segment", pattern));
    }
    route.segments.push_back({std::string(text), is_parameter});
  }
  for (const Route& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      throw std::invalid_argument(
          fmt::format("route {} {} is already in the table", route.method, route.pattern));
    }
  }
  routes_.push_back(std::move(route));
}

void Router::add_sync(std::string method, std::string_view pattern, SyncHandler handler) {
  if (!handler) throw std::invalid_argument(fmt::format("route \"{}\" needs a handler", pattern));
  add(std::move(method), pattern,
      [handler = std::move(handler)](Request request, Responder responder) {
        responder.send(handler(request));
      });
}

void Router::dispatch(Request request, Responder responder) const noexcept {
  try {
    std::vector<std::string> segments;
    for (std::string_view segment : split_path(request.path)) {
      segments.push_back(percent_decode(segment));
    }
    const auto matches = [&segments](const Route& route) {
      if (route.segments.size() != segments.size()) return false;
      for (std::size_t i = 0; i < segments.size(); ++i) {
        const Segment& expected = route.segments[i];
        if (expected.is_parameter ? segments[i].empty() : expected.text != segments[i]) {
          return false;
        }
      }
      return true;
    };

    std::string allowed_methods;  // for 405's Allow header, e.g. "GET, POST"
    for (const Route& route : routes_) {
      if (!matches(route)) continue;
      if (route.method != request.method) {
        allowed_methods += allowed_methods.empty() ? route.method : ", " + route.method;
        continue;
      }
      for (std::size_t i = 0; i < segments.size(); ++i) {
        if (route.segments[i].is_parameter) {
          request.path_params[route.segments[i].text] = std::move(segments[i]);
        }
      }
      route.handler(std::move(request), responder);
      return;
    }
    if (allowed_methods.empty()) {
      responder.send(error_response(ErrorCode::kNotFound, "no route for this path"));
      return;
    }
    Response response = error_response(ErrorCode::kMethodNotAllowed,
        fmt::format("{} is not allowed here; allowed: {}", request.method, allowed_methods));
    response.headers.emplace_back("Allow", allowed_methods);
    responder.send(std::move(response));
  } catch (...) {
    // Also covers a handler that sent and then threw: the second send is ignored.
    responder.send(error_response_for(std::current_exception()));
  }
}

}  // namespace tailsweep::http
