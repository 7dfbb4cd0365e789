#pragma once
// The user commands that talk to a running coordinator (sweep, devices,
// sql --coordinator) share these flags and this call.
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/util/secrets.h"

namespace tailsweep::cli {

struct AdminConnection {
  std::string url;
  SecretSource token{{}, {}, "TAILSWEEP_ADMIN_TOKEN"};
  std::string ca_cert;
};

// --coordinator URL (required unless optional), --admin-token[-file], --ca-cert.
void add_admin_connection_options(CLI::App* command, AdminConnection& connection,
                                  bool coordinator_required = true);

// One call with the admin token. Non-2xx answers become InputError with the
// coordinator's error code and message; no answer at all is a runtime_error
// naming the URL.
nlohmann::json admin_call(const AdminConnection& connection, std::string_view method,
                          std::string_view path, const nlohmann::json& body = nullptr);

}  // namespace tailsweep::cli
