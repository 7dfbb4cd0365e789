#pragma once
// The shared shape of both executables' main(): parse, run the chosen
// subcommand, and turn every failure into one line on stderr with an exit
// code (2 for bad input, 1 for anything else), never a stack trace.
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include "common/util/errors.h"
#include "common/util/parse.h"
#include "common/util/text.h"
#include "tailsweep/build_info.h"

namespace tailsweep {

inline std::string version_line(const std::string& program) {
  return fmt::format("{} {} ({}, {}, {})", program, build_info::kVersion, build_info::kGitSha,
                     build_info::kBuildType, build_info::kCompiler);
}

// Number checks whose errors read plainly: CLI11's own NonNegativeNumber and
// PositiveNumber print the range up to DBL_MAX in full.
namespace cli {

inline CLI::Validator number_check(bool (*accept)(double), const char* what) {
  return CLI::Validator(
      [accept, what](std::string& text) -> std::string {
        double value = 0;
        if (!CLI::detail::lexical_cast(text, value))
          return fmt::format("'{}' is not a number", text);
        return accept(value) ? std::string() : fmt::format("{} must be {}", text, what);
      },
      what);
}

// A database id: CLI11 reads 9223372036854775808 as INT64_MAX, which names
// another row; this refuses anything that is not a positive int64.
inline const CLI::Validator kId(
    [](std::string& text) -> std::string {
      const auto value = parse_integer(text);
      return value && *value >= 1 ? std::string()
                                  : fmt::format("'{}' is not an id (an integer from 1 to {})",
                                                printable(text), INT64_MAX);
    },
    "ID");

inline const CLI::Validator kNonNegative =
    number_check([](double value) { return value >= 0; }, "0 or more");
inline const CLI::Validator kPositive =
    number_check([](double value) { return value > 0; }, "more than 0");

}  // namespace cli

// "; did you mean --precision?" for a misspelt long option of the command
// that was parsed (its options, or its parents'), "" when none is close
// (at most 2 edits away).
inline std::string option_suggestion(const CLI::App* app) {
  std::vector<const CLI::App*> chain{app};
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (const CLI::App* sub : chain.back()->get_subcommands()) {
      chain.push_back(sub);
      deeper = true;
      break;
    }
  }
  for (const CLI::App* command : chain) {
    for (std::string extra : command->remaining()) {
      if (!extra.starts_with("--")) continue;
      extra = extra.substr(0, extra.find('='));
      std::string best;
      std::size_t best_distance = 3;
      for (const CLI::App* owner : chain) {
        for (const CLI::Option* option : owner->get_options()) {
          for (const std::string& name : option->get_lnames()) {
            const std::size_t distance = edit_distance(extra.substr(2), name);
            if (distance < best_distance) {
              best_distance = distance;
              best = "--" + name;
            }
          }
        }
      }
      if (!best.empty()) return fmt::format("; did you mean {}?", best);
    }
  }
  return "";
}

// describe_failure turns an unexpected exception into its one line (the
// agent cuts LibTorch's backtraces); by default, what().
inline int run_cli(CLI::App& app, int argc, char** argv, const std::string& program,
                   std::string (*describe_failure)(const std::exception&) = nullptr) {
  app.set_version_flag("--version", version_line(program));
  app.failure_message([program](const CLI::App* failed, const CLI::Error& error) {
    return fmt::format("{}: error: {}{} (see --help)\n", program, error.what(),
                       option_suggestion(failed));
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help and --version exit 0; every other parse error is bad input.
    return app.exit(error) == 0 ? 0 : 2;
  } catch (const InputError& error) {
    fmt::print(stderr, "{}: error: {}\n", program, error.what());
    return 2;
  } catch (const std::exception& error) {
    fmt::print(stderr, "{}: failed: {}\n", program,
               printable(describe_failure ? describe_failure(error) : std::string(error.what())));
    return 1;
  }
  return 0;
}

}  // namespace tailsweep
