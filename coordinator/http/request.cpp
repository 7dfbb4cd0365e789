#include "coordinator/http/request.h"

namespace tailsweep::http {

Response json_response(unsigned status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  // Replace invalid UTF-8 instead of throwing: an error message may quote
  // client input, and answering must never fail.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Response error_response(ErrorCode code, std::string_view message) {
  return json_response(http_status(code), {{"error",
                                            {{"code", std::string(to_string(code))},
                                             {"message", std::string(message)}}}});
}

}  // namespace tailsweep::http
