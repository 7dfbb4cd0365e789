// tailsweep serve: the coordinator (docs/protocol.md). Migrates the database,
// listens, and serves until SIGINT or SIGTERM.
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/core.h>

#include "common/util/errors.h"
#include "common/util/parse.h"
#include "common/util/secrets.h"
#include "coordinator/cli/commands.h"
#include "coordinator/http/connection_limit.h"
#include "coordinator/http/server.h"
#include "coordinator/service/coordinator_service.h"
#include "coordinator/store/store.h"

namespace tailsweep::cli {
namespace {

struct ServeOptions {
  std::string db;
  std::string listen = "127.0.0.1:8470";
  SecretSource enroll{{}, {}, "TAILSWEEP_ENROLL_TOKEN"};
  SecretSource admin{{}, {}, "TAILSWEEP_ADMIN_TOKEN"};
  std::string tls_cert;
  std::string tls_key;
  double lease_ttl_s = 60;
  double heartbeat_interval_s = 10;
  std::size_t max_body_bytes = 16 << 20;
  std::size_t max_buffered_body_bytes = 256 << 20;
  std::optional<std::size_t> max_connections;  // default: what the open-file limit allows
  int io_threads = 1;
  int worker_threads = 2;
  std::size_t max_sweep_jobs = coordinator::kDefaultMaxSweepJobs;
  std::size_t sql_max_bytes = store::kDefaultMaxAnswerBytes;
  std::string port_file;
};

std::pair<std::string, uint16_t> parse_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  const auto port =
      colon == std::string::npos ? std::nullopt : parse_integer(listen.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) {
    throw InputError(
        fmt::format("--listen {}: expected ADDRESS:PORT (port 0 picks a free one)", listen));
  }
  std::string address = listen.substr(0, colon);
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
    address = address.substr(1, address.size() - 2);  // [::1]:8470
  }
  return {address, static_cast<uint16_t>(*port)};
}

void run_serve(const ServeOptions& options) {
  coordinator::CoordinatorOptions service_options;
  service_options.db_path = options.db;
  service_options.enroll_token = resolve_secret(options.enroll, "enrollment token");
  service_options.admin_token = resolve_secret(options.admin, "admin token");
  if (service_options.enroll_token == service_options.admin_token) {
    throw InputError("the enrollment and admin tokens must differ: agents hold the first");
  }
  if (!(options.lease_ttl_s > 0) || !(options.heartbeat_interval_s > 0) ||
      options.heartbeat_interval_s >= options.lease_ttl_s) {
    throw InputError("--heartbeat-interval must be positive and shorter than --lease-ttl");
  }
  service_options.lease_ttl_s = options.lease_ttl_s;
  service_options.heartbeat_interval_s = options.heartbeat_interval_s;
  service_options.max_sweep_jobs = options.max_sweep_jobs;
  service_options.sql_max_bytes = options.sql_max_bytes;
  const store::MigrationReport migration = store::Store::migrate(options.db);

  http::ServerOptions server_options;
  std::tie(server_options.address, server_options.port) = parse_listen(options.listen);
  server_options.max_body_bytes = options.max_body_bytes;
  server_options.max_buffered_body_bytes = options.max_buffered_body_bytes;
  // Each agent holds a connection, and each connection a file descriptor:
  // the default is what the (raised) open-file limit leaves.
  // Besides the fixed reserve, each thread may hold a database connection
  // (with its WAL and shared memory): the I/O, worker and two SQL threads.
  const http::OpenFileLimit open_files = http::raise_open_file_limit();
  const std::size_t reserved =
      http::kReservedDescriptors +
      3 * static_cast<std::size_t>(options.io_threads + options.worker_threads + 2);
  const std::size_t fits =
      http::connections_within(open_files.soft, reserved, std::numeric_limits<std::size_t>::max());
  if (options.max_connections && *options.max_connections > fits) {
    throw InputError(fmt::format(
        "--max-connections {} needs about {} open files; this process may open {}{} (raise "
        "the hard limit with `ulimit -Hn` or LimitNOFILE=)",
        *options.max_connections, *options.max_connections + reserved, open_files.soft,
        open_files.soft < open_files.hard ? fmt::format(" of its hard limit {}", open_files.hard)
                                          : std::string(", its hard limit")));
  }
  server_options.max_connections =
      options.max_connections.value_or(http::connections_within(open_files.soft, reserved));
  server_options.io_threads = options.io_threads;
  server_options.worker_threads = options.worker_threads;
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      throw InputError("TLS needs both --tls-cert and --tls-key");
    }
    server_options.tls = http::TlsFiles{options.tls_cert, options.tls_key};
  }

  coordinator::CoordinatorService service(service_options);
  http::Server server(server_options, service.router());
  service.set_server_stats([&server] { return server.stats(); });
  const std::string scheme = server_options.tls ? "https" : "http";
  if (!options.port_file.empty()) {
    std::ofstream(options.port_file) << server.port() << "\n";
  }
  fmt::print(stderr,
             "tailsweep: serving {}://{}:{} (database {}, schema v{}{}); up to {} connections, "
             "one per agent (open-file limit {}{})\n",
             scheme, server_options.address, server.port(), options.db, migration.to_version,
             migration.from_version == migration.to_version
                 ? std::string()
                 : fmt::format(", migrated from v{}", migration.from_version),
             server_options.max_connections, open_files.soft,
             open_files.raised ? ", raised to the hard limit" : "");
  print_step_backfill(migration.step_backfill, stderr);
  server.run_until_signal();
  fmt::print(stderr, "tailsweep: stopped\n");
}

}  // namespace

