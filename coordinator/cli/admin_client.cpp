#include "coordinator/cli/admin_client.h"

#include <fmt/format.h>

#include "common/util/coordinator_url.h"
#include "common/util/errors.h"
#include "common/util/http_client.h"
#include "common/wire/protocol.h"
#include "common/wire/strict_json.h"

namespace tailsweep::cli {

void add_admin_connection_options(CLI::App* command, AdminConnection& connection,
                                  bool coordinator_required) {
  auto* url = command->add_option("--coordinator", connection.url,
                                  "coordinator URL, e.g. http://127.0.0.1:8470");
  if (coordinator_required) url->required();
  command->add_option("--admin-token", connection.token.value,
                      "admin token (or --admin-token-file, or $TAILSWEEP_ADMIN_TOKEN)");
  command->add_option("--admin-token-file", connection.token.file, "file holding it")
      ->check(CLI::ExistingFile);
  command->add_option("--ca-cert", connection.ca_cert, "PEM CA to verify an https coordinator")
      ->check(CLI::ExistingFile);
}

nlohmann::json admin_call(const AdminConnection& connection, std::string_view method,
                          std::string_view path, const nlohmann::json& body) {
  const std::string url = checked_coordinator_url(connection.url);
  const std::string token = resolve_secret(connection.token, "admin token");
  HttpClient client(ClientOptions{url, connection.ca_cert});
  HttpResult result;
  try {
    result = client.request(method, path, body.is_null() ? std::string() : body.dump(), token);
  } catch (const TransportError& error) {
    throw std::runtime_error(
        fmt::format("cannot reach the coordinator: {}{}", error.what(), error.hint()));
  }
  if (result.status < 200 || result.status >= 300) {
    const protocol::ErrorBody error = protocol::parse_error_body(result.body);
    throw InputError(
        fmt::format("coordinator answered {} {}: {}", result.status, error.code, error.message));
  }
  try {
    return parse_strict_json(result.body, "the coordinator's answer");
  } catch (const InputError& error) {
    throw std::runtime_error(error.what());  // the coordinator's fault, not the user's
  }
}

}  // namespace tailsweep::cli
