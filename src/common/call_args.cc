#include "common/call_args.h"

#include <cmath>
#include <iterator>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace snakepit::internal {
namespace {

using Json = nlohmann::json;

// A container being walked. Its parent's `next` has moved past it, so the
// path to it is rebuilt only when an error needs it.
struct Frame {
  const Json* value;
  Json::const_iterator next;
  std::size_t index = 0;  // of `next`, in an array
};

bool IsIdentifier(const std::string& key) {
  if (key.empty() || absl::ascii_isdigit(static_cast<unsigned char>(key[0]))) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// How `parent` reaches the element at `it` (position `index`): "[3]",
// ".key" or "[\"odd key\"]".
std::string Segment(const Json& parent, const Json::const_iterator& it, std::size_t index) {
  if (parent.is_array()) return absl::StrCat("[", index, "]");
  if (IsIdentifier(it.key())) return absl::StrCat(".", it.key());
  return absl::StrCat("[", Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace), "]");
}

// The path of the element the innermost frame visited last ("args.a[2]").
std::string PathOf(const std::vector<Frame>& stack) {
  std::string path = "args";
  for (const Frame& f : stack) absl::StrAppend(&path, Segment(*f.value, std::prev(f.next), f.index - 1));
  return path;
}

// OK, or the error for a number JSON cannot carry, at `path()`.
template <typename PathFn>
absl::Status CheckNumber(const Json& value, PathFn path) {
  if (!value.is_number_float()) return absl::OkStatus();
  const double d = value.get<double>();
  if (std::isfinite(d)) return absl::OkStatus();
  const char* what = std::isnan(d) ? "NaN" : (d > 0 ? "Infinity" : "-Infinity");
  return absl::InvalidArgumentError(absl::StrCat(path(), " is ", what, "; JSON cannot carry it"));
}

absl::Status TooDeep(const std::vector<Frame>& stack) {
  std::string where = PathOf(stack);
  if (where.size() > 200) where = absl::StrCat(where.substr(0, 200), "...");
  return absl::InvalidArgumentError(
      absl::StrCat("args are nested deeper than ", kMaxArgsDepth, " levels (at ", where, ")"));
}

absl::Status CheckTree(const Json& args) {
  if (!args.is_structured()) return CheckNumber(args, [] { return std::string("args"); });
  std::vector<Frame> stack;
  stack.push_back(Frame{&args, args.cbegin(), 0});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.value->cend()) {
      stack.pop_back();
      continue;
    }
    const Json& child = *top.next;
    ++top.next;
    ++top.index;
    if (child.is_structured()) {
      if (stack.size() >= kMaxArgsDepth) return TooDeep(stack);
      stack.push_back(Frame{&child, child.cbegin(), 0});
    } else if (absl::Status s = CheckNumber(child, [&] { return PathOf(stack); }); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckCommandName(std::string_view command) {
  if (command.empty()) return absl::InvalidArgumentError("the command name is empty");
  try {
    // Strict: throws on invalid UTF-8; the text itself is not needed.
    (void)Json(std::string(command)).dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception&) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the command name ", Json(std::string(command)).dump(-1, ' ', true, Json::error_handler_t::replace),
        " is not valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> EncodeArgs(const Json& args) {
  if (absl::Status tree = CheckTree(args); !tree.ok()) return tree;
  try {
    // Strict: invalid UTF-8 in a string is the caller's error, reported as
    // such, never silently replaced.
    return args.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("args cannot be encoded as JSON: ", e.what()));
  }
}

}  // namespace snakepit::internal