void register_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand(
      "serve",
      "Run the coordinator: agents register, long-poll for jobs and post results; users submit "
      "sweeps and query results (docs/protocol.md). Stops cleanly on SIGINT/SIGTERM.");
  command->footer(
      "Example:\n  tailsweep serve --db results.db --listen 127.0.0.1:8470 --enroll-token-file "
      "enroll.token --admin-token-file admin.token");
  command->add_option("--db", options->db, "SQLite database file (created and migrated)")
      ->required();
  command->add_option("--listen", options->listen, "ADDRESS:PORT (port 0: any free port)")
      ->capture_default_str();
  command->add_option("--enroll-token", options->enroll.value,
                      "token agents present to register (or --enroll-token-file, or "
                      "$TAILSWEEP_ENROLL_TOKEN)");
  command->add_option("--enroll-token-file", options->enroll.file, "file holding it")
      ->check(CLI::ExistingFile);
  command->add_option("--admin-token", options->admin.value,
                      "token for sweeps, devices and SQL (or --admin-token-file, or "
                      "$TAILSWEEP_ADMIN_TOKEN)");
  command->add_option("--admin-token-file", options->admin.file, "file holding it")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-cert", options->tls_cert, "PEM certificate chain: serve HTTPS")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-key", options->tls_key, "PEM private key of --tls-cert")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--lease-ttl", options->lease_ttl_s, "seconds a lease lives without a heartbeat")
      ->capture_default_str();
  command
      ->add_option("--heartbeat-interval", options->heartbeat_interval_s,
                   "seconds between an agent's heartbeats (told to agents)")
      ->capture_default_str();
  command->add_option("--max-body-bytes", options->max_body_bytes, "largest request body (413)")
      ->capture_default_str();
  command
      ->add_option("--max-buffered-body-bytes", options->max_buffered_body_bytes,
                   "request bodies all connections together may be sending or have handled at "
                   "once, by their Content-Length (beyond it: 503 too_many_bodies)")
      ->capture_default_str();
  command->add_option("--max-connections", options->max_connections,
                      "open connections at most, one per agent (default: what the open-file "
                      "limit, raised to its hard limit, leaves after 64 and 3 per thread, at most "
                      "65536)");
  command->add_option("--io-threads", options->io_threads, "network threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  command
      ->add_option("--worker-threads", options->worker_threads,
                   "threads for handlers (SQLite work stays off the network threads)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  command
      ->add_option("--max-sweep-jobs", options->max_sweep_jobs,
                   "most jobs one sweep may plan (a larger sweep is refused with 400)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}));
  command
      ->add_option("--sql-max-bytes", options->sql_max_bytes,
                   "largest answer of one /v1/sql query (rows past it are dropped and the "
                   "answer marked truncated)")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 30));
  command->add_option("--port-file", options->port_file,
                      "write the bound port here (useful with port 0)");
  command->callback([options] { run_serve(*options); });
}

}  // namespace tailsweep::cli
