#pragma once
// The one route table. Handlers are asynchronous: they get the request and a
// Responder, and may answer later from any thread (the lease route long-polls
// without holding a thread). Nothing a handler throws gets past the router.
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "coordinator/http/request.h"

namespace tailsweep::http {

// A copyable, thread-safe handle that answers one request. The first send()
// wins and later ones are ignored. If every copy is destroyed without a send,
// the client gets 500 "internal" instead of waiting forever.
class Responder {
 public:
  using Sink = std::function<void(Response)>;
  // sink is called at most once, on whichever thread sends (or drops the last copy).
  explicit Responder(Sink sink);

  void send(Response response) const;
  bool sent() const;

 private:
  class State;
  std::shared_ptr<State> state_;
};

using Handler = std::function<void(Request, Responder)>;
using SyncHandler = std::function<Response(const Request&)>;

// Maps the exception being handled (or any exception_ptr) to the error
// response the router would give, so async handlers that catch on another
// thread answer exactly like synchronous ones:
//   ApiError -> its status and code; tailsweep::InputError -> 400 bad_request;
//   nlohmann::json exceptions -> 400 invalid_json; anything else -> 500
//   internal (its message logged to stderr, not sent).
Response error_response_for(std::exception_ptr error);

class Router {
 public:
  // pattern: "/v1/jobs/{id}/result"; a "{name}" segment matches any one
  // non-empty segment and fills path_params[name]. Throws std::invalid_argument
  // for a malformed pattern or a (method, pattern) pair added twice.
  void add(std::string method, std::string_view pattern, Handler handler);
  void add_sync(std::string method, std::string_view pattern, SyncHandler handler);

  // Finds the route for request.method and request.path, fills path_params and
  // runs its handler. Unknown path: 404 not_found; known path with another
  // method: 405 method_not_allowed with an Allow header. Never throws.
  void dispatch(Request request, Responder responder) const noexcept;

 private:
  struct Segment {
    std::string text;  // a literal, or the parameter name when is_parameter
    bool is_parameter = false;
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };

  std::vector<Route> routes_;
};

}  // namespace tailsweep::http
