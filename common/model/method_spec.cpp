#include "common/model/method_spec.h"

#include <algorithm>

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

// "heads=0.1,blocks=0.5,approx=1,frac=8": any of the keys, each once.
HdpSpec parse_hdp(std::string_view whole, std::string_view args) {
  if (args.empty()) fail(whole, "hdp: needs at least one of heads, blocks, approx, frac");
  HdpSpec hdp;
  std::vector<std::string_view> seen;
  for (const std::string_view item : split(args, ',')) {
    const auto equals = item.find('=');
    if (equals == std::string_view::npos)
      fail(whole, fmt::format("hdp '{}' is not KEY=VALUE", item));
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      fail(whole, fmt::format("hdp key '{}' is given twice", key));
    }
    seen.push_back(key);
    if (key == "heads") {
      hdp.head_threshold = parse_real(whole, value, "heads");
      if (!(hdp.head_threshold >= 0 && hdp.head_threshold <= 1)) {
        fail(whole, "hdp heads= is a share of the strongest head's importance, in [0, 1]");
      }
    } else if (key == "blocks") {
      hdp.block_keep = parse_real(whole, value, "blocks");
      if (!(hdp.block_keep > 0 && hdp.block_keep <= 1)) {
        fail(whole, "hdp blocks= is the share of blocks each row keeps, in (0, 1]");
      }
    } else if (key == "approx") {
      if (value != "0" && value != "1") fail(whole, "hdp approx= is 0 or 1");
      hdp.approximate = value == "1";
    } else if (key == "frac") {
      hdp.frac_bits = parse_count(whole, value, "frac");
      if (hdp.frac_bits > 16) fail(whole, "hdp frac= is 0..16 fractional bits");
    } else {
      fail(whole, fmt::format("unknown hdp key '{}' (heads, blocks, approx, frac)", key));
    }
  }
  return hdp;
}

// text: the token method; whole: the spec it is part of, for errors.
MethodSpec parse_token_method(std::string_view whole, std::string_view text) {
  if (text == "none") return MethodSpec{};
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) fail(whole, "unknown method");
  const std::string_view name = text.substr(0, colon);
  const std::string_view args = text.substr(colon + 1);
  if (args.empty()) fail(whole, "missing its parameter");

  MethodSpec spec;
  if (name == "random") {
    spec.kind = MethodKind::kRandom;
    spec.keep_tokens = parse_count(whole, args, "N");
    if (spec.keep_tokens < 2) fail(whole, "random keeps at least 2 tokens (CLS and one patch)");
  } else if (name == "topk") {
    spec.kind = MethodKind::kTopK;
    spec.r = parse_count(whole, args, "R");
  } else if (name == "pomt") {
    spec.kind = MethodKind::kPomt;
    const auto at = args.find('@');
    spec.r = parse_count(whole, args.substr(0, at), "R");
    spec.layer = at == std::string_view::npos ? kDefaultPomtLayer
                                              : parse_count(whole, args.substr(at + 1), "layer");
  } else if (name == "tome") {
    spec = parse_tome(whole, args);
  } else {
    fail(whole, fmt::format("unknown method '{}'", name));
  }
  return spec;
}

std::string token_method_text(const MethodSpec& method) {
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

std::vector<std::string> split_method_list(std::string_view text) {
  static constexpr std::string_view kStarts[] = {
      "none", "random:", "topk:", "pomt:", "tome:", "hdp:"};
  const auto starts_a_spec = [](std::string_view rest) {
    for (const std::string_view start : kStarts) {
      if (!rest.starts_with(start)) continue;
      // "none" is a whole spec: followed by the end, a comma or "+".
      if (start != "none" || rest.size() == 4 || rest[4] == ',' || rest[4] == '+') return true;
    }
    return false;
  };
  std::vector<std::string> items;
  std::size_t begin = 0;
  int depth = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const bool end = i == text.size();
    if (!end && text[i] == '[') ++depth;
    if (!end && text[i] == ']') --depth;
    if (end || (text[i] == ',' && depth == 0 && starts_a_spec(text.substr(i + 1)))) {
      const std::string item(text.substr(begin, i - begin));
      if (item.empty() || item.back() == ',') {
        throw InputError(
            fmt::format("method list '{}': an empty item (specs are separated by one "
                        "comma)",
                        text));
      }
      items.push_back(item);
      begin = i + 1;
    }
  }
  return items;
}

MethodSpec parse_method_spec(std::string_view text) {
  constexpr std::string_view kHdp = "hdp:";
  if (text.substr(0, kHdp.size()) == kHdp) {
    MethodSpec spec;
    spec.hdp = parse_hdp(text, text.substr(kHdp.size()));
    return spec;
  }
  const auto plus = text.find('+');
  MethodSpec spec = parse_token_method(text, text.substr(0, plus));
  if (plus != std::string_view::npos) {
    const std::string_view rest = text.substr(plus + 1);
    if (rest.substr(0, kHdp.size()) != kHdp) {
      fail(text, fmt::format("'+' joins a token method to hdp:..., not to '{}'", rest));
    }
    spec.hdp = parse_hdp(text, rest.substr(kHdp.size()));
  }
  return spec;
}

std::string to_string(const MethodSpec& method) {
  if (!method.hdp) return token_method_text(method);
  const HdpSpec& h = *method.hdp;
  const std::string hdp = fmt::format("hdp:heads={},blocks={},approx={},frac={}", h.head_threshold,
                                      h.block_keep, h.approximate ? 1 : 0, h.frac_bits);
  return method.kind == MethodKind::kNone ? hdp : token_method_text(method) + "+" + hdp;
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
