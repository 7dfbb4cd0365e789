#include "common/model/method_spec.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/util/errors.h"
#include "common/util/parse.h"

namespace tailsweep {
namespace {

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw InputError(fmt::format("method '{}': {} (expected {})", text, why, kMethodSpecHelp));
}

int64_t parse_count(std::string_view whole, std::string_view digits, std::string_view what) {
  const auto value = parse_integer(digits);
  if (!value || *value < 0) {
    fail(whole, fmt::format("{} '{}' is not a non-negative integer", what, digits));
  }
  return *value;
}

double parse_real(std::string_view whole, std::string_view digits, std::string_view what) {
  const auto value = parse_double(digits);
  if (!value) fail(whole, fmt::format("{} '{}' is not a number", what, digits));
  return *value;
}

MethodSpec parse_tome(std::string_view whole, std::string_view args) {
  MethodSpec spec;
  spec.kind = MethodKind::kTome;
  if (!args.empty() && args.front() == '[') {
    if (args.back() != ']') fail(whole, "a ToMe list must end with ']'");
    const std::string_view items = args.substr(1, args.size() - 2);
    spec.tome_form = TomeForm::kList;
    if (items.empty()) fail(whole, "the ToMe list is empty");
    for (const std::string_view item : split(items, ',')) {
      spec.tome_list.push_back(parse_count(whole, item, "r"));
    }
    return spec;
  }
  const auto comma = args.find(',');
  spec.r = parse_count(whole, args.substr(0, comma), "r");
  if (comma != std::string_view::npos) {
    spec.tome_form = TomeForm::kInflect;
    spec.tome_inflect = parse_real(whole, args.substr(comma + 1), "inflect");
  }
  return spec;
}

}  // namespace

std::string_view method_kind_name(MethodKind kind) {
  switch (kind) {
    case MethodKind::kNone:
      return "none";
    case MethodKind::kRandom:
      return "random";
    case MethodKind::kTopK:
      return "topk";
    case MethodKind::kPomt:
      return "pomt";
    case MethodKind::kTome:
      return "tome";
  }
  return "?";
}

MethodSpec parse_method_spec(std::string_view text) {
  if (text == "none") return MethodSpec{};
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) fail(text, "unknown method");
  const std::string_view name = text.substr(0, colon);
  const std::string_view args = text.substr(colon + 1);
  if (args.empty()) fail(text, "missing its parameter");

  MethodSpec spec;
  if (name == "random") {
    spec.kind = MethodKind::kRandom;
    spec.keep_tokens = parse_count(text, args, "N");
    if (spec.keep_tokens < 2) fail(text, "random keeps at least 2 tokens (CLS and one patch)");
  } else if (name == "topk") {
    spec.kind = MethodKind::kTopK;
    spec.r = parse_count(text, args, "R");
  } else if (name == "pomt") {
    spec.kind = MethodKind::kPomt;
    const auto at = args.find('@');
    spec.r = parse_count(text, args.substr(0, at), "R");
    spec.layer = at == std::string_view::npos ? kDefaultPomtLayer
                                              : parse_count(text, args.substr(at + 1), "layer");
  } else if (name == "tome") {
    spec = parse_tome(text, args);
  } else {
    fail(text, fmt::format("unknown method '{}'", name));
  }
  return spec;
}

std::string to_string(const MethodSpec& method) {
  switch (method.kind) {
    case MethodKind::kNone:
      return "none";
    case MethodKind::kRandom:
      return fmt::format("random:{}", method.keep_tokens);
    case MethodKind::kTopK:
      return fmt::format("topk:{}", method.r);
    case MethodKind::kPomt:
      return method.layer == kDefaultPomtLayer ? fmt::format("pomt:{}", method.r)
                                               : fmt::format("pomt:{}@{}", method.r, method.layer);
    case MethodKind::kTome:
      switch (method.tome_form) {
        case TomeForm::kConstant:
          return fmt::format("tome:{}", method.r);
        case TomeForm::kInflect:
          return fmt::format("tome:{},{}", method.r, method.tome_inflect);
        case TomeForm::kList:
          return fmt::format("tome:[{}]", fmt::join(method.tome_list, ","));
      }
  }
  return "?";
}

void validate_for_model(const MethodSpec& method, const VitConfig& config) {
  // Called on every forward pass: the spec is formatted only for an error.
  auto fail = [&](const std::string& why) {
    throw InputError(fmt::format("method {}: {}", to_string(method), why));
  };
  if (method.kind == MethodKind::kRandom && method.keep_tokens > config.total_tokens()) {
    fail(fmt::format("model {} has only {} tokens", config.name, config.total_tokens()));
  }
  if (method.kind == MethodKind::kPomt && method.layer >= config.depth) {
    fail(fmt::format("layer {} is past the last block ({} of {})", method.layer, config.depth - 1,
                     config.name));
  }
  if (method.kind == MethodKind::kTome && method.tome_form == TomeForm::kList &&
      static_cast<int64_t>(method.tome_list.size()) > config.depth) {
    fail(fmt::format("{} values for a model of depth {}", method.tome_list.size(), config.depth));
  }
}

std::vector<int64_t> tome_requested_r(const MethodSpec& method, int64_t depth) {
  std::vector<int64_t> per_block(static_cast<std::size_t>(depth), 0);
  if (method.kind != MethodKind::kTome) return per_block;
  if (method.tome_form == TomeForm::kList) {
    for (std::size_t i = 0; i < per_block.size() && i < method.tome_list.size(); ++i) {
      per_block[i] = method.tome_list[i];
    }
    return per_block;
  }
  const double inflect = method.tome_form == TomeForm::kInflect ? method.tome_inflect : 0.0;
  const double r = static_cast<double>(method.r);
  // Same arithmetic as ToMe's parse_r, including Python's int() truncation
  // toward zero, so schedules match the reference exactly.
  const double min_val = std::trunc(r * (1.0 - inflect));
  const double max_val = 2.0 * r - min_val;
  const double step = depth > 1 ? (max_val - min_val) / static_cast<double>(depth - 1) : 0.0;
  for (int64_t i = 0; i < depth; ++i) {
    const double value = std::trunc(min_val + step * static_cast<double>(i));
    per_block[static_cast<std::size_t>(i)] = std::max<int64_t>(0, static_cast<int64_t>(value));
  }
  return per_block;
}

}  // namespace tailsweep
