#pragma once
// The shared shape of both executables' main(): parse, run the chosen
// subcommand, and turn every failure into one line on stderr with an exit
// code (2 for bad input, 1 for anything else), never a stack trace.
#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <exception>
#include <string>

#include "common/errors.h"
#include "tailsweep/build_info.h"

namespace tailsweep {

inline std::string version_line(const std::string& program) {
  return fmt::format("{} {} ({}, {}, {})", program, build_info::kVersion, build_info::kGitSha,
                     build_info::kBuildType, build_info::kCompiler);
}

inline int run_cli(CLI::App& app, int argc, char** argv, const std::string& program) {
  app.set_version_flag("--version", version_line(program));
  app.failure_message([program](const CLI::App*, const CLI::Error& error) {
    return fmt::format("{}: error: {} (see --help)\n", program, error.what());
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const InputError& error) {
    fmt::print(stderr, "{}: error: {}\n", program, error.what());
    return 2;
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}: failed: {}\n", program, error.what());
    return 1;
  }
  return 0;
}

}  // namespace tailsweep
