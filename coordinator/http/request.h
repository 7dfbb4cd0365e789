#pragma once
// The request and response every route handler sees, independent of the HTTP
// library underneath (no Beast or Asio here, so route code compiles fast), and
// the one JSON error shape: {"error": {"code": "...", "message": "..."}}.
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/util/text.h"
#include "common/wire/error_codes.h"

namespace tailsweep::http {

struct Request {
  std::string method;                        // "GET", "POST", ... as sent
  std::string path;                          // the target up to '?', still percent-encoded
  std::map<std::string, std::string> query;  // percent-decoded; a repeated key keeps the last
  std::map<std::string, std::string>
      path_params;  // "{id}" segments of the matched pattern, decoded
  std::string body;
  std::string bearer_token;  // from "Authorization: Bearer ...", empty if none
  std::string remote_address;
};

struct Response {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  // Extra headers; the server sets Content-Type, Content-Length and Connection itself.
  std::vector<std::pair<std::string, std::string>> headers;
};

// Thrown by handlers to answer with an error of the one table
// (common/wire/error_codes.h), which gives its HTTP status; clients branch
// on the code, the message is for people.
class ApiError : public std::runtime_error {
 public:
  // The message is made printable for the same reason as InputError's.
  ApiError(ErrorCode code, std::string_view message)
      : std::runtime_error(printable(message)), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

Response json_response(unsigned status, const nlohmann::json& body);
// {"error": {"code": "<its name>", "message": message}}, with the code's status.
Response error_response(ErrorCode code, std::string_view message);

}  // namespace tailsweep::http
